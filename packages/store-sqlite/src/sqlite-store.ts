/**
 * SqliteStore: the persistent cache on better-sqlite3 (synchronous, in-process).
 *
 * - WAL journal, synchronous = NORMAL (a commit survives a process crash; a power cut may lose
 *   the last commits but never corrupts), busy_timeout 5 s, foreign keys on.
 * - Every statement is prepared once, in the constructor; every multi-row write is one
 *   transaction (BEGIN IMMEDIATE, so a read-then-write never meets a stale snapshot).
 * - Events are kept as the contract's Event JSON text, one row each, so the whole list is served
 *   as one string built by SQL (`group_concat`) with no parsing in JavaScript.
 * - Waveforms are one BLOB each (raw int16 samples plus a 40-byte header): ~82 KB for
 *   4 × 10 240 samples, read back as Int16Array views with no per-sample work.
 * - stats() reads totals that triggers keep in the writing transactions, so it costs the same
 *   whatever the cache holds.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { CACHE_KINDS, StoreError } from '@sfm/core';
import type {
  CacheKind,
  DeviceInfo,
  EventSyncState,
  FetchedAt,
  GeoRangeName,
  KindStats,
  MonitorStatus,
  Store,
  StoreCapabilities,
  StoredEvent,
  StoredInfo,
  StoredWaveform,
  UnitId,
} from '@sfm/core';
import { checkSchemaVersion, migrate } from './schema.js';
import { decodeWaveformBlob, encodeWaveformBlob } from './waveform-blob.js';

export const DEFAULT_SQLITE_PATH = './data/sfm.db';

export interface SqliteStoreOptions {
  /** How long a statement waits for another connection's lock, in ms (default 5000). */
  busyTimeoutMs?: number;
}

