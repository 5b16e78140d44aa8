/**
 * PostgresStore: the cache on a PostgreSQL server, shareable by several relays (`sfm serve` on
 * several machines, and the CLI).
 *
 * - A connection pool (node-postgres); every repeated statement is a named prepared statement
 *   (prepared once per connection); every multi-row write is one transaction, retried when the
 *   server reports a deadlock or a serialization failure. Writes to one unit's live list also
 *   take a transaction-level advisory lock on the unit, so two relays never interleave them.
 * - Migrations are versioned in `sfm_schema` and applied under an advisory lock (schema.ts).
 * - Waveforms keep each channel's samples as bytea (little-endian int16), read back as Int16Array
 *   views; the gzip document is bytea too. Times are BIGINT milliseconds.
 * - Across relays: leases are rows taken by one atomic upsert (no connection state, so they hold
 *   behind a transaction-pooling proxy such as PgBouncer); the change feed is LISTEN/NOTIFY
 *   (change-feed.ts). The hot path never waits on the network: `pollChanges()` only hands over
 *   what the feed already queued.
 * - A server that cannot be reached, refuses connections, is read-only or out of space is
 *   StoreUnavailable; input the schema refuses is StoreError.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { EVENT_SOURCES } from '@sfm/core/schema';
import { CACHE_KINDS, StoreError, StoreUnavailable, addressScope, refreshedEvent, unitScope } from '@sfm/core/cache';
import type { AnalysisSummary, DeviceInfo, Event, EventSource, GeoRangeName, MonitorStatus, ProjectText } from '@sfm/core';
import type {
  CacheKind, ChangeListener, EventSyncState, Identity, KindStats, LeaseHolder, LeaseStore, Millis, PendingText, Store, StoreCapabilities, StoredEvent, StoredInfo, StoredStatus, StoredWaveform, WaveformDocument,
} from '@sfm/core/cache';
import { PostgresArchive } from './archive.js';
import { ChangeFeed, notificationPayload, type FeedMember } from './change-feed.js';
import { SYNC_BYTES, migrate } from './schema.js';
import { SQL, tsOf, timestampOf, type Row, type Runner, type Statement } from './statements.js';
import { waveformOf, waveformValues } from './waveform-columns.js';

export interface PostgresStoreOptions {
  /** Connections in the pool (default 10), besides the one LISTEN connection per process. */
  poolSize?: number;
  /** How long a write waits for its change notification to come back before answering, in ms (default 2000). */
  echoWaitMs?: number;
  /** How long to wait for a connection (to the server, or from the pool), in ms (default 10 000). */
  connectTimeoutMs?: number;
}


/** What a write transaction may do besides its statements. */
export interface WriteTx {
  run: Runner;
  /** Records that a scope changed (the change feed). */
  touch(scope: string): void;
  /** Serializes writes to the unit's rows with other relays' until the transaction ends. */
  lockUnit(serial: string): Promise<void>;
}


/** int8 and numeric (sum of int8) come back as strings by default: numbers here (millis, ids and byte counts fit). */
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

/** SQLSTATE classes and codes that mean "the server refuses now", not "this input is wrong". */
const UNAVAILABLE_STATE = /^(08|53|57|58|XX)|^25006$|^3D000$|^28/;
const RETRY_STATE = new Set(['40001', '40P01']);
/** node-postgres's own words for a connection it lost or could not make. */
const CONNECTION_TROUBLE = /connect|Connection terminated|timeout|not queryable|ended/i;

/** What the archive keeps of an Event: its text without the live index, and the filtered columns. */
function eventColumns(e: Omit<Event, 'index'> & { index?: number }): { body: string; recordType: string; pvs: number | null; project: string | null; pending: boolean } {
  const { index: _live, ...rest } = e;
  return { body: JSON.stringify(rest), recordType: e.record_type, pvs: e.peaks.pvs_ips, project: e.project.project, pending: e.project_pending };
}

