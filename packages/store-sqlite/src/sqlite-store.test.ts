import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError, StoreUnavailable } from '@sfm/core/cache';
import { sampleInfo, sampleKey, sampleStatus, sampleWaveform, storedEvent, storedEvents, storeContractSuite } from '@sfm/test-kit';
import { encodeWaveformBlob } from './waveform-blob.js';
import { ROW_OVERHEAD_BYTES } from './schema.js';
import { DEFAULT_SQLITE_PATH, MIGRATIONS, SCHEMA_VERSION, SqliteStore, migrate, type Migration } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'sfm-store-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = (): string => join(dir, `t${++n}`, 'sfm.db');

storeContractSuite('sqlite (file)', () => new SqliteStore(freshPath()), { describe, it, expect, beforeEach, afterEach }, {
  makeSharedPair: async () => {
    const path = freshPath();
    return [new SqliteStore(path), new SqliteStore(path)];
  },
});
storeContractSuite('sqlite (:memory:)', () => new SqliteStore(':memory:'), { describe, it, expect, beforeEach, afterEach });

const ADDR = 'tcp:10.20.0.7:12345';
const S = 'BE18189';
const T0 = 1_775_000_000_000;

/** Everything of every kind for one unit, as the relay would leave it. */
async function fill(s: SqliteStore): Promise<void> {
  await s.putIdentity(ADDR, { serial: S, confirmedAt: T0 });
  await s.putInfo(S, sampleInfo(S), T0);
  await s.markInfoDirty(S);
  await s.appendEvents(S, storedEvents(0, 50, T0), { first: sampleKey(0), last: sampleKey(49), counter: 61, complete: true, probedAt: T0 + 1 });
  await s.putWaveform(S, sampleWaveform(sampleKey(7), '2026-04-09T07:00:07', 10240, { index: 7 }));
  await s.putStatus(S, sampleStatus(), T0 + 2);
}

async function expectFilled(s: SqliteStore): Promise<void> {
  expect(await s.getIdentity(ADDR)).toEqual({ serial: S, confirmedAt: T0 });
  expect(await s.getInfo(S)).toEqual({ info: sampleInfo(S), fetchedAt: T0, dirty: true });
  expect(await s.eventCount(S)).toBe(50);
  expect(await s.getEvents(S)).toEqual(storedEvents(0, 50, T0));
  expect(await s.getEventSync(S)).toEqual({ first: sampleKey(0), last: sampleKey(49), counter: 61, complete: true, probedAt: T0 + 1 });
  const w = await s.getWaveform(S, sampleKey(7), '2026-04-09T07:00:07');
  const want = sampleWaveform(sampleKey(7), '2026-04-09T07:00:07', 10240, { index: 7 });
  expect(w && { ...w, channels: null }).toEqual({ ...want, channels: null });
  for (const ch of ['Tran', 'Vert', 'Long', 'MicL'] as const) expect(Buffer.from(w!.channels[ch].buffer, w!.channels[ch].byteOffset, w!.channels[ch].byteLength).equals(Buffer.from(want.channels[ch].buffer))).toBe(true);
  expect(await s.getStatus(S)).toEqual({ status: sampleStatus(), fetchedAt: T0 + 2 });
}

/** A second, plain connection to inspect the file. */
function raw(path: string): Database.Database {
  return new Database(path, { readonly: false, timeout: 5000 });
}

