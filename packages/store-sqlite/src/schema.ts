/**
 * The database schema as an ordered list of migrations. `PRAGMA user_version` holds how many
 * have been applied; opening applies the missing ones in one transaction, and refuses a database
 * written by a newer sfm (a higher version than this code knows) rather than guess at it.
 *
 * Append new migrations at the end; never edit one that has shipped.
 */
import type Database from 'better-sqlite3';
import { StoreError } from '@sfm/core/cache';

export interface Migration {
  /** What it changes, for the error message when it fails. */
  name: string;
  up(db: Database.Database): void;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    name: 'v1: units, device info, events with sync state, binary waveforms, monitor status',
    up(db) {
      db.exec(`
        -- The serial that last answered at each address.
        CREATE TABLE unit_serial (
          conn_key TEXT NOT NULL PRIMARY KEY,
          serial   TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE device_info (
          conn_key   TEXT NOT NULL,
          serial     TEXT NOT NULL,
          json       TEXT NOT NULL,                 -- the contract's DeviceInfo
          fetched_at INTEGER NOT NULL,              -- ms since the epoch
          dirty      INTEGER NOT NULL DEFAULT 0 CHECK (dirty IN (0, 1)),
          PRIMARY KEY (conn_key, serial)
        ) WITHOUT ROWID;

        -- Where the event list stood at the last complete sync (SUB 06).
        CREATE TABLE event_sync (
          conn_key  TEXT NOT NULL,
          serial    TEXT NOT NULL,
          first_key INTEGER NOT NULL,
          last_key  INTEGER NOT NULL,
          synced_at INTEGER NOT NULL,
          PRIMARY KEY (conn_key, serial)
        ) WITHOUT ROWID;

        -- One row per event, stored in (unit, index) order so a unit's list is one range scan.
        CREATE TABLE events (
          conn_key   TEXT NOT NULL,
          serial     TEXT NOT NULL,
          idx        INTEGER NOT NULL CHECK (idx >= 0),
          key        INTEGER NOT NULL,
          timestamp  TEXT,
          geo_range  TEXT CHECK (geo_range IN ('normal', 'sensitive')),
          fetched_at INTEGER NOT NULL,
          json       TEXT NOT NULL,                 -- the contract's Event, compact
          PRIMARY KEY (conn_key, serial, idx)
        ) WITHOUT ROWID;

        -- At most one waveform per event key; the timestamp is its identity check.
        CREATE TABLE waveforms (
          conn_key   TEXT NOT NULL,
          serial     TEXT NOT NULL,
          key        INTEGER NOT NULL,
          timestamp  TEXT,
          fetched_at INTEGER NOT NULL,
          data       BLOB NOT NULL,                 -- waveform-blob.ts layout
          PRIMARY KEY (conn_key, serial, key)
        );

        CREATE TABLE monitor_status (
          conn_key   TEXT NOT NULL,
          serial     TEXT NOT NULL,
          json       TEXT NOT NULL,                 -- the contract's MonitorStatus
          fetched_at INTEGER NOT NULL,
          PRIMARY KEY (conn_key, serial)
        ) WITHOUT ROWID;

        -- Entries and bytes per kind, kept by triggers in the writing transaction, so stats()
        -- is one small read however much is cached (and exact across connections).
        CREATE TABLE kind_totals (
          kind    TEXT NOT NULL PRIMARY KEY,
          entries INTEGER NOT NULL,
          bytes   INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO kind_totals (kind, entries, bytes)
          VALUES ('device_info', 0, 0), ('events', 0, 0), ('waveform', 0, 0), ('monitor_status', 0, 0);
        ${totalsTriggers('device_info', 'device_info', 'octet_length(#.json)')}
        ${totalsTriggers('events', 'events', 'octet_length(#.json)')}
        ${totalsTriggers('waveforms', 'waveform', 'length(#.data)')}
        ${totalsTriggers('monitor_status', 'monitor_status', 'octet_length(#.json)')}
        -- A sync state counts as bytes of the events kind (it is part of a unit's event list).
        CREATE TRIGGER event_sync_totals_insert AFTER INSERT ON event_sync BEGIN
          UPDATE kind_totals SET bytes = bytes + ${SYNC_BYTES} WHERE kind = 'events';
        END;
        CREATE TRIGGER event_sync_totals_delete AFTER DELETE ON event_sync BEGIN
          UPDATE kind_totals SET bytes = bytes - ${SYNC_BYTES} WHERE kind = 'events';
        END;
      `);
    },
  },
  {
    name: 'v2: data per serial, identities per address, sync state with counter and completeness, leases, change log',
    up(db) {
      db.exec(`
        ALTER TABLE unit_serial RENAME TO v1_unit_serial;
        ALTER TABLE device_info RENAME TO v1_device_info;
        ALTER TABLE event_sync RENAME TO v1_event_sync;
        ALTER TABLE events RENAME TO v1_events;
        ALTER TABLE waveforms RENAME TO v1_waveforms;
        ALTER TABLE monitor_status RENAME TO v1_monitor_status;
        DROP TABLE kind_totals;

        -- Which serial answers at each address, and when that was last confirmed (0: never).
        CREATE TABLE identities (
          conn_key     TEXT NOT NULL PRIMARY KEY,
          serial       TEXT NOT NULL,
          confirmed_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE device_info (
          serial     TEXT NOT NULL PRIMARY KEY,
          json       TEXT NOT NULL,                 -- the contract's DeviceInfo
          fetched_at INTEGER NOT NULL,              -- ms since the epoch
          dirty      INTEGER NOT NULL DEFAULT 0 CHECK (dirty IN (0, 1))
        ) WITHOUT ROWID;

        -- Where the unit's list stood at the probe that started the last sync.
        CREATE TABLE event_sync (
          serial    TEXT NOT NULL PRIMARY KEY,
          first_key INTEGER NOT NULL,
          last_key  INTEGER NOT NULL,
          counter   INTEGER,                        -- SUB 08 lifetime counter (NULL: none given)
          complete  INTEGER NOT NULL CHECK (complete IN (0, 1)),
          probed_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        -- The live list, in (unit, index) order so a unit's list is one range scan.
        CREATE TABLE events (
          serial     TEXT NOT NULL,
          idx        INTEGER NOT NULL CHECK (idx >= 0),
          key        INTEGER NOT NULL,
          timestamp  TEXT,
          geo_range  TEXT CHECK (geo_range IN ('normal', 'sensitive')),
          fetched_at INTEGER NOT NULL,
          json       TEXT NOT NULL,                 -- the contract's Event, compact
          PRIMARY KEY (serial, idx)
        ) WITHOUT ROWID;

        -- At most one waveform per event key; the timestamp is its identity check.
        CREATE TABLE waveforms (
          serial     TEXT NOT NULL,
          key        INTEGER NOT NULL,
          timestamp  TEXT,
          fetched_at INTEGER NOT NULL,
          data       BLOB NOT NULL,                 -- waveform-blob.ts layout
          PRIMARY KEY (serial, key)
        );

        CREATE TABLE monitor_status (
          serial     TEXT NOT NULL PRIMARY KEY,
          json       TEXT NOT NULL,
          fetched_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        -- Per-unit locks across processes (core's UnitLocks renews them while it works).
        CREATE TABLE leases (
          lock_key   TEXT NOT NULL PRIMARY KEY,
          owner      TEXT NOT NULL,
          host       TEXT NOT NULL,
          pid        INTEGER NOT NULL,
          expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        -- What each write changed, so other processes drop exactly that from their hot tier.
        CREATE TABLE change_log (
          scope TEXT NOT NULL PRIMARY KEY,
          seq   INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX change_log_seq ON change_log (seq);
        CREATE TABLE change_seq (n INTEGER NOT NULL);
        INSERT INTO change_seq (n) VALUES (0);

        -- v1 kept a copy per (address, serial): keep the newest per serial.
        INSERT INTO identities (conn_key, serial, confirmed_at) SELECT conn_key, serial, 0 FROM v1_unit_serial;
        INSERT INTO device_info (serial, json, fetched_at, dirty)
          SELECT serial, json, fetched_at, dirty FROM v1_device_info d
          WHERE conn_key = (SELECT conn_key FROM v1_device_info x WHERE x.serial = d.serial ORDER BY fetched_at DESC, conn_key LIMIT 1);
        INSERT INTO event_sync (serial, first_key, last_key, counter, complete, probed_at)
          SELECT serial, first_key, last_key, NULL, 1, synced_at FROM v1_event_sync s
          WHERE conn_key = (SELECT conn_key FROM v1_event_sync x WHERE x.serial = s.serial ORDER BY synced_at DESC, conn_key LIMIT 1);
        INSERT INTO events (serial, idx, key, timestamp, geo_range, fetched_at, json)
          SELECT e.serial, idx, key, timestamp, geo_range, fetched_at, json FROM v1_events e
          WHERE conn_key = coalesce(
            (SELECT conn_key FROM v1_event_sync x WHERE x.serial = e.serial ORDER BY synced_at DESC, conn_key LIMIT 1),
            (SELECT min(conn_key) FROM v1_events x WHERE x.serial = e.serial));
        INSERT INTO waveforms (serial, key, timestamp, fetched_at, data)
          SELECT serial, key, timestamp, fetched_at, data FROM v1_waveforms w
          WHERE conn_key = (SELECT conn_key FROM v1_waveforms x WHERE x.serial = w.serial AND x.key = w.key ORDER BY fetched_at DESC, conn_key LIMIT 1);
        INSERT INTO monitor_status (serial, json, fetched_at)
          SELECT serial, json, fetched_at FROM v1_monitor_status m
          WHERE conn_key = (SELECT conn_key FROM v1_monitor_status x WHERE x.serial = m.serial ORDER BY fetched_at DESC, conn_key LIMIT 1);

        DROP TABLE v1_unit_serial;
        DROP TABLE v1_device_info;
        DROP TABLE v1_event_sync;
        DROP TABLE v1_events;
        DROP TABLE v1_waveforms;
        DROP TABLE v1_monitor_status;

        ${kindTotals()}
      `);
    },
  },
  {
    name: 'v3: events carry project_pending (the event-time text read after the list); a waveform keeps its JSON document; a lease says when someone waits for it',
    up(db) {
      // Events cached before had their text read with them.
      db.exec(`UPDATE events SET json = json_set(json, '$.project_pending', json('false')) WHERE json_extract(json, '$.project_pending') IS NULL`);
      db.exec('ALTER TABLE leases ADD COLUMN wanted INTEGER NOT NULL DEFAULT 0');
      // The served JSON, gzip-compressed, and the event index it names (none for waveforms kept before).
      db.exec(`
        ALTER TABLE waveforms ADD COLUMN document BLOB;
        ALTER TABLE waveforms ADD COLUMN document_index INTEGER;
        DROP TRIGGER waveforms_totals_insert;
        DROP TRIGGER waveforms_totals_delete;
        DROP TRIGGER waveforms_totals_update;
        ${totalsTriggers('waveforms', 'waveform', WAVEFORM_BYTES)}`);
    },
  },
  {
    name: "v4: events carry end_timestamp and trigger_level_ips (a monitor-log record's stop time and trigger level)",
    up(db) {
      // Rows cached before lack both: null, what the relay gives for what a record does not say
      // (json_insert adds only what is missing). A monitor-log record cached before keeps them null
      // until its unit's list is read again from the start (force=true, an erase, another unit).
      db.exec(`UPDATE events SET json = json_insert(json, '$.end_timestamp', NULL, '$.trigger_level_ips', NULL)
               WHERE json_type(json, '$.end_timestamp') IS NULL OR json_type(json, '$.trigger_level_ips') IS NULL`);
    },
  },
  {
    name: 'v5: the archive — every event kept once by (serial, timestamp, key), the live list a view of it; waveforms by identity; units; sessions',
    up(db) {
      db.exec(`
        -- Every event read from a unit, kept for good. ts is its timestamp ('' when it has none,
        -- which sorts oldest); body is the contract's Event without its live index: {"key":…}.
        CREATE TABLE archive_events (
          id            INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused, not even after retention
          serial        TEXT NOT NULL,
          key           INTEGER NOT NULL,
          ts            TEXT NOT NULL,
          body          TEXT NOT NULL,
          geo_range     TEXT CHECK (geo_range IN ('normal', 'sensitive')),
          record_type   TEXT NOT NULL,
          pvs           REAL,                      -- peaks.pvs_ips, for the min_pvs filter
          project       TEXT,                      -- project.project, for the project filter
          fetched_at    INTEGER NOT NULL,          -- last read from the unit
          received_at   INTEGER NOT NULL,          -- first read
          source        TEXT NOT NULL CHECK (source IN ('call-up', 'call-home', 'import')),
          false_trigger INTEGER NOT NULL DEFAULT 0 CHECK (false_trigger IN (0, 1)),
          notes         TEXT,
          analysis      TEXT,                      -- the AnalysisSummary JSON
          UNIQUE (serial, key, ts)
        );
        CREATE INDEX archive_newest ON archive_events (ts DESC, id DESC);
        CREATE INDEX archive_unit_newest ON archive_events (serial, ts DESC, id DESC);
        CREATE INDEX archive_received ON archive_events (received_at);

        -- The live list: which archived event sits at each index of the unit now.
        CREATE TABLE live_events (
          serial   TEXT NOT NULL,
          idx      INTEGER NOT NULL CHECK (idx >= 0),
          event_id INTEGER NOT NULL REFERENCES archive_events (id),
          PRIMARY KEY (serial, idx)
        ) WITHOUT ROWID;
        CREATE INDEX live_events_event ON live_events (event_id);

        INSERT INTO archive_events (serial, key, ts, body, geo_range, record_type, pvs, project, fetched_at, received_at, source)
          SELECT serial, key, coalesce(timestamp, ''), json_remove(json, '$.index'), geo_range, json_extract(json, '$.record_type'),
                 json_extract(json, '$.peaks.pvs_ips'), json_extract(json, '$.project.project'), fetched_at, fetched_at, 'call-up'
          FROM events ORDER BY serial, idx;
        INSERT INTO live_events (serial, idx, event_id)
          SELECT e.serial, e.idx, a.id FROM events e JOIN archive_events a ON a.serial = e.serial AND a.key = e.key AND a.ts = coalesce(e.timestamp, '');
        DROP TABLE events;
        -- The events kind is counted from the live list when asked (its rows point into the archive).
        DROP TRIGGER event_sync_totals_insert;
        DROP TRIGGER event_sync_totals_delete;
        DELETE FROM kind_totals WHERE kind = 'events';

        INSERT INTO kind_totals (kind, entries, bytes)
          SELECT 'archive_events', count(*), coalesce(sum(octet_length(body) + ${ROW_OVERHEAD_BYTES}), 0) FROM archive_events;
        ${totalsTriggers('archive_events', 'archive_events', 'octet_length(#.body)')}

        -- Waveforms by their event's identity: a refilled key's new waveform does not replace the old.
        CREATE TABLE waveforms_by_identity (
          serial         TEXT NOT NULL,
          key            INTEGER NOT NULL,
          ts             TEXT NOT NULL,
          fetched_at     INTEGER NOT NULL,
          data           BLOB NOT NULL,
          document       BLOB,
          document_index INTEGER,
          PRIMARY KEY (serial, key, ts)
        );
        INSERT INTO waveforms_by_identity (serial, key, ts, fetched_at, data, document, document_index)
          SELECT serial, key, coalesce(timestamp, ''), fetched_at, data, document, document_index FROM waveforms;
        DROP TABLE waveforms;
        ALTER TABLE waveforms_by_identity RENAME TO waveforms;
        CREATE INDEX waveforms_oldest ON waveforms (fetched_at);
        ${totalsTriggers('waveforms', 'waveform', WAVEFORM_BYTES)}

        -- The fleet: what was last seen of each unit, beyond what the cache keeps.
        CREATE TABLE units (
          serial         TEXT NOT NULL PRIMARY KEY,
          first_seen     INTEGER NOT NULL,
          last_seen      INTEGER NOT NULL,
          last_address   TEXT,
          address_at     INTEGER,                  -- when last_address was seen
          info           TEXT,                     -- the newest DeviceInfo read
          info_at        INTEGER,
          last_status    TEXT,                     -- the newest MonitorStatus read
          status_at      INTEGER
        ) WITHOUT ROWID;

        CREATE TABLE sessions (
          id            INTEGER PRIMARY KEY AUTOINCREMENT,
          serial        TEXT NOT NULL,
          kind          TEXT NOT NULL CHECK (kind IN ('call-up', 'call-home')),
          peer          TEXT NOT NULL,
          started_at    INTEGER NOT NULL,
          duration_ms   INTEGER NOT NULL,
          events_new    INTEGER NOT NULL,
          waveforms_new INTEGER NOT NULL,
          erased        INTEGER NOT NULL CHECK (erased IN (0, 1)),
          result        TEXT NOT NULL,
          capture       TEXT
        );
        CREATE INDEX sessions_newest ON sessions (started_at DESC, id DESC);
        CREATE INDEX sessions_unit_newest ON sessions (serial, started_at DESC, id DESC);

        -- A row rewritten by durable(): a commit to fsync with synchronous = FULL.
        CREATE TABLE durable_mark (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL);

        INSERT INTO units (serial, first_seen, last_seen)
          SELECT serial, min(at), max(at) FROM (
            SELECT serial, confirmed_at AS at FROM identities WHERE confirmed_at > 0
            UNION ALL SELECT serial, fetched_at FROM device_info
            UNION ALL SELECT serial, fetched_at FROM monitor_status
            UNION ALL SELECT serial, fetched_at FROM archive_events
          ) WHERE serial <> '' GROUP BY serial;
        INSERT OR IGNORE INTO units (serial, first_seen, last_seen) SELECT serial, 0, 0 FROM identities WHERE serial <> '';
        UPDATE units SET
          last_address = (SELECT conn_key FROM identities i WHERE i.serial = units.serial ORDER BY confirmed_at DESC LIMIT 1),
          address_at = (SELECT max(confirmed_at) FROM identities i WHERE i.serial = units.serial),
          info = (SELECT json FROM device_info d WHERE d.serial = units.serial),
          info_at = (SELECT fetched_at FROM device_info d WHERE d.serial = units.serial),
          last_status = (SELECT json FROM monitor_status m WHERE m.serial = units.serial),
          status_at = (SELECT fetched_at FROM monitor_status m WHERE m.serial = units.serial);
      `);
    },
  },
  {
    name: 'v6: the archive by peak vector sum, so a min_pvs_ips filter that few events meet reads those few',
    up(db) {
      db.exec('CREATE INDEX archive_pvs ON archive_events (pvs)');
    },
  },
];