/** The URL without its password, for messages. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

export class PostgresStore implements Store {
  readonly kind = 'postgres';
  readonly capabilities: StoreCapabilities = { persistent: true, evicts: false, shared: true };
  readonly leases: LeaseStore;
  readonly archive: PostgresArchive;
  /** The server, for messages (no password). */
  readonly where: string;

  /** Names this store in its change notifications. */
  private readonly id = randomBytes(8).toString('hex');
  private readonly member: FeedMember = { id: this.id, heard: (scopes) => this.heard(scopes), echoed: (seq) => this.echoed(seq) };
  /** Own writes waiting for their notification to come back, by write number. */
  private readonly echoWaits = new Map<number, () => void>();
  /** Own notifications that came back before (or after) their write waited. */
  private readonly echoesUnclaimed = new Set<number>();
  private feed!: ChangeFeed;
  private readonly listeners: ChangeListener[] = [];
  private pending: Set<string> | 'all' | undefined;
  private writes = 0;
  private closed = false;
  private readonly echoWaitMs: number;

  private constructor(
    private readonly pool: pg.Pool,
    where: string,
    opts: PostgresStoreOptions,
  ) {
    this.where = where;
    this.echoWaitMs = opts.echoWaitMs ?? 2000;
    this.archive = new PostgresArchive(
      (s, v) => this.read(s, v),
      (fn) => this.write(fn),
      (fn) => this.guard(fn),
    );
    this.leases = {
      tryAcquire: (key, h, o) => this.tryLease(key, h, o.now, o.takeOverFrom),
      renew: async (key, owner, expiresAt) => (await this.exec(SQL.renewLease, [key, owner, expiresAt])).rowCount! > 0,
      release: async (key, owner) => void (await this.exec(SQL.releaseLease, [key, owner])),
      wanted: async (key, owner) => (await this.read(SQL.leaseWanted, [key, owner]))[0]?.[0] === true,
    };
  }

  /**
   * Connects to the server at `url` (postgres://user:password@host:port/database), brings the
   * schema up to date and starts listening for other relays' writes.
   */
  static async open(url: string, opts: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const where = describeUrl(url);
    const config: pg.PoolConfig = {
      connectionString: url,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
      types: TYPES,
      application_name: 'sfm',
    };
    const pool = new pg.Pool(config);
    // An idle connection the server dropped: the pool discards it; the next query reconnects.
    pool.on('error', () => undefined);
    try {
      const client = await pool.connect();
      try {
        await migrate(client, where);
      } finally {
        client.release();
      }
      const store = new PostgresStore(pool, where, opts);
      store.feed = await ChangeFeed.join(url, { connectionString: url, connectionTimeoutMillis: config.connectionTimeoutMillis, application_name: 'sfm listen' }, store.member);
      return store;
    } catch (e) {
      await pool.end().catch(() => undefined);
      if (e instanceof StoreError) throw e;
      throw new StoreUnavailable(`cannot open the PostgreSQL store at ${where}: ${describeError(e)}`, { cause: e });
    }
  }

  /** Whether other relays' writes reach this store now (false while the LISTEN connection is re-made). */
  get listening(): boolean {
    return !this.closed && this.feed.listening;
  }

  private heard(scopes: readonly string[] | 'all'): void {
    // The feed went down or came back: no write waits for its echo any more.
    if (scopes === 'all') for (const settle of [...this.echoWaits.values()]) settle();
    if (scopes === 'all' || this.pending === 'all') {
      this.pending = 'all';
      return;
    }
    this.pending ??= new Set();
    for (const s of scopes) this.pending.add(s);
  }

  private echoed(seq: number): void {
    const settle = this.echoWaits.get(seq);
    if (settle) settle();
    else if (seq > this.writes - 10_000) this.echoesUnclaimed.add(seq);
  }

  /** Resolves once write `seq`'s notification came back, the feed went down, or the wait limit passed. */
  private echo(seq: number): Promise<void> {
    if (this.echoesUnclaimed.delete(seq) || !this.feed.listening) return Promise.resolve();
    return new Promise((resolve) => {
      const settle = (): void => {
        clearTimeout(timer);
        this.echoWaits.delete(seq);
        resolve();
      };
      const timer = setTimeout(settle, this.echoWaitMs);
      this.echoWaits.set(seq, settle);
    });
  }

  pollChanges(): void {
    if (this.closed) return;
    let told = this.pending;
    this.pending = undefined;
    // Nobody listens now: anything may change unheard, so nothing in memory is trusted.
    if (!this.feed.listening) told = 'all';
    if (told === undefined) return;
    const scopes = told === 'all' ? 'all' : [...told];
    for (const l of this.listeners) l(scopes);
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  // --- plumbing ----------------------------------------------------------------------------------

  /** Runs `fn` for an async method: failures become StoreError / StoreUnavailable rejections. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError(`the PostgreSQL store at ${this.where} is closed`);
    try {
      return await fn();
    } catch (e) {
      throw this.translate(e);
    }
  }

  private translate(e: unknown): unknown {
    if (e instanceof StoreError) return e;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^(22|23)/.test(code)) return new StoreError(`the store cannot keep this: ${(e as Error).message}`, { cause: e });
    const unavailable = e instanceof pg.DatabaseError ? UNAVAILABLE_STATE.test(code as string) : e instanceof Error && (typeof code === 'string' || CONNECTION_TROUBLE.test(e.message));
    return unavailable ? new StoreUnavailable(`the PostgreSQL store at ${this.where}: ${describeError(e)}`, { cause: e }) : e;
  }

  private read(s: Statement, values: unknown[] = []): Promise<Row[]> {
    return this.guard(async () => (await this.pool.query({ name: s.name, text: s.text, values, rowMode: 'array' })).rows as Row[]);
  }

  private exec(s: Statement, values: unknown[] = []): Promise<pg.QueryResult> {
    return this.guard(() => this.pool.query({ name: s.name, text: s.text, values, rowMode: 'array' }));
  }

  /**
   * One write transaction: its statements, then a notification of what it changed (sent when it
   * commits), then the wait for that notification to come back. Retried on a deadlock or a
   * serialization failure.
   */
  private write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    return this.guard(async () => {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        for (let attempt = 1; ; attempt++) {
          const touched = new Set<string>();
          const run: Runner = async (s, values = []) => (await client.query({ name: s.name, text: s.text, values, rowMode: 'array' })).rows as Row[];
          try {
            await client.query('BEGIN');
            const result = await fn({ run, touch: (scope) => touched.add(scope), lockUnit: async (serial) => void (await run(SQL.lockUnit, [serial])) });
            const seq = touched.size > 0 ? ++this.writes : 0;
            if (seq) await run(SQL.notify, [notificationPayload(this.id, seq, touched)]);
            await client.query('COMMIT');
            if (seq) await this.echo(seq);
            return result;
          } catch (e) {
            await client.query('ROLLBACK').catch((r: Error) => (broken = r));
            const code = (e as { code?: string }).code;
            if (!broken && code !== undefined && RETRY_STATE.has(code) && attempt < 5) continue;
            if (!(e instanceof pg.DatabaseError) && !(e instanceof StoreError)) broken = e as Error;
            throw e;
          }
        }
      } finally {
        // A connection that failed mid-transaction is not handed out again.
        client.release(broken);
      }
    });
  }

  private async tryLease(key: string, h: LeaseHolder, now: Millis, takeOverFrom: string | undefined): Promise<{ acquired: true } | { acquired: false; heldBy: LeaseHolder }> {
    for (;;) {
      const taken = await this.exec(SQL.takeLease, [key, h.owner, h.host, h.pid, h.expiresAt, now, takeOverFrom ?? null]);
      if (taken.rowCount! > 0) return { acquired: true };
      const held = (await this.read(SQL.wantLease, [key]))[0];
      // Released between the two statements: try again.
      if (held) return { acquired: false, heldBy: { owner: held[0] as string, host: held[1] as string, pid: held[2] as number, expiresAt: held[3] as number } };
    }
  }

  // --- identity, info, sync, status ---------------------------------------------------------------

  async getIdentity(connKey: string): Promise<Identity | undefined> {
    const row = (await this.read(SQL.getIdentity, [connKey]))[0];
    return row && { serial: row[0] as string, confirmedAt: row[1] as number };
  }

  putIdentity(connKey: string, identity: Identity): Promise<void> {
    return this.write(async (tx) => {
      await tx.run(SQL.putIdentity, [connKey, identity.serial, identity.confirmedAt]);
      await tx.run(SQL.seeAddress, [identity.serial, identity.confirmedAt, connKey]);
      tx.touch(addressScope(connKey));
    });
  }

  async getInfo(serial: string): Promise<StoredInfo | undefined> {
    const row = (await this.read(SQL.getInfo, [serial]))[0];
    return row && { info: JSON.parse(row[0] as string) as DeviceInfo, fetchedAt: row[1] as number, dirty: row[2] as boolean };
  }

  putInfo(serial: string, info: DeviceInfo, fetchedAt: Millis): Promise<void> {
    const json = JSON.stringify(info);
    return this.write(async (tx) => {
      await tx.run(SQL.putInfo, [serial, json, fetchedAt]);
      await tx.run(SQL.seeInfo, [serial, fetchedAt, json]);
      tx.touch(unitScope(serial));
    });
  }

  markInfoDirty(serial: string): Promise<boolean> {
    return this.write(async (tx) => {
      const changed = (await tx.run(withReturning(SQL.markDirty), [serial])).length > 0;
      if (changed) tx.touch(unitScope(serial));
      return changed;
    });
  }

  async getEventSync(serial: string): Promise<EventSyncState | undefined> {
    const r = (await this.read(SQL.getSync, [serial]))[0];
    return r && { first: r[0] as number, last: r[1] as number, counter: r[2] as number | null, complete: r[3] as boolean, probedAt: r[4] as number };
  }

  putEventSync(serial: string, sync: EventSyncState): Promise<void> {
    return this.write(async (tx) => {
      await tx.run(SQL.putSync, syncValues(serial, sync));
      tx.touch(unitScope(serial));
    });
  }

  async getStatus(serial: string): Promise<StoredStatus | undefined> {
    const row = (await this.read(SQL.getStatus, [serial]))[0];
    return row && { status: JSON.parse(row[0] as string) as MonitorStatus, fetchedAt: row[1] as number };
  }

  putStatus(serial: string, status: MonitorStatus, fetchedAt: Millis): Promise<void> {
    const json = JSON.stringify(status);
    return this.write(async (tx) => {
      await tx.run(SQL.putStatus, [serial, json, fetchedAt]);
      await tx.run(SQL.seeStatus, [serial, fetchedAt, json]);
      tx.touch(unitScope(serial));
    });
  }

  deleteStatus(serial: string): Promise<boolean> {
    return this.write(async (tx) => {
      const changed = (await tx.run(withReturning(SQL.deleteStatus), [serial])).length > 0;
      if (changed) tx.touch(unitScope(serial));
      return changed;
    });
  }

  // --- the live list --------------------------------------------------------------------------------

  async getEvents(serial: string): Promise<StoredEvent[]> {
    return (await this.read(SQL.getEvents, [serial])).map(toStoredEvent);
  }

  async getEvent(serial: string, index: number): Promise<StoredEvent | undefined> {
    if (!Number.isSafeInteger(index) || index < 0 || index > 0x7fffffff) return this.guard(async () => undefined);
    const row = (await this.read(SQL.getEvent, [serial, index]))[0];
    return row && toStoredEvent(row);
  }

  async getEventsJson(serial: string): Promise<Uint8Array | undefined> {
    const text = (await this.read(SQL.eventsJson, [serial]))[0]?.[0] as string | null | undefined;
    return text == null ? undefined : Buffer.from(text, 'utf8');
  }

  async eventCount(serial: string): Promise<number> {
    const last = (await this.read(SQL.lastIndex, [serial]))[0]?.[0] as number | null | undefined;
    return (last ?? -1) + 1;
  }

  appendEvents(serial: string, events: readonly StoredEvent[], sync?: EventSyncState, source: EventSource = 'call-up'): Promise<{ archivedNew: number }> {
    if (!(EVENT_SOURCES as readonly string[]).includes(source)) return this.guard(async () => Promise.reject(new StoreError(`appendEvents: source must be one of ${EVENT_SOURCES.join(', ')}, got ${JSON.stringify(source)}`)));
    if (events.length === 0 && !sync) return this.guard(async () => ({ archivedNew: 0 }));
    return this.write(async (tx) => {
      await tx.lockUnit(serial);
      const next = (((await tx.run(SQL.lastIndex, [serial]))[0]?.[0] as number | null) ?? -1) + 1;
      events.forEach((e, i) => {
        if (e.event.index !== next + i) {
          throw new StoreError(`appendEvents: event ${i} of the batch has index ${e.event.index}, expected ${next + i} (the unit has ${next} cached)`);
        }
      });
      let archivedNew = 0;
      if (events.length > 0) archivedNew = await this.archiveBatch(tx, serial, events, source);
      if (sync) await tx.run(SQL.putSync, syncValues(serial, sync));
      tx.touch(unitScope(serial));
      return { archivedNew };
    });
  }

  /**
   * Archives a batch (a known identity is refreshed in place, a new one added, in the order of
   * the batch, as if one by one) and points the live rows at them, in a few statements whatever
   * its length.
   */
  private async archiveBatch(tx: WriteTx, serial: string, events: readonly StoredEvent[], source: EventSource): Promise<number> {
    const identity = (key: number, ts: string): string => `${key}\u0000${ts}`;
    const known = new Map<string, { id: number; body: string }>();
    for (const [id, key, ts, body] of await tx.run(SQL.archived, [serial, events.map((e) => e.key), events.map((e) => tsOf(e.event.timestamp))])) {
      known.set(identity(key as number, ts as string), { id: id as number, body: body as string });
    }
    interface Plan { id?: number; key: number; ts: string; fields: Omit<Event, 'index'>; geoRange: GeoRangeName | null; fetchedAt: number; receivedAt: number }
    const plans = new Map<string, Plan>();
    const order: string[] = [];
    for (const e of events) {
      const ts = tsOf(e.event.timestamp);
      const k = identity(e.key, ts);
      let plan = plans.get(k);
      const { index: _live, ...read } = e.event;
      if (!plan) {
        const prior = known.get(k);
        const fields = prior ? refreshedEvent(JSON.parse(prior.body) as Omit<Event, 'index'>, read) : read;
        plan = { id: prior?.id, key: e.key, ts, fields, geoRange: e.geoRange, fetchedAt: e.fetchedAt, receivedAt: e.fetchedAt };
        plans.set(k, plan);
      } else {
        Object.assign(plan, { fields: refreshedEvent(plan.fields, read), geoRange: e.geoRange, fetchedAt: e.fetchedAt });
      }
      order.push(k);
    }
    const added = [...plans.values()].filter((p) => p.id === undefined);
    const refreshed = [...plans.values()].filter((p) => p.id !== undefined);
    const columns = (ps: Plan[]) => {
      const cs = ps.map((p) => eventColumns(p.fields));
      return [cs.map((c) => c.body), ps.map((p) => p.geoRange), cs.map((c) => c.recordType), cs.map((c) => c.pvs), cs.map((c) => c.project), cs.map((c) => c.pending), ps.map((p) => p.fetchedAt)];
    };
    if (added.length > 0) {
      const rows = await tx.run(SQL.insertArchived, [serial, added.map((p) => p.key), added.map((p) => p.ts), ...columns(added), added.map((p) => p.receivedAt), source]);
      for (const [id, key, ts] of rows) plans.get(identity(key as number, ts as string))!.id = id as number;
    }
    if (refreshed.length > 0) await tx.run(SQL.refreshArchived, [refreshed.map((p) => p.id), ...columns(refreshed)]);
    await tx.run(SQL.insertLive, [serial, events.map((e) => e.event.index), order.map((k) => plans.get(k)!.id)]);
    const times = events.map((e) => e.fetchedAt);
    await tx.run(SQL.see, [serial, Math.min(...times), Math.max(...times)]);
    return added.length;
  }

  async pendingTexts(serial: string): Promise<PendingText[]> {
    return (await this.read(SQL.pendingTexts, [serial])).map(([index, key, ts]) => ({ index: index as number, key: key as number, timestamp: timestampOf(ts as string) }));
  }

  fillEventText(serial: string, index: number, key: number, text: ProjectText): Promise<boolean> {
    if (!Number.isSafeInteger(index) || index < 0 || index > 0x7fffffff || !Number.isSafeInteger(key)) return this.guard(async () => false);
    return this.write(async (tx) => {
      const row = (await tx.run(SQL.liveBodyAt, [serial, index, key]))[0];
      if (!row) return false;
      const event = JSON.parse(row[1] as string) as Omit<Event, 'index'>;
      await tx.run(SQL.setBody, [JSON.stringify({ ...event, project: { ...text }, project_pending: false }), text.project, row[0]]);
      tx.touch(unitScope(serial));
      return true;
    });
  }

  dropEvents(serial: string): Promise<{ events: number }> {
    return this.write(async (tx) => {
      await tx.lockUnit(serial);
      const events = (await tx.run(withReturning(SQL.dropLive), [serial])).length;
      const syncs = (await tx.run(withReturning(SQL.dropSync), [serial])).length;
      if (events + syncs > 0) tx.touch(unitScope(serial));
      return { events };
    });
  }

  // --- waveforms -----------------------------------------------------------------------------------

  async getWaveform(serial: string, key: number, timestamp: string | null): Promise<StoredWaveform | undefined> {
    if (!Number.isSafeInteger(key)) return this.guard(async () => undefined);
    const row = (await this.read(SQL.getWaveform, [serial, key, tsOf(timestamp)]))[0];
    return row && waveformOf(row, key, timestamp);
  }

  async getWaveformDocument(serial: string, key: number, timestamp: string | null): Promise<(WaveformDocument & { fetchedAt: Millis }) | undefined> {
    if (!Number.isSafeInteger(key)) return this.guard(async () => undefined);
    const row = (await this.read(SQL.getWaveformDocument, [serial, key, tsOf(timestamp)]))[0];
    return row && { gzip: row[0] as Buffer, index: row[1] as number, fetchedAt: row[2] as number };
  }

  putWaveform(serial: string, w: StoredWaveform, analysis?: AnalysisSummary): Promise<boolean> {
    return this.guard(async () => {
      const values = waveformValues(serial, w);
      return this.write(async (tx) => {
        const isNew = (await tx.run(SQL.putWaveform, values))[0]?.[0] === true;
        if (analysis !== undefined) await tx.run(SQL.analyseArchived, [values[0], values[1], values[2], JSON.stringify(analysis)]);
        tx.touch(unitScope(serial));
        return isNew;
      });
    });
  }

  // --- the whole store -----------------------------------------------------------------------------

  clearConnection(connKey: string): Promise<Record<CacheKind, number>> {
    return this.write(async (tx) => {
      const counts: Record<CacheKind, number> = { device_info: 0, events: 0, waveform: 0, monitor_status: 0 };
      const gone = (await tx.run(SQL.dropIdentity, [connKey]))[0];
      if (!gone) return counts;
      const serial = gone[0] as string;
      await tx.lockUnit(serial);
      await tx.run(SQL.dropSync, [serial]);
      counts.device_info = (await tx.run(withReturning(SQL.dropInfo), [serial])).length;
      counts.events = (await tx.run(withReturning(SQL.dropLive), [serial])).length;
      // The archive's events and waveforms stay.
      counts.monitor_status = (await tx.run(withReturning(SQL.deleteStatus), [serial])).length;
      tx.touch(addressScope(connKey));
      tx.touch(unitScope(serial));
      return counts;
    });
  }

  stats(): Promise<Record<CacheKind, KindStats>> {
    return this.guard(async () => {
      const out = {} as Record<CacheKind, KindStats>;
      for (const kind of CACHE_KINDS) out[kind] = { entries: 0, bytes: 0 };
      for (const [kind, entries, bytes] of await this.read(SQL.smallTotals)) out[kind as CacheKind] = { entries: entries as number, bytes: bytes as number };
      // The live lists point into the archive: counted from them (a unit's list is small).
      const [[live, liveBytes], [syncs]] = [(await this.read(SQL.liveTotals))[0]!, (await this.read(SQL.syncCount))[0]!];
      out.events = { entries: live as number, bytes: (liveBytes as number) + SYNC_BYTES * (syncs as number) };
      return out;
    });
  }

  /** Stops listening and closes the pool; later calls reject with StoreError. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.feed.leave(this.member);
    await this.pool.end().catch(() => undefined);
  }
}

/** The same statement answering one row per row it changed (for counts inside a transaction). */
function withReturning(s: Statement): Statement {
  return { name: `${s.name}_returning`, text: `${s.text} RETURNING 1` };
}

function syncValues(serial: string, s: EventSyncState): unknown[] {
  return [serial, s.first, s.last, s.counter, s.complete, s.probedAt];
}

function toStoredEvent(row: Row): StoredEvent {
  return {
    event: { index: row[0] as number, ...(JSON.parse(row[4] as string) as Omit<Event, 'index'>) },
    key: row[1] as number,
    geoRange: row[2] as GeoRangeName | null,
    fetchedAt: row[3] as number,
  };
}

function describeError(e: unknown): string {
  const err = e as { code?: string; message?: string };
  if (err.code === 'ECONNREFUSED') return `nothing listens there (${err.message})`;
  if (err.code === 'ENOTFOUND') return `no such host (${err.message})`;
  if (err.code === '3D000') return `${err.message} (create it first: createdb, or CREATE DATABASE)`;
  if (err.code === '28P01' || err.code === '28000') return `the server refused the login (${err.message})`;
  if (err.code === '25006') return `the server is read-only (${err.message})`;
  if (err.code === '53100') return `the server's disk is full (${err.message})`;
  return err.message ?? String(e);
}
