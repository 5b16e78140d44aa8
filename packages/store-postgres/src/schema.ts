/**
 * The database schema as an ordered list of migrations. `sfm_schema` records each one applied;
 * opening applies the missing ones in one transaction that first takes a transaction-level
 * advisory lock, so relays starting at once on an empty database migrate it once (the others
 * wait, then find it done). A database written by a newer sfm (a version this code does not know)
 * is refused rather than guessed at.
 *
 * Text that is compared or ordered is COLLATE "C" (byte order, ASCII-only case folding),
 * whatever the server's default locale: the contract's orders are code-point orders. Times are
 * BIGINT milliseconds since the epoch. Append new migrations at the end; never edit one that has
 * shipped.
 */
import type pg from 'pg';
import { StoreError } from '@sfm/core/cache';

export interface Migration {
  /** What it changes, for the error message when it fails. */
  name: string;
  sql: string;
}

/** Bytes charged per row in stats() on top of its JSON text or samples (keys, numbers, index). */
export const ROW_OVERHEAD_BYTES = 32;
/** Bytes charged for a unit's event sync state. */
export const SYNC_BYTES = 24;

/** The key of the advisory lock migrations hold (any constant; "sfm" in ASCII). */
const MIGRATION_LOCK = 0x73666d;

/**
 * Entries and bytes of a big table, kept by a trigger in the writing transaction, so stats() is
 * one small read however much the archive holds.
 */
