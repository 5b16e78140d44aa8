/**
 * SqliteStore: the persistent cache on better-sqlite3 (in-process; the async Store methods answer
 * at once).
 *
 * - WAL journal, synchronous = NORMAL (a commit survives a process crash; a power cut may lose
 *   the last commits but never corrupts), busy_timeout 5 s, foreign keys on.
 * - Every statement is prepared once, in the constructor; every write is one transaction (BEGIN
 *   IMMEDIATE, so a read-then-write never meets a stale snapshot) that also records what it
 *   changed in `change_log`.
 * - Several processes may share the file (`sfm serve` and the CLI). `pollChanges()` asks
 *   `PRAGMA data_version` whether another connection committed since, and only then reads which
 *   units and addresses changed.
 * - Leases (per-unit locks across processes) are rows taken in an IMMEDIATE transaction.
 * - The archive keeps every event once (archive_events, by serial, timestamp and key), as the
 *   contract's Event JSON text without its live index; a unit's live list (live_events) points
 *   into it, so a whole list is served as one string built by SQL (`group_concat` of
 *   `{"index":N,` and the archived text) with no parsing in JavaScript. See archive.ts.
 * - Waveforms are one BLOB each by their event's identity (raw int16 samples plus a 40-byte
 *   header), read back as Int16Array views with no per-sample work, beside their gzip document.
 * - A file system that refuses (read-only, full, I/O error, locked too long) is StoreUnavailable.
 */
import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { CACHE_KINDS, StoreError, StoreUnavailable, addressScope, unitScope } from '@sfm/core/cache';
import type { AnalysisSummary, DeviceInfo, Event, EventSource, GeoRangeName, MonitorStatus, ProjectText } from '@sfm/core';
import type {
  CacheKind, ChangeListener, EventSyncState, Identity, KindStats, LeaseHolder, LeaseStore, Millis, PendingText, Store, StoreCapabilities, StoredEvent, StoredInfo, StoredStatus, StoredWaveform, WaveformDocument,
} from '@sfm/core/cache';
import { SqliteArchive, eventColumns, keepKnownText, tsOf, timestampOf } from './archive.js';
import { ROW_OVERHEAD_BYTES, SYNC_BYTES, checkSchemaVersion, migrate } from './schema.js';
import { decodeWaveformBlob, encodeWaveformBlob } from './waveform-blob.js';

export const DEFAULT_SQLITE_PATH = './data/sfm.db';

export interface SqliteStoreOptions {
  /** How long a statement waits for another connection's lock, in ms (default 5000). */
  busyTimeoutMs?: number;
}

type EventRow = [idx: number, key: number, geoRange: GeoRangeName | null, fetchedAt: number, body: string];
type SyncRow = [first: number, last: number, counter: number | null, complete: number, probedAt: number];
type LeaseRow = [owner: string, host: string, pid: number, expiresAt: number];

/** SQLite result codes that mean "the storage refuses now", not "this input is wrong". */
const UNAVAILABLE = /^SQLITE_(READONLY|FULL|IOERR|CANTOPEN|BUSY|LOCKED|CORRUPT|NOTADB|PERM|NOLFS|PROTOCOL)/;

export class SqliteStore implements Store {
  readonly kind = 'sqlite';
  readonly capabilities: StoreCapabilities;
  /** The database file (or ':memory:'). */
  readonly path: string;
  readonly leases: LeaseStore;
  readonly archive: SqliteArchive;

  private readonly db: Database.Database;
  private closed = false;
  private readonly listeners: ChangeListener[] = [];
  private dataVersion: number;
  private seenSeq: number;

  private readonly q;
  private readonly tx;