type U = [connKey: string, serial: string];
type EventRow = [idx: number, key: number, geoRange: GeoRangeName | null, fetchedAt: number, json: string];

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly capabilities: StoreCapabilities = { persistent: true, evicts: false };
  /** The database file (or ':memory:'). */
  readonly path: string;

  private readonly db: Database.Database;
  private closed = false;

  // Every statement, prepared once.
  private readonly q;
  private readonly appendTx: (u: UnitId, events: readonly StoredEvent[], sync: EventSyncState | undefined) => void;
  private readonly dropTx: (u: UnitId, keepWaveforms: boolean) => { events: number; waveforms: number };
  private readonly writeWaveform: (u: UnitId, w: StoredWaveform, blob: Buffer) => void;
  private readonly clearTx: (connKey: string) => Record<CacheKind, number>;
  private readonly statsOf: () => Record<CacheKind, KindStats>;

  constructor(path: string = DEFAULT_SQLITE_PATH, opts: SqliteStoreOptions = {}) {
    this.path = path;
    const inMemory = path === ':memory:' || path === '';
    if (!inMemory) makeFolder(dirname(resolve(path)), path);
    const busy = opts.busyTimeoutMs ?? 5000;
    let db: Database.Database;
    try {
      db = new Database(path, { timeout: busy });
    } catch (e) {
      throw new StoreError(`cannot open the SQLite store at ${path}: ${(e as Error).message}`, { cause: e });
    }
    try {
      // Refuse a newer sfm's file before changing anything in it (journal mode included).
      checkSchemaVersion(db);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(busy))}`);
      db.pragma('foreign_keys = ON');
      migrate(db);
    } catch (e) {
      db.close();
      throw e instanceof StoreError ? e : new StoreError(`cannot open the SQLite store at ${path}: ${(e as Error).message}`, { cause: e });
    }
    this.db = db;

    const unit = 'conn_key = ? AND serial = ?';
    this.q = {
      lastSerial: db.prepare<[string], string>('SELECT serial FROM unit_serial WHERE conn_key = ?').pluck(),
      rememberSerial: db.prepare<[string, string]>(
        'INSERT INTO unit_serial (conn_key, serial) VALUES (?, ?) ON CONFLICT (conn_key) DO UPDATE SET serial = excluded.serial',
      ),

      getInfo: db.prepare<U, [string, number, number]>(`SELECT json, fetched_at, dirty FROM device_info WHERE ${unit}`).raw(),
      putInfo: db.prepare<[...U, string, number]>(
        `INSERT INTO device_info (conn_key, serial, json, fetched_at, dirty) VALUES (?, ?, ?, ?, 0)
         ON CONFLICT (conn_key, serial) DO UPDATE SET json = excluded.json, fetched_at = excluded.fetched_at, dirty = 0`,
      ),
      markDirty: db.prepare<U>(`UPDATE device_info SET dirty = 1 WHERE ${unit}`),

      getSync: db.prepare<U, [number, number, number]>(`SELECT first_key, last_key, synced_at FROM event_sync WHERE ${unit}`).raw(),
      putSync: db.prepare<[...U, number, number, number]>(
        `INSERT INTO event_sync (conn_key, serial, first_key, last_key, synced_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (conn_key, serial) DO UPDATE SET first_key = excluded.first_key, last_key = excluded.last_key, synced_at = excluded.synced_at`,
      ),
      dropSync: db.prepare<U>(`DELETE FROM event_sync WHERE ${unit}`),

      getEvents: db.prepare<U, EventRow>(`SELECT idx, key, geo_range, fetched_at, json FROM events WHERE ${unit} ORDER BY idx`).raw(),
      getEvent: db.prepare<[...U, number], EventRow>(`SELECT idx, key, geo_range, fetched_at, json FROM events WHERE ${unit} AND idx = ?`).raw(),
      // CAST AS BLOB hands back the UTF-8 bytes as they are, skipping a conversion to a JS string.
      eventsJson: db.prepare<U, Buffer | null>(`SELECT CAST('[' || group_concat(json, ',' ORDER BY idx) || ']' AS BLOB) FROM events WHERE ${unit}`).pluck(),
      // Indexes run 0..n-1 without gaps (appendEvents enforces it), so the count is max + 1: one
      // b-tree descent instead of a walk over the unit's events.
      lastIndex: db.prepare<U, number | null>(`SELECT max(idx) FROM events WHERE ${unit}`).pluck(),
      insertEvent: db.prepare<[...U, number, number, string | null, GeoRangeName | null, number, string]>(
        'INSERT INTO events (conn_key, serial, idx, key, timestamp, geo_range, fetched_at, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      dropEvents: db.prepare<U>(`DELETE FROM events WHERE ${unit}`),

      getWaveform: db.prepare<[...U, number, string | null], [Buffer, number]>(
        `SELECT data, fetched_at FROM waveforms WHERE ${unit} AND key = ? AND timestamp IS ?`,
      ).raw(),
      putWaveform: db.prepare<[...U, number, string | null, number, Buffer]>(
        `INSERT INTO waveforms (conn_key, serial, key, timestamp, fetched_at, data) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (conn_key, serial, key) DO UPDATE SET timestamp = excluded.timestamp, fetched_at = excluded.fetched_at, data = excluded.data`,
      ),
      dropWaveforms: db.prepare<U>(`DELETE FROM waveforms WHERE ${unit}`),

      getStatus: db.prepare<U, [string, number]>(`SELECT json, fetched_at FROM monitor_status WHERE ${unit}`).raw(),
      putStatus: db.prepare<[...U, string, number]>(
        `INSERT INTO monitor_status (conn_key, serial, json, fetched_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (conn_key, serial) DO UPDATE SET json = excluded.json, fetched_at = excluded.fetched_at`,
      ),
      deleteStatus: db.prepare<U>(`DELETE FROM monitor_status WHERE ${unit}`),

      clear: {
        serial: db.prepare<[string]>('DELETE FROM unit_serial WHERE conn_key = ?'),
        info: db.prepare<[string]>('DELETE FROM device_info WHERE conn_key = ?'),
        sync: db.prepare<[string]>('DELETE FROM event_sync WHERE conn_key = ?'),
        events: db.prepare<[string]>('DELETE FROM events WHERE conn_key = ?'),
        waveforms: db.prepare<[string]>('DELETE FROM waveforms WHERE conn_key = ?'),
        status: db.prepare<[string]>('DELETE FROM monitor_status WHERE conn_key = ?'),
      },

      totals: db.prepare<[], [CacheKind, number, number]>('SELECT kind, entries, bytes FROM kind_totals').raw(),

      checkpoint: db.prepare('PRAGMA wal_checkpoint(TRUNCATE)'),
    };

    const q = this.q;
    const lastIndex = (u: UnitId): number => q.lastIndex.get(u.connKey, u.serial) ?? -1;

    this.appendTx = immediate(db, (u: UnitId, events: readonly StoredEvent[], sync: EventSyncState | undefined) => {
      const next = lastIndex(u) + 1;
      events.forEach((e, i) => {
        if (e.event.index !== next + i) {
          throw new StoreError(`appendEvents: event ${i} of the batch has index ${e.event.index}, expected ${next + i} (the unit has ${next} cached)`);
        }
      });
      for (const e of events) {
        q.insertEvent.run(u.connKey, u.serial, e.event.index, e.key, e.event.timestamp, e.geoRange, e.fetchedAt, JSON.stringify(e.event));
      }
      if (sync) q.putSync.run(u.connKey, u.serial, sync.first, sync.last, sync.syncedAt);
    });

    this.dropTx = immediate(db, (u: UnitId, keepWaveforms: boolean) => {
      const events = q.dropEvents.run(u.connKey, u.serial).changes;
      q.dropSync.run(u.connKey, u.serial);
      const waveforms = keepWaveforms ? 0 : q.dropWaveforms.run(u.connKey, u.serial).changes;
      return { events, waveforms };
    });

    this.writeWaveform = (u, w, blob) => {
      q.putWaveform.run(u.connKey, u.serial, w.key, w.timestamp, w.fetchedAt, blob);
    };

    this.clearTx = immediate(db, (connKey: string) => {
      const c = q.clear;
      c.serial.run(connKey);
      c.sync.run(connKey);
      return {
        device_info: c.info.run(connKey).changes,
        events: c.events.run(connKey).changes,
        waveform: c.waveforms.run(connKey).changes,
        monitor_status: c.status.run(connKey).changes,
      };
    });

    this.statsOf = () => {
      const out = {} as Record<CacheKind, KindStats>;
      for (const kind of CACHE_KINDS) out[kind] = { entries: 0, bytes: 0 };
      for (const [kind, entries, bytes] of q.totals.all()) out[kind] = { entries, bytes };
      return out;
    };
  }

  lastSerialAt(connKey: string): string | undefined {
    this.live();
    return this.q.lastSerial.get(connKey);
  }

  rememberSerial(connKey: string, serial: string): void {
    this.live();
    this.q.rememberSerial.run(connKey, serial);
  }

  getInfo(u: UnitId): StoredInfo | undefined {
    this.live();
    const row = this.q.getInfo.get(u.connKey, u.serial);
    return row && { info: JSON.parse(row[0]) as DeviceInfo, fetchedAt: row[1], dirty: row[2] === 1 };
  }

  putInfo(u: UnitId, info: DeviceInfo, fetchedAt: FetchedAt): void {
    this.live();
    this.q.putInfo.run(u.connKey, u.serial, JSON.stringify(info), fetchedAt);
  }

  markInfoDirty(u: UnitId): boolean {
    this.live();
    return this.q.markDirty.run(u.connKey, u.serial).changes > 0;
  }

  getEventSync(u: UnitId): EventSyncState | undefined {
    this.live();
    const row = this.q.getSync.get(u.connKey, u.serial);
    return row && { first: row[0], last: row[1], syncedAt: row[2] };
  }

  getEvents(u: UnitId): StoredEvent[] {
    this.live();
    return this.q.getEvents.all(u.connKey, u.serial).map(toStoredEvent);
  }

  getEvent(u: UnitId, index: number): StoredEvent | undefined {
    this.live();
    if (!Number.isInteger(index) || index < 0) return undefined;
    const row = this.q.getEvent.get(u.connKey, u.serial, index);
    return row && toStoredEvent(row);
  }

  getEventsJson(u: UnitId): Uint8Array | undefined {
    this.live();
    return this.q.eventsJson.get(u.connKey, u.serial) ?? undefined;
  }

  eventCount(u: UnitId): number {
    this.live();
    return (this.q.lastIndex.get(u.connKey, u.serial) ?? -1) + 1;
  }

  appendEvents(u: UnitId, events: readonly StoredEvent[], sync?: EventSyncState): void {
    this.live();
    rejecting(() => this.appendTx(u, events, sync));
  }

  dropEvents(u: UnitId, opts: { keepWaveforms?: boolean } = {}): { events: number; waveforms: number } {
    this.live();
    return this.dropTx(u, opts.keepWaveforms ?? false);
  }

  getWaveform(u: UnitId, key: number, timestamp: string | null): StoredWaveform | undefined {
    this.live();
    const row = this.q.getWaveform.get(u.connKey, u.serial, key, timestamp);
    return row && decodeWaveformBlob(row[0], key, timestamp, row[1]);
  }

  putWaveform(u: UnitId, w: StoredWaveform): void {
    this.live();
    const blob = encodeWaveformBlob(w);
    rejecting(() => this.writeWaveform(u, w, blob));
  }

  getStatus(u: UnitId): { status: MonitorStatus; fetchedAt: FetchedAt } | undefined {
    this.live();
    const row = this.q.getStatus.get(u.connKey, u.serial);
    return row && { status: JSON.parse(row[0]) as MonitorStatus, fetchedAt: row[1] };
  }

  putStatus(u: UnitId, status: MonitorStatus, fetchedAt: FetchedAt): void {
    this.live();
    this.q.putStatus.run(u.connKey, u.serial, JSON.stringify(status), fetchedAt);
  }

  deleteStatus(u: UnitId): boolean {
    this.live();
    return this.q.deleteStatus.run(u.connKey, u.serial).changes > 0;
  }

  clearConnection(connKey: string): Record<CacheKind, number> {
    this.live();
    return this.clearTx(connKey);
  }

  stats(): Record<CacheKind, KindStats> {
    this.live();
    return this.statsOf();
  }

  /** Folds the WAL back into the database file and closes it; later calls throw StoreError. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (!this.db.memory) this.q.checkpoint.get();
    } finally {
      this.db.close();
    }
  }

  private live(): void {
    if (this.closed) throw new StoreError(`the SQLite store at ${this.path} is closed`);
  }
}

/** Creates the store's folder; a failure names the store and says why in words. */
function makeFolder(folder: string, path: string): void {
  try {
    mkdirSync(folder, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'EEXIST' || code === 'ENOTDIR' ? 'a part of that path is a file, not a folder'
      : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : code === 'EROFS' ? 'the file system is read-only'
      : (e as Error).message;
    throw new StoreError(`cannot create the folder ${folder} for the SQLite store at ${path}: ${why}`, { cause: e });
  }
}

function toStoredEvent(row: EventRow): StoredEvent {
  return { event: JSON.parse(row[4]), key: row[1], geoRange: row[2], fetchedAt: row[3] };
}

/** Runs a write; a constraint the input breaks (say, an unknown geo range) is a StoreError. */
function rejecting<R>(write: () => R): R {
  try {
    return write();
  } catch (e) {
    if (e instanceof Database.SqliteError && e.code.startsWith('SQLITE_CONSTRAINT')) {
      throw new StoreError(`the store cannot keep this: ${e.message}`, { cause: e });
    }
    throw e;
  }
}

/** A write transaction taking the write lock at BEGIN (IMMEDIATE). */
function immediate<A extends unknown[], R>(db: Database.Database, fn: (...args: A) => R): (...args: A) => R {
  const tx = db.transaction(fn);
  return (...args: A) => tx.immediate(...args);
}
