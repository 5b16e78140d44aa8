/**
 * The database schema as an ordered list of migrations. `PRAGMA user_version` holds how many
 * have been applied; opening applies the missing ones in one transaction, and refuses a database
 * written by a newer sfm (a higher version than this code knows) rather than guess at it.
 *
 * Append new migrations at the end; never edit one that has shipped.
 */
import type Database from 'better-sqlite3';
import { StoreError } from '@sfm/core';

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
];

/** Bytes charged per row in stats() on top of its JSON text or blob (keys, numbers, b-tree). */
export const ROW_OVERHEAD_BYTES = 32;
/** Bytes charged for a unit's event sync state. */
export const SYNC_BYTES = 24;

/** Triggers keeping `kind_totals` right for one table (`#` stands for NEW or OLD in `size`). */
function totalsTriggers(table: string, kind: string, size: string): string {
  const sz = (row: 'NEW' | 'OLD'): string => size.replaceAll('#', row);
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