describe('SqliteStore', () => {
  it("is kind 'sqlite', persistent, shared and not evicting; opens with WAL, NORMAL sync, busy timeout and foreign keys", () => {
    const s = new SqliteStore(freshPath());
    try {
      expect(s.kind).toBe('sqlite');
      expect(s.capabilities).toEqual({ persistent: true, evicts: false, shared: true });
      const db = s['db'];
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    } finally {
      s.close();
    }
  });

  it('creates its own missing folder, and no more: a path whose folder\'s parent is missing too is refused, nothing created', () => {
    const path = join(dir, 'own-folder', 'sfm.db');
    new SqliteStore(path).close();
    expect(existsSync(path)).toBe(true);
    const deep = join(dir, 'deep', 'er', 'sfm.db');
    expect(() => new SqliteStore(deep)).toThrow(
      `cannot create the folder ${join(dir, 'deep', 'er')} for the SQLite store at ${deep}: its parent ${join(dir, 'deep')} does not exist either (sfm creates only the store's own folder: create the parent, or give another path)`,
    );
    expect(existsSync(join(dir, 'deep'))).toBe(false);
  });

  it('defaults to ./data/sfm.db under the working folder', () => {
    expect(DEFAULT_SQLITE_PATH).toBe('./data/sfm.db');
    const cwd = process.cwd();
    const here = join(dir, 'default-path');
    mkdirSync(here);
    process.chdir(here);
    try {
      const s = new SqliteStore();
      s.close();
      expect(existsSync(join(here, 'data', 'sfm.db'))).toBe(true);
    } finally {
      process.chdir(cwd);
    }
  });

  it('keeps everything across a close and a reopen of the same file', async () => {
    const path = freshPath();
    const a = new SqliteStore(path);
    await fill(a);
    const before = await a.stats();
    await a.close();
    const b = new SqliteStore(path);
    try {
      await expectFilled(b);
      expect(await b.stats()).toEqual(before);
      // and keeps going where it stopped
      await b.appendEvents(S, [storedEvent(50)]);
      expect(await b.eventCount(S)).toBe(51);
    } finally {
      await b.close();
    }
  });

  it('close() folds the WAL into the database file', async () => {
    const path = freshPath();
    const s = new SqliteStore(path);
    await fill(s);
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(0);
    await s.close();
    expect(!existsSync(`${path}-wal`) || statSync(`${path}-wal`).size === 0).toBe(true);
  });

  it('an abandoned connection (never closed) leaves committed data readable and the file intact', async () => {
    const path = freshPath();
    const crashed = new SqliteStore(path);
    await fill(crashed);
    // A snapshot of the files as a crash would leave them: database plus WAL, never checkpointed.
    const copy = join(dir, `crash-copy-${n}.db`);
    copyFileSync(path, copy);
    copyFileSync(`${path}-wal`, `${copy}-wal`);

    const second = new SqliteStore(path); // a second connection while the first is still open
    try {
      await expectFilled(second);
      expect(second['db'].pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      await second.close();
    }
    const recovered = new SqliteStore(copy);
    try {
      await expectFilled(recovered);
      expect(recovered['db'].pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      await recovered.close();
    }
    crashed['db'].close(); // let go of the file handle without the store's checkpoint
  });

  it('two connections to one file see each other’s committed writes', async () => {
    const path = freshPath();
    const a = new SqliteStore(path);
    const b = new SqliteStore(path);
    try {
      await a.appendEvents(S, storedEvents(0, 3));
      expect(await b.eventCount(S)).toBe(3);
      await b.appendEvents(S, storedEvents(3, 2));
      expect(new TextDecoder().decode(await a.getEventsJson(S))).toBe(JSON.stringify(storedEvents(0, 5).map((e) => e.event)));
      await expect(a.appendEvents(S, [storedEvent(3)])).rejects.toBeInstanceOf(StoreError);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('archives events as contract-Event JSON text without their index, the live list pointing at them; waveforms as a compact BLOB', async () => {
    const path = freshPath();
    const s = new SqliteStore(path);
    await s.appendEvents(S, storedEvents(0, 3, T0));
    const w = sampleWaveform(sampleKey(1), '2026-04-09T07:00:01', 10240, { index: 1 });
    await s.putWaveform(S, w);
    await s.close();
    const db = raw(path);
    try {
      const events = db.prepare('SELECT l.idx, a.key, a.ts, a.geo_range, a.fetched_at, a.received_at, typeof(a.body) AS t, a.body FROM live_events l JOIN archive_events a ON a.id = l.event_id ORDER BY l.idx').all() as Array<Record<string, unknown>>;
      expect(events.map((r) => r.t)).toEqual(['text', 'text', 'text']);
      expect(events.map((r) => r.body)).toEqual(storedEvents(0, 3).map(({ event: { index: _live, ...rest } }) => JSON.stringify(rest)));
      expect(events[1]).toMatchObject({ idx: 1, key: sampleKey(1), ts: '2026-04-09T07:00:01', geo_range: 'normal', fetched_at: T0, received_at: T0 });
      const wf = db.prepare('SELECT typeof(data) AS t, length(data) AS len, key, ts FROM waveforms').get() as Record<string, unknown>;
      expect(wf).toEqual({ t: 'blob', len: 40 + 4 * 10240 * 2, key: sampleKey(1), ts: '2026-04-09T07:00:01' });
    } finally {
      db.close();
    }
  });

  it('builds getEventsJson in SQL for a long list, exactly', async () => {
    const s = new SqliteStore(':memory:');
    try {
      const all = storedEvents(0, 1000);
      for (let i = 0; i < 1000; i += 100) await s.appendEvents(S, all.slice(i, i + 100));
      expect(new TextDecoder().decode(await s.getEventsJson(S))).toBe(JSON.stringify(all.map((e) => e.event)));
      expect(await s.eventCount(S)).toBe(1000);
    } finally {
      await s.close();
    }
  });

  it('rolls back a batch a constraint rejects halfway and reports it as StoreError', async () => {
    const s = new SqliteStore(':memory:');
    try {
      const bad = storedEvent(1);
      (bad as { geoRange: string }).geoRange = 'bogus';
      await expect(s.appendEvents(S, [storedEvent(0), bad], { first: 1, last: 2, counter: 2, complete: true, probedAt: T0 })).rejects.toBeInstanceOf(StoreError);
      expect(await s.eventCount(S)).toBe(0);
      expect(await s.getEventSync(S)).toBeUndefined();
      await expect(s.putWaveform(S, { ...sampleWaveform(1, null, 4), geoRange: 'bogus' as never })).rejects.toBeInstanceOf(StoreError);
      expect((await s.stats()).waveform.entries).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('a read-only or full database is StoreUnavailable naming the cause; reads still work', async () => {
    const s = new SqliteStore(freshPath());
    try {
      await fill(s);
      s['db'].pragma('query_only = 1');
      const ro = await s.putStatus(S, sampleStatus(), T0).catch((e: unknown) => e);
      expect(ro).toBeInstanceOf(StoreUnavailable);
      expect((ro as Error).message).toMatch(/the database is read-only/);
      expect((await s.getStatus(S))?.fetchedAt).toBe(T0 + 2);
      s['db'].pragma('query_only = 0');
      // A disk that fills up: no more pages than the file has now.
      const pages = s['db'].pragma('page_count', { simple: true }) as number;
      s['db'].pragma(`max_page_count = ${pages}`);
      const full = await s.putWaveform(S, sampleWaveform(sampleKey(9), 'T', 200_000, { index: 9 })).catch((e: unknown) => e);
      expect(full).toBeInstanceOf(StoreUnavailable);
      expect((full as Error).message).toMatch(/the disk is full/);
      // nothing half-written
      expect(await s.getWaveform(S, sampleKey(9), 'T')).toBeUndefined();
      await expectFilled(s);
    } finally {
      await s.close();
    }
  });
});

describe('stats kept by triggers', () => {
  it('always equal a full recount of the tables, through every kind of write', async () => {
    const s = new SqliteStore(':memory:');
    const recount = (): Record<string, { entries: number; bytes: number }> => {
      const db = s['db'];
      const one = (sql: string) => {
        const [entries, bytes] = db.prepare(sql).raw().get() as [number, number];
        return { entries, bytes };
      };
      const events = one('SELECT count(*), coalesce(sum(octet_length(a.body)), 0) + 32 * count(*) FROM live_events l JOIN archive_events a ON a.id = l.event_id');
      events.bytes += 24 * (db.prepare('SELECT count(*) FROM event_sync').pluck().get() as number);
      return {
        device_info: one('SELECT count(*), coalesce(sum(octet_length(json)), 0) + 32 * count(*) FROM device_info'),
        events,
        waveform: one('SELECT count(*), coalesce(sum(length(data) + coalesce(length(document), 0)), 0) + 32 * count(*) FROM waveforms'),
        monitor_status: one('SELECT count(*), coalesce(sum(octet_length(json)), 0) + 32 * count(*) FROM monitor_status'),
      };
    };
    const serials = [S, 'BE2', 'BE3'];
    const addrs = [ADDR, 'serial:/dev/ttyS0:38400'];
    const op = fc.record({ t: fc.nat(8), u: fc.nat(2), k: fc.nat(3), n: fc.nat(5), len: fc.nat(50), s: fc.boolean() });
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
          for (const o of ops) {
            const x = serials[o.u]!;
            if (o.t === 0) await s.putInfo(x, sampleInfo(x, { firmware: 'é'.repeat(o.n) }), T0);
            else if (o.t === 1) await s.appendEvents(x, storedEvents(await s.eventCount(x), o.n), o.s ? { first: 0, last: o.n, counter: o.n, complete: true, probedAt: T0 } : undefined);
            else if (o.t === 2) await s.putWaveform(x, sampleWaveform(sampleKey(o.k), o.s ? null : 'T', o.len));
            else if (o.t === 3) await s.putStatus(x, sampleStatus({ clock: o.s ? null : 'x'.repeat(o.n) }), T0);
            else if (o.t === 4) await s.deleteStatus(x);
            else if (o.t === 5) await s.dropEvents(x);
            else if (o.t === 6) await s.putIdentity(addrs[o.k % 2]!, { serial: x, confirmedAt: T0 });
            else if (o.t === 7) await s.clearConnection(addrs[o.k % 2]!);
            else await s.markInfoDirty(x);
            expect(await s.stats()).toEqual(recount());
          }
        }),
        { numRuns: 30 },
      );
    } finally {
      await s.close();
    }
  });
});

describe('schema migrations', () => {
  it('a new file gets every migration; reopening applies none', () => {
    const path = freshPath();
    new SqliteStore(path).close();
    const db = raw(path);
    try {
      expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      const tables = (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all() as string[]);
      expect(tables).toEqual([
        'archive_events', 'change_log', 'change_seq', 'device_info', 'durable_mark', 'event_sync', 'identities', 'kind_totals', 'leases', 'live_events', 'monitor_status',
        'sessions', 'sqlite_sequence', 'units', 'waveforms',
      ]);
      expect(db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'archive_events' AND sql IS NOT NULL ORDER BY name").pluck().all()).toEqual([
        'archive_newest', 'archive_pvs', 'archive_received', 'archive_unit_newest',
      ]);
      expect(migrate(db)).toBe(MIGRATIONS.length);
    } finally {
      db.close();
    }
  });

  it('applies the missing migrations in order, and none of them when one fails', () => {
    const db = new Database(':memory:');
    try {
      const applied: string[] = [];
      const m = (name: string, sql: string): Migration => ({ name, up: (d) => (applied.push(name), d.exec(sql)) });
      const list = [m('one', 'CREATE TABLE a (x)'), m('two', 'CREATE TABLE b (x)')];
      expect(migrate(db, list.slice(0, 1))).toBe(0);
      expect(migrate(db, list)).toBe(1);
      expect(applied).toEqual(['one', 'two']);
      expect(db.pragma('user_version', { simple: true })).toBe(2);

      const failing = [...list, m('three', 'CREATE TABLE c (x)'), m('four', 'THIS IS NOT SQL')];
      expect(() => migrate(db, failing)).toThrow(/migration 4 \(four\) failed/);
      expect(db.pragma('user_version', { simple: true })).toBe(2);
      expect(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'c'").pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });

  it('a cache written by the previous sfm (schema v1) opens with its data, now kept per serial', async () => {
    const path = freshPath();
    mkdirSync(join(path, '..'), { recursive: true });
    const old = new Database(path);
    migrate(old, MIGRATIONS.slice(0, 1));
    const ev = (conn: string, idx: number, at: number) =>
      old.prepare('INSERT INTO events (conn_key, serial, idx, key, timestamp, geo_range, fetched_at, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(conn, S, idx, sampleKey(idx), storedEvent(idx).event.timestamp, 'normal', at, JSON.stringify(storedEvent(idx).event));
    old.prepare('INSERT INTO unit_serial VALUES (?, ?)').run(ADDR, S);
    old.prepare('INSERT INTO device_info VALUES (?, ?, ?, ?, 0)').run(ADDR, S, JSON.stringify(sampleInfo(S)), T0);
    old.prepare('INSERT INTO device_info VALUES (?, ?, ?, ?, 1)').run('tcp:old-name:12345', S, JSON.stringify(sampleInfo(S, { firmware: 'old' })), T0 - 1000);
    for (let i = 0; i < 3; i++) ev(ADDR, i, T0);
    ev('tcp:old-name:12345', 0, T0 - 1000);
    old.prepare('INSERT INTO event_sync VALUES (?, ?, ?, ?, ?)').run(ADDR, S, sampleKey(0), sampleKey(3), T0 + 5);
    old.prepare('INSERT INTO waveforms VALUES (?, ?, ?, ?, ?, ?)').run(ADDR, S, sampleKey(1), storedEvent(1).event.timestamp, T0, encodeWaveformBlob(sampleWaveform(sampleKey(1), storedEvent(1).event.timestamp, 16, { index: 1 })));
    old.close();

    const s = new SqliteStore(path);
    try {
      expect(await s.getIdentity(ADDR)).toEqual({ serial: S, confirmedAt: 0 }); // to be confirmed by one serial read
      expect(await s.getInfo(S)).toEqual({ info: sampleInfo(S), fetchedAt: T0, dirty: false }); // the newest copy
      expect(await s.getEvents(S)).toEqual(storedEvents(0, 3, T0));
      expect(await s.getEventSync(S)).toEqual({ first: sampleKey(0), last: sampleKey(3), counter: null, complete: true, probedAt: T0 + 5 });
      expect(await s.getWaveform(S, sampleKey(1), storedEvent(1).event.timestamp)).not.toBeUndefined();
      expect((await s.stats()).events.entries).toBe(3);
      expect(s['db'].pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      await s.close();
    }
  });

  it('events cached before v4 are served with end_timestamp and trigger_level_ips null, their bytes counted', async () => {
    const path = freshPath();
    mkdirSync(join(path, '..'), { recursive: true });
    const old = new Database(path);
    migrate(old, MIGRATIONS.slice(0, 3));
    const rows = storedEvents(0, 3, T0);
    for (const e of rows) {
      const { end_timestamp: _end, trigger_level_ips: _level, ...before } = e.event; // the row as sfm wrote it then
      old.prepare('INSERT INTO events (serial, idx, key, timestamp, geo_range, fetched_at, json) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(S, e.event.index, e.key, e.event.timestamp, 'normal', T0, JSON.stringify(before));
    }
    old.close();

    const s = new SqliteStore(path);
    try {
      expect(await s.getEvents(S)).toEqual(rows);
      const served = JSON.parse(new TextDecoder().decode(await s.getEventsJson(S))) as Record<string, unknown>[];
      for (const e of served) expect(e).toMatchObject({ end_timestamp: null, trigger_level_ips: null });
      // (v5 moved the rows into the archive: every row's new text is counted there)
      const text = s['db'].prepare('SELECT sum(octet_length(body)) FROM archive_events').pluck().get() as number;
      const totals = s['db'].prepare("SELECT bytes FROM kind_totals WHERE kind = 'archive_events'").pluck().get() as number;
      expect(totals - text).toBe(3 * ROW_OVERHEAD_BYTES);
    } finally {
      await s.close();
    }
  });

  it('a cache written before the archive (v4) opens with its lists as archived events, its waveforms and its units', async () => {
    const path = freshPath();
    mkdirSync(join(path, '..'), { recursive: true });
    const old = new Database(path);
    migrate(old, MIGRATIONS.slice(0, 4));
    const rows = storedEvents(0, 3, T0);
    for (const e of rows) {
      old.prepare('INSERT INTO events (serial, idx, key, timestamp, geo_range, fetched_at, json) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(S, e.event.index, e.key, e.event.timestamp, 'normal', T0, JSON.stringify(e.event));
    }
    old.prepare('INSERT INTO event_sync VALUES (?, ?, ?, ?, ?, ?)').run(S, sampleKey(0), sampleKey(3), 3, 1, T0 + 5);
    old.prepare('INSERT INTO identities VALUES (?, ?, ?)').run(ADDR, S, T0 + 5);
    old.prepare('INSERT INTO device_info VALUES (?, ?, ?, 0)').run(S, JSON.stringify(sampleInfo(S)), T0);
    old.prepare('INSERT INTO monitor_status VALUES (?, ?, ?)').run(S, JSON.stringify(sampleStatus()), T0 + 2);
    const w = sampleWaveform(sampleKey(1), rows[1]!.event.timestamp, 16, { index: 1 });
    old.prepare('INSERT INTO waveforms (serial, key, timestamp, fetched_at, data) VALUES (?, ?, ?, ?, ?)').run(S, w.key, w.timestamp, T0, encodeWaveformBlob(w));
    const listBefore = Buffer.from(old.prepare(`SELECT '[' || group_concat(json, ',' ORDER BY idx) || ']' FROM events WHERE serial = ?`).pluck().get(S) as string);
    old.close();

    const s = new SqliteStore(path);
    try {
      expect(await s.getEvents(S)).toEqual(rows);
      expect(Buffer.from((await s.getEventsJson(S))!).equals(listBefore)).toBe(true); // byte for byte
      expect(await s.getEventSync(S)).toEqual({ first: sampleKey(0), last: sampleKey(3), counter: 3, complete: true, probedAt: T0 + 5 });
      const page = await s.archive.events({ serial: S, limit: 10 });
      expect(page.items.map((e) => [e.key, e.received_at, e.source, e.has_waveform])).toEqual(
        [2, 1, 0].map((i) => [rows[i]!.event.key, new Date(T0).toISOString(), 'call-up', i === 1]),
      );
      expect(await s.getWaveform(S, w.key, w.timestamp)).toMatchObject({ key: w.key, timestamp: w.timestamp, index: 1 });
      const unit = await s.archive.unit(S);
      expect(unit).toMatchObject({ serial: S, last_address: ADDR, event_count: 3, info: sampleInfo(S), last_status: sampleStatus(), first_seen: new Date(T0).toISOString(), last_seen: new Date(T0 + 5).toISOString() });
      // The live list is a view: dropping it keeps the archive.
      await s.dropEvents(S);
      expect((await s.archive.events({ serial: S, limit: 10 })).items).toHaveLength(3);
      expect(s['db'].pragma('integrity_check', { simple: true })).toBe('ok');
      expect(s['db'].pragma('foreign_key_check')).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('refuses a database written by a newer sfm, and leaves it untouched', () => {
    const path = freshPath();
    new SqliteStore(path).close();
    const db = raw(path);
    db.pragma('journal_mode = DELETE');
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    let error: unknown;
    try {
      new SqliteStore(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StoreError);
    expect((error as Error).message).toMatch(new RegExp(`schema version ${SCHEMA_VERSION + 5}, newer than this sfm knows \\(${SCHEMA_VERSION}\\)`));
    const check = raw(path);
    expect(check.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 5);
    expect(check.pragma('journal_mode', { simple: true })).toBe('delete'); // not even switched to WAL
    check.close();
  });
});

// Regression: creating the folder and opening the file happened outside the StoreError wrapping,
// so a bad --store path surfaced as a bare "EEXIST: file already exists, mkdir …" or "unable to
// open database file" (no path), not as a cache-store error.
describe('a store path that cannot be used', () => {
  it('a folder that cannot be created (a file is in the way): StoreError naming the path and why', () => {
    const base = join(dir, 'blocked');
    mkdirSync(base, { recursive: true });
    writeFileSync(join(base, 'afile'), 'not a folder');
    for (const path of [join(base, 'afile', 'cache.db'), join(base, 'afile', 'sub', 'cache.db')]) {
      let error: unknown;
      try {
        new SqliteStore(path);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toContain(`for the SQLite store at ${path}: a part of that path is a file, not a folder`);
    }
  });

  it('a path that is a folder: StoreError naming the path', () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder, { recursive: true });
    expect(() => new SqliteStore(folder)).toThrow(StoreError);
    expect(() => new SqliteStore(folder)).toThrow(`cannot open the SQLite store at ${folder}: unable to open database file`);
  });
});

describe('the archive\'s peak filter', () => {
  it('a filter few events meet and one most events meet answer the same pages as filtering every row', async () => {
    const s = new SqliteStore(freshPath());
    try {
      // 6,000 events, each a batch's own timestamps and peaks; an erase between batches, so keys repeat.
      const pvsOf = (n: number) => ((n * 7919) % 6000) / 1000; // 0 … 5.999 in/s
      const all: { n: number; ts: string; pvs: number }[] = [];
      for (let b = 0; b < 6; b++) {
        const batch = storedEvents(0, 1000).map((e, k) => {
          const n = b * 1000 + k;
          const ts = new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString().slice(0, 19);
          all.push({ n, ts, pvs: pvsOf(n) });
          return { ...e, event: { ...e.event, timestamp: ts, peaks: { ...e.event.peaks, pvs_ips: pvsOf(n) } } };
        });
        await s.appendEvents('BE1', batch);
        await s.dropEvents('BE1');
      }
      for (const min of [0, 1.5, 5.99, 7]) {
        const want = all.filter((e) => e.pvs >= min).sort((a, b) => (a.ts < b.ts ? 1 : -1)).map((e) => e.ts);
        const got: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await s.archive.events({ minPvsIps: min, limit: 700, cursor });
          got.push(...page.items.map((e) => e.timestamp!));
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        expect(got, `min_pvs_ips ${min}`).toEqual(want);
      }
    } finally {
      s.close();
    }
  });
});