  constructor(path: string = DEFAULT_SQLITE_PATH, opts: SqliteStoreOptions = {}) {
    this.path = path;
    const inMemory = path === ':memory:' || path === '';
    // A ':memory:' database lives and dies with this connection: nothing to share.
    this.capabilities = { persistent: !inMemory, evicts: false, shared: !inMemory };
    if (!inMemory) makeFolder(dirname(resolve(path)), path);
    const busy = opts.busyTimeoutMs ?? 5000;
    let db: Database.Database;
    try {
      db = new Database(path, { timeout: busy });
    } catch (e) {
      throw new StoreUnavailable(`cannot open the SQLite store at ${path}: ${(e as Error).message}`, { cause: e });
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
      if (e instanceof StoreError) throw e;
      throw unavailableOr(e, `cannot open the SQLite store at ${path}`);
    }
    this.db = db;

    this.q = {
      getIdentity: db.prepare<[string], [string, number]>('SELECT serial, confirmed_at FROM identities WHERE conn_key = ?').raw(),
      putIdentity: db.prepare<[string, string, number]>(
        `INSERT INTO identities (conn_key, serial, confirmed_at) VALUES (?, ?, ?)
         ON CONFLICT (conn_key) DO UPDATE SET serial = excluded.serial, confirmed_at = excluded.confirmed_at`,
      ),

      getInfo: db.prepare<[string], [string, number, number]>('SELECT json, fetched_at, dirty FROM device_info WHERE serial = ?').raw(),
      putInfo: db.prepare<[string, string, number]>(
        `INSERT INTO device_info (serial, json, fetched_at, dirty) VALUES (?, ?, ?, 0)
         ON CONFLICT (serial) DO UPDATE SET json = excluded.json, fetched_at = excluded.fetched_at, dirty = 0`,
      ),
      markDirty: db.prepare<[string]>('UPDATE device_info SET dirty = 1 WHERE serial = ?'),

      getSync: db.prepare<[string], SyncRow>('SELECT first_key, last_key, counter, complete, probed_at FROM event_sync WHERE serial = ?').raw(),
      putSync: db.prepare<[string, number, number, number | null, number, number]>(
        `INSERT INTO event_sync (serial, first_key, last_key, counter, complete, probed_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (serial) DO UPDATE SET first_key = excluded.first_key, last_key = excluded.last_key, counter = excluded.counter,
           complete = excluded.complete, probed_at = excluded.probed_at`,
      ),
      dropSync: db.prepare<[string]>('DELETE FROM event_sync WHERE serial = ?'),

      getEvents: db.prepare<[string], EventRow>(
        'SELECT l.idx, a.key, a.geo_range, a.fetched_at, a.body FROM live_events l JOIN archive_events a ON a.id = l.event_id WHERE l.serial = ? ORDER BY l.idx',
      ).raw(),
      getEvent: db.prepare<[string, number], EventRow>(
        'SELECT l.idx, a.key, a.geo_range, a.fetched_at, a.body FROM live_events l JOIN archive_events a ON a.id = l.event_id WHERE l.serial = ? AND l.idx = ?',
      ).raw(),
      // The archived text is an Event without its index, `{"key":…`: the live JSON puts the index
      // first by concatenation (no JSON parsing). CAST AS BLOB hands back the UTF-8 bytes as they are.
      eventsJson: db.prepare<[string], Buffer | null>(
        `SELECT CAST('[' || group_concat('{"index":' || l.idx || ',' || substr(a.body, 2), ',' ORDER BY l.idx) || ']' AS BLOB)
         FROM live_events l JOIN archive_events a ON a.id = l.event_id WHERE l.serial = ?`,
      ).pluck(),
      // Indexes run 0..n-1 without gaps (appendEvents enforces it), so the count is max + 1: one
      // b-tree descent instead of a walk over the unit's events.
      lastIndex: db.prepare<[string], number | null>('SELECT max(idx) FROM live_events WHERE serial = ?').pluck(),
      archived: db.prepare<[string, number, string], [number, string]>('SELECT id, body FROM archive_events WHERE serial = ? AND key = ? AND ts = ?').raw(),
      insertArchived: db.prepare<[string, number, string, string, GeoRangeName | null, string, number | null, string | null, number, number, string], number>(
        `INSERT INTO archive_events (serial, key, ts, body, geo_range, record_type, pvs, project, fetched_at, received_at, source)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      ).pluck(),
      refreshArchived: db.prepare<[string, GeoRangeName | null, string, number | null, string | null, number, number]>(
        'UPDATE archive_events SET body = ?, geo_range = ?, record_type = ?, pvs = ?, project = ?, fetched_at = ? WHERE id = ?',
      ),
      insertLive: db.prepare<[string, number, number]>('INSERT INTO live_events (serial, idx, event_id) VALUES (?, ?, ?)'),
      dropLive: db.prepare<[string]>('DELETE FROM live_events WHERE serial = ?'),
      pendingTexts: db.prepare<[string], [number, number, string]>(
        `SELECT l.idx, a.key, a.ts FROM live_events l JOIN archive_events a ON a.id = l.event_id
         WHERE l.serial = ? AND json_extract(a.body, '$.project_pending') = 1 ORDER BY l.idx`,
      ).raw(),
      liveBodyAt: db.prepare<[string, number, number], [number, string]>(
        'SELECT a.id, a.body FROM live_events l JOIN archive_events a ON a.id = l.event_id WHERE l.serial = ? AND l.idx = ? AND a.key = ?',
      ).raw(),
      setBody: db.prepare<[string, string | null, number]>('UPDATE archive_events SET body = ?, project = ? WHERE id = ?'),
      liveTotals: db.prepare<[], [number, number]>(
        `SELECT count(*), coalesce(sum(octet_length(a.body) + ${ROW_OVERHEAD_BYTES}), 0) FROM live_events l JOIN archive_events a ON a.id = l.event_id`,
      ).raw(),
      syncCount: db.prepare<[], number>('SELECT count(*) FROM event_sync').pluck(),

      getWaveform: db.prepare<[string, number, string], [Buffer, number, Buffer | null, number | null]>(
        'SELECT data, fetched_at, document, document_index FROM waveforms WHERE serial = ? AND key = ? AND ts = ?',
      ).raw(),
      getWaveformDocument: db.prepare<[string, number, string], [Buffer, number, number]>(
        'SELECT document, document_index, fetched_at FROM waveforms WHERE serial = ? AND key = ? AND ts = ? AND document IS NOT NULL',
      ).raw(),
      hasWaveform: db.prepare<[string, number, string], number>('SELECT 1 FROM waveforms WHERE serial = ? AND key = ? AND ts = ?').pluck(),
      putWaveform: db.prepare<[string, number, string, number, Buffer, Uint8Array | null, number | null]>(
        `INSERT INTO waveforms (serial, key, ts, fetched_at, data, document, document_index) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (serial, key, ts) DO UPDATE SET fetched_at = excluded.fetched_at, data = excluded.data,
           document = excluded.document, document_index = excluded.document_index`,
      ),
      analyseArchived: db.prepare<[string, string, number, string]>('UPDATE archive_events SET analysis = ? WHERE serial = ? AND key = ? AND ts = ?'),

      getStatus: db.prepare<[string], [string, number]>('SELECT json, fetched_at FROM monitor_status WHERE serial = ?').raw(),
      putStatus: db.prepare<[string, string, number]>(
        `INSERT INTO monitor_status (serial, json, fetched_at) VALUES (?, ?, ?)
         ON CONFLICT (serial) DO UPDATE SET json = excluded.json, fetched_at = excluded.fetched_at`,
      ),
      deleteStatus: db.prepare<[string]>('DELETE FROM monitor_status WHERE serial = ?'),
      dropIdentity: db.prepare<[string]>('DELETE FROM identities WHERE conn_key = ?'),
      dropInfo: db.prepare<[string]>('DELETE FROM device_info WHERE serial = ?'),

      totals: db.prepare<[], [string, number, number]>('SELECT kind, entries, bytes FROM kind_totals').raw(),
      // The fleet: each write that shows a unit says when (and, for an identity, where).
      seeUnit: db.prepare<[string, number, number]>(
        `INSERT INTO units (serial, first_seen, last_seen) VALUES (?, ?, ?)
         ON CONFLICT (serial) DO UPDATE SET first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`,
      ),
      unitAddress: db.prepare<[{ serial: string; at: number; address: string }]>(
        'UPDATE units SET last_address = @address, address_at = @at WHERE serial = @serial AND (address_at IS NULL OR address_at <= @at)',
      ),
      unitInfo: db.prepare<[{ serial: string; info: string; at: number }]>('UPDATE units SET info = @info, info_at = @at WHERE serial = @serial AND (info_at IS NULL OR info_at <= @at)'),
      unitStatus: db.prepare<[{ serial: string; status: string; at: number }]>(
        'UPDATE units SET last_status = @status, status_at = @at WHERE serial = @serial AND (status_at IS NULL OR status_at <= @at)',
      ),

      nextSeq: db.prepare<[], number>('UPDATE change_seq SET n = n + 1 RETURNING n').pluck(),
      logChange: db.prepare<[string, number]>('INSERT INTO change_log (scope, seq) VALUES (?, ?) ON CONFLICT (scope) DO UPDATE SET seq = excluded.seq'),
      maxSeq: db.prepare<[], number>('SELECT n FROM change_seq').pluck(),
      changesSince: db.prepare<[number], [string, number]>('SELECT scope, seq FROM change_log WHERE seq > ? ORDER BY seq').raw(),
      dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),

      getLease: db.prepare<[string], LeaseRow>('SELECT owner, host, pid, expires_at FROM leases WHERE lock_key = ?').raw(),
      putLease: db.prepare<[string, string, string, number, number]>(
        `INSERT INTO leases (lock_key, owner, host, pid, expires_at, wanted) VALUES (?, ?, ?, ?, ?, 0)
         ON CONFLICT (lock_key) DO UPDATE SET owner = excluded.owner, host = excluded.host, pid = excluded.pid, expires_at = excluded.expires_at, wanted = 0`,
      ),
      renewLease: db.prepare<[number, string, string]>('UPDATE leases SET expires_at = ? WHERE lock_key = ? AND owner = ?'),
      releaseLease: db.prepare<[string, string]>('DELETE FROM leases WHERE lock_key = ? AND owner = ?'),
      wantLease: db.prepare<[string]>('UPDATE leases SET wanted = 1 WHERE lock_key = ? AND wanted = 0'),
      leaseWanted: db.prepare<[string, string], number>('SELECT wanted FROM leases WHERE lock_key = ? AND owner = ?').pluck(),

      checkpoint: db.prepare('PRAGMA wal_checkpoint(TRUNCATE)'),
    };
    const q = this.q;
    const touch = (scope: string): void => {
      q.logChange.run(scope, q.nextSeq.get()!);
    };
    const lastIndex = (serial: string): number => q.lastIndex.get(serial) ?? -1;

    /** A write showed the unit at `at` (the empty serial is no unit). */
    const seen = (serial: string, at: number): void => {
      if (serial !== '') q.seeUnit.run(serial, at, at);
    };
    const seenAt = (serial: string, at: number, address: string): void => {
      seen(serial, at);
      q.unitAddress.run({ serial, at, address });
    };
    this.tx = {
      putIdentity: immediate(db, (connKey: string, id: Identity) => {
        q.putIdentity.run(connKey, id.serial, id.confirmedAt);
        seenAt(id.serial, id.confirmedAt, connKey);
        touch(addressScope(connKey));
      }),
      putInfo: immediate(db, (serial: string, json: string, at: number) => {
        q.putInfo.run(serial, json, at);
        seen(serial, at);
        q.unitInfo.run({ serial, info: json, at });
        touch(unitScope(serial));
      }),
      markDirty: immediate(db, (serial: string) => {
        const changed = q.markDirty.run(serial).changes > 0;
        if (changed) touch(unitScope(serial));
        return changed;
      }),
      putSync: immediate(db, (serial: string, s: EventSyncState) => {
        q.putSync.run(serial, s.first, s.last, s.counter, s.complete ? 1 : 0, s.probedAt);
        touch(unitScope(serial));
      }),
      append: immediate(db, (serial: string, events: readonly StoredEvent[], sync: EventSyncState | undefined, source: EventSource) => {
        const next = lastIndex(serial) + 1;
        events.forEach((e, i) => {
          if (e.event.index !== next + i) {
            throw new StoreError(`appendEvents: event ${i} of the batch has index ${e.event.index}, expected ${next + i} (the unit has ${next} cached)`);
          }
        });
        let archivedNew = 0;
        for (const e of events) {
          // Archived once by identity: a known event is refreshed in place (id, received time,
          // source and review stay); a new one is added. The live row points at it.
          const c = eventColumns(e.event);
          const ts = tsOf(e.event.timestamp);
          const known = q.archived.get(serial, e.key, ts);
          let id: number;
          if (known === undefined) {
            id = q.insertArchived.get(serial, e.key, ts, c.body, e.geoRange, c.recordType, c.pvs, c.project, e.fetchedAt, e.fetchedAt, source)!;
            archivedNew++;
          } else {
            id = known[0];
            // A read whose text is still to be read keeps the text the archive has.
            const r = e.event.project_pending ? keepKnownText(e.event, known[1]) : c;
            q.refreshArchived.run(r.body, e.geoRange, r.recordType, r.pvs, r.project, e.fetchedAt, id);
          }
          q.insertLive.run(serial, e.event.index, id);
          seen(serial, e.fetchedAt);
        }
        if (sync) q.putSync.run(serial, sync.first, sync.last, sync.counter, sync.complete ? 1 : 0, sync.probedAt);
        if (events.length > 0 || sync) touch(unitScope(serial));
        return { archivedNew };
      }),
      fillText: immediate(db, (serial: string, index: number, key: number, text: ProjectText) => {
        const row = q.liveBodyAt.get(serial, index, key);
        if (row === undefined) return false;
        const event = JSON.parse(row[1]) as Omit<Event, 'index'>;
        q.setBody.run(JSON.stringify({ ...event, project: { ...text }, project_pending: false }), text.project, row[0]);
        touch(unitScope(serial));
        return true;
      }),
      drop: immediate(db, (serial: string) => {
        const events = q.dropLive.run(serial).changes;
        const syncs = q.dropSync.run(serial).changes;
        if (events + syncs > 0) touch(unitScope(serial));
        return { events };
      }),
      putWaveform: immediate(db, (serial: string, w: StoredWaveform, blob: Buffer, analysis: string | null) => {
        const ts = tsOf(w.timestamp);
        const isNew = q.hasWaveform.get(serial, w.key, ts) === undefined;
        q.putWaveform.run(serial, w.key, ts, w.fetchedAt, blob, w.document?.gzip ?? null, w.document?.index ?? null);
        if (analysis !== null) q.analyseArchived.run(analysis, serial, w.key, ts);
        touch(unitScope(serial));
        return isNew;
      }),
      putStatus: immediate(db, (serial: string, json: string, at: number) => {
        q.putStatus.run(serial, json, at);
        seen(serial, at);
        q.unitStatus.run({ serial, status: json, at });
        touch(unitScope(serial));
      }),
      deleteStatus: immediate(db, (serial: string) => {
        const changed = q.deleteStatus.run(serial).changes > 0;
        if (changed) touch(unitScope(serial));
        return changed;
      }),
      clear: immediate(db, (connKey: string): Record<CacheKind, number> => {
        const id = q.getIdentity.get(connKey);
        const counts: Record<CacheKind, number> = { device_info: 0, events: 0, waveform: 0, monitor_status: 0 };
        if (!id) return counts;
        const serial = id[0];
        q.dropIdentity.run(connKey);
        q.dropSync.run(serial);
        counts.device_info = q.dropInfo.run(serial).changes;
        counts.events = q.dropLive.run(serial).changes;
        // The archive's events and waveforms stay.
        counts.monitor_status = q.deleteStatus.run(serial).changes;
        touch(addressScope(connKey));
        touch(unitScope(serial));
        return counts;
      }),
      tryLease: immediate(db, (key: string, h: LeaseHolder, now: number, takeOverFrom: string | undefined) => {
        const row = q.getLease.get(key);
        if (row && row[3] > now && row[0] !== h.owner && row[0] !== takeOverFrom) {
          q.wantLease.run(key);
          return { acquired: false as const, heldBy: { owner: row[0], host: row[1], pid: row[2], expiresAt: row[3] } };
        }
        q.putLease.run(key, h.owner, h.host, h.pid, h.expiresAt);
        return { acquired: true as const };
      }),
    };

    this.dataVersion = q.dataVersion.get()!;
    this.seenSeq = q.maxSeq.get()!;
    this.archive = new SqliteArchive(db, (fn) => this.run(fn), { persistent: !inMemory, touch, seen, seenAt });

    const store = this;
    this.leases = {
      tryAcquire: (key, holder, o) => store.run(() => store.tx.tryLease(key, holder, o.now, o.takeOverFrom)),
      renew: (key, owner, expiresAt) => store.run(() => q.renewLease.run(expiresAt, key, owner).changes > 0),
      release: (key, owner) => store.run(() => void q.releaseLease.run(key, owner)),
      wanted: (key, owner) => store.run(() => q.leaseWanted.get(key, owner) === 1),
    };
  }

  /** Runs a statement for an async method: errors become StoreError / StoreUnavailable rejections. */
  private run<T>(fn: () => T): Promise<T> {
    try {
      this.live();
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(this.translate(e));
    }
  }

  private translate(e: unknown): unknown {
    if (e instanceof StoreError) return e;
    if (e instanceof Database.SqliteError && e.code.startsWith('SQLITE_CONSTRAINT')) {
      return new StoreError(`the store cannot keep this: ${e.message}`, { cause: e });
    }
    return unavailableOr(e, `the SQLite store at ${this.path}`);
  }

  pollChanges(): void {
    if (this.closed) return;
    let version: number;
    try {
      version = this.q.dataVersion.get()!;
      if (version === this.dataVersion) return;
      this.dataVersion = version;
      const rows = this.q.changesSince.all(this.seenSeq);
      if (rows.length === 0) return;
      this.seenSeq = rows[rows.length - 1]![1];
      const scopes = rows.map((r) => r[0]);
      for (const l of this.listeners) l(scopes);
    } catch (e) {
      throw this.translate(e);
    }
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  getIdentity(connKey: string): Promise<Identity | undefined> {
    return this.run(() => {
      const row = this.q.getIdentity.get(connKey);
      return row && { serial: row[0], confirmedAt: row[1] };
    });
  }

  putIdentity(connKey: string, identity: Identity): Promise<void> {
    return this.run(() => this.tx.putIdentity(connKey, identity));
  }

  getInfo(serial: string): Promise<StoredInfo | undefined> {
    return this.run(() => {
      const row = this.q.getInfo.get(serial);
      return row && { info: JSON.parse(row[0]) as DeviceInfo, fetchedAt: row[1], dirty: row[2] === 1 };
    });
  }

  putInfo(serial: string, info: DeviceInfo, fetchedAt: Millis): Promise<void> {
    return this.run(() => this.tx.putInfo(serial, JSON.stringify(info), fetchedAt));
  }

  markInfoDirty(serial: string): Promise<boolean> {
    return this.run(() => this.tx.markDirty(serial));
  }

  getEventSync(serial: string): Promise<EventSyncState | undefined> {
    return this.run(() => {
      const row = this.q.getSync.get(serial);
      return row && { first: row[0], last: row[1], counter: row[2], complete: row[3] === 1, probedAt: row[4] };
    });
  }

  putEventSync(serial: string, sync: EventSyncState): Promise<void> {
    return this.run(() => this.tx.putSync(serial, sync));
  }

  getEvents(serial: string): Promise<StoredEvent[]> {
    return this.run(() => this.q.getEvents.all(serial).map(toStoredEvent));
  }

  getEvent(serial: string, index: number): Promise<StoredEvent | undefined> {
    return this.run(() => {
      if (!Number.isInteger(index) || index < 0) return undefined;
      const row = this.q.getEvent.get(serial, index);
      return row && toStoredEvent(row);
    });
  }

  getEventsJson(serial: string): Promise<Uint8Array | undefined> {
    return this.run(() => this.q.eventsJson.get(serial) ?? undefined);
  }

  eventCount(serial: string): Promise<number> {
    return this.run(() => (this.q.lastIndex.get(serial) ?? -1) + 1);
  }

  appendEvents(serial: string, events: readonly StoredEvent[], sync?: EventSyncState, source: EventSource = 'call-up'): Promise<{ archivedNew: number }> {
    return this.run(() => this.tx.append(serial, events, sync, source));
  }

  pendingTexts(serial: string): Promise<PendingText[]> {
    return this.run(() => this.q.pendingTexts.all(serial).map(([index, key, ts]) => ({ index, key, timestamp: timestampOf(ts) })));
  }

  fillEventText(serial: string, index: number, key: number, text: ProjectText): Promise<boolean> {
    return this.run(() => this.tx.fillText(serial, index, key, text));
  }

  dropEvents(serial: string): Promise<{ events: number }> {
    return this.run(() => this.tx.drop(serial));
  }

  getWaveform(serial: string, key: number, timestamp: string | null): Promise<StoredWaveform | undefined> {
    return this.run(() => {
      const row = this.q.getWaveform.get(serial, key, tsOf(timestamp));
      if (!row) return undefined;
      const w = decodeWaveformBlob(row[0], key, timestamp, row[1]);
      if (row[2] !== null && row[3] !== null) w.document = { index: row[3], gzip: row[2] };
      return w;
    });
  }

  getWaveformDocument(serial: string, key: number, timestamp: string | null): Promise<(WaveformDocument & { fetchedAt: Millis }) | undefined> {
    return this.run(() => {
      const row = this.q.getWaveformDocument.get(serial, key, tsOf(timestamp));
      return row && { gzip: row[0], index: row[1], fetchedAt: row[2] };
    });
  }

  putWaveform(serial: string, w: StoredWaveform, analysis?: AnalysisSummary): Promise<boolean> {
    return this.run(() => this.tx.putWaveform(serial, w, encodeWaveformBlob(w), analysis === undefined ? null : JSON.stringify(analysis)));
  }

  getStatus(serial: string): Promise<StoredStatus | undefined> {
    return this.run(() => {
      const row = this.q.getStatus.get(serial);
      return row && { status: JSON.parse(row[0]) as MonitorStatus, fetchedAt: row[1] };
    });
  }

  putStatus(serial: string, status: MonitorStatus, fetchedAt: Millis): Promise<void> {
    return this.run(() => this.tx.putStatus(serial, JSON.stringify(status), fetchedAt));
  }

  deleteStatus(serial: string): Promise<boolean> {
    return this.run(() => this.tx.deleteStatus(serial));
  }

  clearConnection(connKey: string): Promise<Record<CacheKind, number>> {
    return this.run(() => this.tx.clear(connKey));
  }

  stats(): Promise<Record<CacheKind, KindStats>> {
    return this.run(() => {
      const out = {} as Record<CacheKind, KindStats>;
      for (const kind of CACHE_KINDS) out[kind] = { entries: 0, bytes: 0 };
      for (const [kind, entries, bytes] of this.q.totals.all()) if ((CACHE_KINDS as readonly string[]).includes(kind)) out[kind as CacheKind] = { entries, bytes };
      // The live lists point into the archive: counted from them (a unit's list is small).
      const [live, liveBytes] = this.q.liveTotals.get()!;
      out.events = { entries: live, bytes: liveBytes + SYNC_BYTES * this.q.syncCount.get()! };
      return out;
    });
  }

  /** Folds the WAL back into the database file and closes it; later calls reject with StoreError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (!this.db.memory) this.q.checkpoint.get();
    } catch {
      // A checkpoint the file system refuses leaves the WAL beside the file: still consistent.
    } finally {
      this.db.close();
    }
  }

  private live(): void {
    if (this.closed) throw new StoreError(`the SQLite store at ${this.path} is closed`);
  }
}

/** A storage failure as StoreUnavailable (naming the cause); anything else as it is. */
function unavailableOr(e: unknown, where: string): unknown {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && UNAVAILABLE.test(code)) {
    return new StoreUnavailable(`${where}: ${describeCode(code)} (${(e as Error).message})`, { cause: e });
  }
  return e;
}

function describeCode(code: string): string {
  if (code.startsWith('SQLITE_READONLY')) return 'the database is read-only';
  if (code === 'SQLITE_FULL') return 'the disk is full';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'the database stayed locked by another process';
  if (code.startsWith('SQLITE_IOERR')) return 'the disk reported an I/O error';
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') return 'the database file is damaged';
  return 'the database cannot be used';
}

/**
 * Creates the store's own folder when it is missing (as ./data is for the default path), and no
 * more: when that folder's parent is missing too, the path is more likely mistyped than meant,
 * and it is refused rather than built. A failure names the store and says why in words.
 */
function makeFolder(folder: string, path: string): void {
  try {
    if (statSync(folder, { throwIfNoEntry: false })?.isDirectory()) return;
    mkdirSync(folder);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? `its parent ${dirname(folder)} does not exist either (sfm creates only the store's own folder: create the parent, or give another path)`
      : code === 'EEXIST' || code === 'ENOTDIR' ? 'a part of that path is a file, not a folder'
      : code === 'EACCES' || code === 'EPERM' ? 'permission denied'
      : code === 'EROFS' ? 'the file system is read-only'
      : (e as Error).message;
    throw new StoreError(`cannot create the folder ${folder} for the SQLite store at ${path}: ${why}`, { cause: e });
  }
}

function toStoredEvent(row: EventRow): StoredEvent {
  return { event: { index: row[0], ...(JSON.parse(row[4]) as Omit<Event, 'index'>) }, key: row[1], geoRange: row[2], fetchedAt: row[3] };
}

/** A write transaction taking the write lock at BEGIN (IMMEDIATE). */
function immediate<A extends unknown[], R>(db: Database.Database, fn: (...args: A) => R): (...args: A) => R {
  const tx = db.transaction(fn);
  return (...args: A) => tx.immediate(...args);
}
