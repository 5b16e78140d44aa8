/**
 * The PostgreSQL store against a real server: a local cluster started for this file
 * (local-cluster.ts; PostgreSQL must be installed — the error says how), one database, emptied
 * before each store the contract suite makes.
 */
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StoreError, StoreUnavailable, unitScope } from '@sfm/core/cache';
import { sampleHolder, sampleInfo, sampleKey, sampleWaveform, storedEvents, storeContractSuite } from '@sfm/test-kit';
import { serverForTests, type LocalCluster } from './local-cluster.js';
import { MIGRATIONS, PostgresStore, SCHEMA_VERSION, migrate } from './index.js';

let cluster: LocalCluster;
let url: string;
let admin: pg.Client;

beforeAll(async () => {
  cluster = await serverForTests();
  url = await cluster.createDatabase();
  admin = new pg.Client({ connectionString: url });
  await admin.connect();
  // The schema once, so that emptying it between stores is possible.
  await (await PostgresStore.open(url)).close();
}, 60_000);
afterAll(async () => {
  await admin?.end();
  cluster?.stop();
});

/** Every table of the schema emptied, identities restarted, the totals back to zero: a fresh store. */
async function empty(): Promise<void> {
  // DELETE, not TRUNCATE: on tables this small it is several times faster.
  await admin.query(`DELETE FROM live_events; DELETE FROM waveforms; DELETE FROM archive_events; DELETE FROM identities; DELETE FROM device_info;
    DELETE FROM event_sync; DELETE FROM monitor_status; DELETE FROM units; DELETE FROM sessions; DELETE FROM leases; DELETE FROM durable_mark;
    UPDATE kind_totals SET entries = 0, bytes = 0;
    ALTER TABLE archive_events ALTER COLUMN id RESTART; ALTER TABLE sessions ALTER COLUMN id RESTART`);
}

const fresh = async (): Promise<PostgresStore> => {
  await empty();
  return PostgresStore.open(url);
};

storeContractSuite('postgres', fresh, { describe, it, expect, beforeEach, afterEach }, {
  makeSharedPair: async () => {
    await empty();
    return [await PostgresStore.open(url), await PostgresStore.open(url)];
  },
});

describe('PostgresStore', () => {
  let store: PostgresStore;
  beforeEach(async () => {
    store = await fresh();
  });
  afterEach(async () => {
    await store.close();
  });

  it("is kind 'postgres', persistent, shared and not evicting; the schema is at the version this code writes", async () => {
    expect(store.kind).toBe('postgres');
    expect(store.capabilities).toEqual({ persistent: true, evicts: false, shared: true });
    const { rows } = await admin.query('SELECT max(version) AS v FROM sfm_schema');
    expect(rows[0].v).toBe(SCHEMA_VERSION);
  });

  it('keeps waveforms as bytea: each channel its samples as little-endian int16, nothing else', async () => {
    const w = sampleWaveform(sampleKey(3), '2026-04-09T07:00:03', 100, { seed: 2 });
    await store.putWaveform('BE18189', w);
    const { rows } = await admin.query('SELECT tran, micl, pg_typeof(tran)::text AS type FROM waveforms');
    expect(rows[0].type).toBe('bytea');
    expect(Buffer.compare(rows[0].tran, Buffer.from(w.channels.Tran.buffer, w.channels.Tran.byteOffset, w.channels.Tran.byteLength))).toBe(0);
    expect(rows[0].micl.length).toBe(2 * w.channels.MicL.length);
  });

  it('migrates once when several relays open an empty database at the same moment', async () => {
    const db = await cluster.createDatabase();
    const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresStore.open(db)));
    const c = new pg.Client({ connectionString: db });
    await c.connect();
    try {
      const { rows } = await c.query('SELECT version FROM sfm_schema ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    } finally {
      await c.end();
      for (const s of stores) await s.close();
    }
  });

  it('refuses a database written by a newer sfm, naming both versions', async () => {
    const db = await cluster.createDatabase();
    await (await PostgresStore.open(db)).close();
    const c = new pg.Client({ connectionString: db });
    await c.connect();
    try {
      await c.query("INSERT INTO sfm_schema (version, name) VALUES ($1, 'from the future')", [SCHEMA_VERSION + 1]);
      const err = await PostgresStore.open(db).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as Error).message).toContain(`has schema version ${SCHEMA_VERSION + 1}, newer than this sfm knows (${SCHEMA_VERSION})`);
      expect(await migrate(c, 'x', MIGRATIONS).catch((e: Error) => e.message)).toContain('newer than this sfm knows');
    } finally {
      await c.end();
    }
  });

  it('a server nobody answers at is StoreUnavailable naming it (and never its password)', async () => {
    const err = await PostgresStore.open(`postgres://sfm:secret@127.0.0.1:${cluster.port + 1}/sfm`, { connectTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailable);
    expect((err as Error).message).toContain(`cannot open the PostgreSQL store at postgres://sfm:***@127.0.0.1:${cluster.port + 1}/sfm`);
    expect((err as Error).message).not.toContain('secret');
  });

  it('a database that does not exist is StoreUnavailable saying to create it', async () => {
    const err = await PostgresStore.open(cluster.url('no_such_db')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreUnavailable);
    expect((err as Error).message).toMatch(/database "no_such_db" does not exist \(create it first/);
  });

  it('a lease whose holder was killed is free at its stated expiry, not before', async () => {
    // The holder "dies": it took the lease and never renews it.
    const key = unitScope('BE18189');
    const dead = sampleHolder('dead', 1000);
    expect(await store.leases.tryAcquire(key, dead, { now: 0 })).toEqual({ acquired: true });
    const other = sampleHolder('other', 5000);
    expect(await store.leases.tryAcquire(key, other, { now: 999 })).toEqual({ acquired: false, heldBy: dead });
    expect(await store.leases.tryAcquire(key, other, { now: 1000 })).toEqual({ acquired: true });
  });

  it('after the LISTEN connection is cut, it listens again and tells its listeners everything may have changed', async () => {
    const other = await PostgresStore.open(url);
    try {
      const heard: (readonly string[] | 'all')[] = [];
      store.onChange((s) => heard.push(s));
      // The server ends every LISTEN connection of the database (as a restart or a proxy would).
      await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sfm listen' AND datname = current_database()");
      const deadline = Date.now() + 10_000;
      for (;;) {
        store.pollChanges();
        if (heard.includes('all') && store.listening && (await listening())) break;
        if (Date.now() > deadline) throw new Error('the change feed did not come back');
        await new Promise((r) => setTimeout(r, 20));
      }
      // Listening again: a write through the other store is heard by scope once more.
      heard.length = 0;
      store.pollChanges();
      heard.length = 0;
      await other.putInfo('BE18189', sampleInfo('BE18189'), 1);
      store.pollChanges();
      expect(heard).toEqual([[unitScope('BE18189')]]);
    } finally {
      await other.close();
    }
  });

  it('appends a long batch in a few statements, ids in the order of the batch', async () => {
    await store.appendEvents('BE18189', storedEvents(0, 500));
    const { rows } = await admin.query('SELECT key FROM archive_events ORDER BY id');
    expect(rows.map((r) => Number(r.key))).toEqual(storedEvents(0, 500).map((e) => e.key));
    expect(await store.eventCount('BE18189')).toBe(500);
  });
});

async function listening(): Promise<boolean> {
  const { rows } = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'sfm listen' AND datname = current_database()");
  return rows[0].n > 0;
}