/** A waveform row's bytes in stats(): its samples and its document. */
const WAVEFORM_BYTES = 'length(#.data) + coalesce(length(#.document), 0)';

/** Bytes charged per row in stats() on top of its JSON text or blob (keys, numbers, b-tree). */
export const ROW_OVERHEAD_BYTES = 32;
/** Bytes charged for a unit's event sync state. */
export const SYNC_BYTES = 24;

/**
 * Entries and bytes per kind, kept by triggers in the writing transaction, so stats() is one
 * small read however much is cached (and exact across connections). Counted from the tables as
 * they are when created.
 */
function kindTotals(): string {
  return `
        CREATE TABLE kind_totals (
          kind    TEXT NOT NULL PRIMARY KEY,
          entries INTEGER NOT NULL,
          bytes   INTEGER NOT NULL
        ) WITHOUT ROWID;
        INSERT INTO kind_totals (kind, entries, bytes) VALUES
          ('device_info', (SELECT count(*) FROM device_info), (SELECT coalesce(sum(octet_length(json) + ${ROW_OVERHEAD_BYTES}), 0) FROM device_info)),
          ('events', (SELECT count(*) FROM events),
            (SELECT coalesce(sum(octet_length(json) + ${ROW_OVERHEAD_BYTES}), 0) FROM events) + ${SYNC_BYTES} * (SELECT count(*) FROM event_sync)),
          ('waveform', (SELECT count(*) FROM waveforms), (SELECT coalesce(sum(length(data) + ${ROW_OVERHEAD_BYTES}), 0) FROM waveforms)),
          ('monitor_status', (SELECT count(*) FROM monitor_status), (SELECT coalesce(sum(octet_length(json) + ${ROW_OVERHEAD_BYTES}), 0) FROM monitor_status));
        ${totalsTriggers('device_info', 'device_info', 'octet_length(#.json)')}
        ${totalsTriggers('events', 'events', 'octet_length(#.json)')}
        ${totalsTriggers('waveforms', 'waveform', 'length(#.data)')}
        ${totalsTriggers('monitor_status', 'monitor_status', 'octet_length(#.json)')}
        -- A sync state counts as bytes of the events kind (it is part of a unit's event list).
        CREATE TRIGGER event_sync_totals_insert AFTER INSERT ON event_sync BEGIN
          UPDATE kind_totals SET bytes = bytes + ${SYNC_BYTES} WHERE kind = 'events';
        END;
        CREATE TRIGGER event_sync_totals_delete AFTER DELETE ON event_sync BEGIN
          UPDATE kind_totals SET bytes = bytes - ${SYNC_BYTES} WHERE kind = 'events';
        END;`;
}