function totalsTrigger(table: string, kind: string, size: (row: 'NEW' | 'OLD') => string, sizeColumns: string): string {
  return `
    CREATE FUNCTION ${table}_totals() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        UPDATE kind_totals SET entries = entries + 1, bytes = bytes + ${size('NEW')} + ${ROW_OVERHEAD_BYTES} WHERE kind = '${kind}';
      ELSIF TG_OP = 'DELETE' THEN
        UPDATE kind_totals SET entries = entries - 1, bytes = bytes - ${size('OLD')} - ${ROW_OVERHEAD_BYTES} WHERE kind = '${kind}';
      ELSIF ${size('NEW')} <> ${size('OLD')} THEN
        UPDATE kind_totals SET bytes = bytes + ${size('NEW')} - ${size('OLD')} WHERE kind = '${kind}';
      END IF;
      RETURN NULL;
    END $$;
    CREATE TRIGGER ${table}_totals AFTER INSERT OR DELETE OR UPDATE OF ${sizeColumns} ON ${table}
      FOR EACH ROW EXECUTE FUNCTION ${table}_totals();`;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    name: 'v1: identities, device info, sync state, the archive with live lists, binary waveforms, status, the fleet, sessions, leases',
    sql: `
      -- Which serial answers at each address, and when that was last confirmed.
      CREATE TABLE identities (
        conn_key     text COLLATE "C" PRIMARY KEY,
        serial       text COLLATE "C" NOT NULL,
        confirmed_at bigint NOT NULL
      );

      CREATE TABLE device_info (
        serial     text COLLATE "C" PRIMARY KEY,
        json       text NOT NULL,                  -- the contract's DeviceInfo
        fetched_at bigint NOT NULL,
        dirty      boolean NOT NULL DEFAULT false
      );

      -- Where the unit's list stood at the probe that started the last sync.
      CREATE TABLE event_sync (
        serial    text COLLATE "C" PRIMARY KEY,
        first_key bigint NOT NULL,
        last_key  bigint NOT NULL,
        counter   bigint,                          -- SUB 08 lifetime counter (NULL: none given)
        complete  boolean NOT NULL,
        probed_at bigint NOT NULL
      );

      -- Every event read from a unit, kept for good. ts is its timestamp ('' when it has none,
      -- which sorts oldest); body is the contract's Event without its live index: {"key":…}.
      CREATE TABLE archive_events (
        id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,   -- never reused
        serial          text COLLATE "C" NOT NULL,
        key             bigint NOT NULL,
        ts              text COLLATE "C" NOT NULL,
        body            text NOT NULL,
        geo_range       text CHECK (geo_range IN ('normal', 'sensitive')),
        record_type     text COLLATE "C" NOT NULL,
        pvs             double precision,           -- peaks.pvs_ips, for the min_pvs filter
        project         text COLLATE "C",           -- project.project, for the project filter
        project_pending boolean NOT NULL,           -- the event-time text is still to be read
        fetched_at      bigint NOT NULL,            -- last read from the unit
        received_at     bigint NOT NULL,            -- first read
        source          text NOT NULL CHECK (source IN ('call-up', 'call-home', 'import')),
        false_trigger   boolean NOT NULL DEFAULT false,
        notes           text,
        analysis        text,                       -- the AnalysisSummary JSON
        UNIQUE (serial, key, ts)
      );
      CREATE INDEX archive_newest ON archive_events (ts DESC, id DESC);
      CREATE INDEX archive_unit_newest ON archive_events (serial, ts DESC, id DESC);
      CREATE INDEX archive_received ON archive_events (received_at);

      -- The live list: which archived event sits at each index of the unit now.
      CREATE TABLE live_events (
        serial   text COLLATE "C" NOT NULL,
        idx      integer NOT NULL CHECK (idx >= 0),
        event_id bigint NOT NULL REFERENCES archive_events (id),
        PRIMARY KEY (serial, idx)
      );
      CREATE INDEX live_events_event ON live_events (event_id);

      -- Waveforms by their event's identity; each channel's samples as little-endian int16.
      CREATE TABLE waveforms (
        serial         text COLLATE "C" NOT NULL,
        key            bigint NOT NULL,
        ts             text COLLATE "C" NOT NULL,
        fetched_at     bigint NOT NULL,
        event_index    bigint NOT NULL CHECK (event_index BETWEEN 0 AND 4294967295),
        sample_rate    double precision NOT NULL,
        pretrigger     bigint NOT NULL CHECK (pretrigger BETWEEN 0 AND 4294967295),
        geo_range      text NOT NULL CHECK (geo_range IN ('normal', 'sensitive')),
        tran           bytea NOT NULL,
        vert           bytea NOT NULL,
        long           bytea NOT NULL,
        micl           bytea NOT NULL,
        document       bytea,                      -- the served JSON, gzip-compressed
        document_index bigint,                     -- the event index it names
        -- What the contract counts: 2 bytes a sample, every channel, and the document.
        bytes          bigint GENERATED ALWAYS AS
          (octet_length(tran) + octet_length(vert) + octet_length(long) + octet_length(micl) + coalesce(octet_length(document), 0)) STORED,
        PRIMARY KEY (serial, key, ts)
      );
      CREATE INDEX waveforms_oldest ON waveforms (fetched_at);

      CREATE TABLE monitor_status (
        serial     text COLLATE "C" PRIMARY KEY,
        json       text NOT NULL,                  -- the contract's MonitorStatus
        fetched_at bigint NOT NULL
      );

      -- The fleet: what was last seen of each unit, beyond what the cache keeps.
      CREATE TABLE units (
        serial       text COLLATE "C" PRIMARY KEY,
        first_seen   bigint NOT NULL,
        last_seen    bigint NOT NULL,
        last_address text,
        address_at   bigint,                       -- when last_address was seen
        info         text,                         -- the newest DeviceInfo read
        info_at      bigint,
        last_status  text,                         -- the newest MonitorStatus read
        status_at    bigint
      );
      CREATE INDEX units_newest ON units (last_seen DESC, serial);

      CREATE TABLE sessions (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        serial        text COLLATE "C" NOT NULL,
        kind          text NOT NULL CHECK (kind IN ('call-up', 'call-home')),
        peer          text NOT NULL,
        started_at    bigint NOT NULL,
        duration_ms   bigint NOT NULL,
        events_new    integer NOT NULL,
        waveforms_new integer NOT NULL,
        erased        boolean NOT NULL,
        result        text NOT NULL,
        capture       text
      );
      CREATE INDEX sessions_newest ON sessions (started_at DESC, id DESC);
      CREATE INDEX sessions_unit_newest ON sessions (serial, started_at DESC, id DESC);

      -- Per-unit locks across relays: a row per held lock, taken by an atomic upsert (no session
      -- state on the connection, so it holds behind a transaction-pooling proxy); core's UnitLocks
      -- renews it while it works. A holder that dies stops renewing and the row expires.
      CREATE TABLE leases (
        lock_key   text COLLATE "C" PRIMARY KEY,
        owner      text NOT NULL,
        host       text NOT NULL,
        pid        integer NOT NULL,
        expires_at bigint NOT NULL,
        wanted     boolean NOT NULL DEFAULT false  -- someone failed to take it since it was taken
      );

      -- A row rewritten by durable(): a commit made with synchronous_commit on.
      CREATE TABLE durable_mark (id integer PRIMARY KEY CHECK (id = 1), at bigint NOT NULL);

      CREATE TABLE kind_totals (
        kind    text PRIMARY KEY,
        entries bigint NOT NULL,
        bytes   bigint NOT NULL
      );
      INSERT INTO kind_totals (kind, entries, bytes) VALUES ('archive_events', 0, 0), ('waveform', 0, 0);
      ${totalsTrigger('archive_events', 'archive_events', (r) => `octet_length(${r}.body)`, 'body')}
      ${totalsTrigger('waveforms', 'waveform', (r) => `${r}.bytes`, 'tran, vert, long, micl, document')}
    `,
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database to `migrations.length` inside one transaction (all or none), holding the
 * migration lock; refuses a newer database. Returns the version found before.
 */
export async function migrate(client: pg.ClientBase, where: string, migrations: readonly Migration[] = MIGRATIONS): Promise<number> {
  // Up to date already (every open but the first): one read, no lock.
  const current = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM sfm_schema').catch(() => undefined);
  if (current?.rows[0]?.v === migrations.length) return migrations.length;
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS sfm_schema (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    const found = Number((await client.query<{ v: number | null }>('SELECT max(version) AS v FROM sfm_schema')).rows[0]?.v ?? 0);
    if (found > migrations.length) {
      throw new StoreError(
        `the database ${where} has schema version ${found}, newer than this sfm knows (${migrations.length}): ` +
          'it was written by a newer sfm; upgrade sfm or point it at another database',
      );
    }
    for (let v = found; v < migrations.length; v++) {
      const m = migrations[v]!;
      try {
        await client.query(m.sql);
      } catch (e) {
        throw new StoreError(`migration ${v + 1} (${m.name}) failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      await client.query('INSERT INTO sfm_schema (version, name) VALUES ($1, $2)', [v + 1, m.name]);
    }
    await client.query('COMMIT');
    return found;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