/** Triggers keeping `kind_totals` right for one table (`#` stands for NEW or OLD in `size`). */
function totalsTriggers(table: string, kind: string, size: string): string {
  const sz = (row: 'NEW' | 'OLD'): string => `(${size.replaceAll('#', row)})`;
  return `
        CREATE TRIGGER ${table}_totals_insert AFTER INSERT ON ${table} BEGIN
          UPDATE kind_totals SET entries = entries + 1, bytes = bytes + ${sz('NEW')} + ${ROW_OVERHEAD_BYTES} WHERE kind = '${kind}';
        END;
        CREATE TRIGGER ${table}_totals_delete AFTER DELETE ON ${table} BEGIN
          UPDATE kind_totals SET entries = entries - 1, bytes = bytes - ${sz('OLD')} - ${ROW_OVERHEAD_BYTES} WHERE kind = '${kind}';
        END;
        CREATE TRIGGER ${table}_totals_update AFTER UPDATE ON ${table} BEGIN
          UPDATE kind_totals SET bytes = bytes + ${sz('NEW')} - ${sz('OLD')} WHERE kind = '${kind}';
        END;`;
}

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** The database's schema version; a StoreError when it is newer than `known`. */
export function checkSchemaVersion(db: Database.Database, known: number = MIGRATIONS.length): number {
  const found = db.pragma('user_version', { simple: true }) as number;
  if (found > known) {
    throw new StoreError(
      `the database ${db.name} has schema version ${found}, newer than this sfm knows (${known}): ` +
        'it was written by a newer sfm; upgrade sfm or point it at another database file',
    );
  }
  return found;
}

/**
 * Brings `db` to `migrations.length`, applying the missing migrations in order inside one
 * transaction (all or none). Returns the version found before.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): number {
  const apply = db.transaction(() => {
    const found = checkSchemaVersion(db, migrations.length);
    for (let v = found; v < migrations.length; v++) {
      const m = migrations[v]!;
      try {
        m.up(db);
      } catch (e) {
        throw new StoreError(`migration ${v + 1} (${m.name}) failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
    }
    if (found !== migrations.length) db.pragma(`user_version = ${migrations.length}`);
    return found;
  });
  return apply.immediate();
}
