/**
 * The relay: every front end's way to a unit. It composes the device client, a Store and the
 * policies of policies.ts, and it is where the truth rules live (http-api.md, "What the cache
 * may serve"):
 *
 * - identity: a hit needs no device I/O while the serial at the address was confirmed within the
 *   identity window; past it, one serial read first. Data is kept per serial, so another unit
 *   answering at an address never gets the old one's data, by any route;
 * - device info until sfm writes config; monitor status for a TTL; waveforms while (serial, key,
 *   timestamp) hold; events append-only behind a probe (serial, SUB 06, SUB 08) whose decision is
 *   the pure planSync();
 * - one truth per store: the store's change feed is polled before every hit (another process's
 *   write drops what this process holds hot), and device work takes per-unit locks that hold
 *   across processes;
 * - offline: an unreachable unit's cached data is served `stale` with its true Age;
 * - a failing store never turns finished device work into an error: it is answered `uncached`
 *   and kept hot so a retry does not fetch it again.
 */
import { NotFound } from '../errors.js';
import { MiniMateClient, type ClientOptions, type EventReadMode } from '../client/minimate-client.js';
import type { ChannelStats } from '../client/request-channel.js';
import { SfmError } from '../errors.js';
import { silentMetrics, type Metrics } from '../kernel/metrics.js';
import { countingStoreErrors } from './store-errors.js';
import { toEvent, type DeviceEvent } from '../client/device-event.js';
import { DeviceBusy, DeviceError, EventListChanged, ProtocolError } from '../client/errors.js';
import { systemClock, type Clock } from '../clock.js';
import { keyToHex } from '../protocol/event-key.js';
import { storageRangeView, type StorageRangeKeys } from '../protocol/storage-range.js';
import type { ComplianceChanges } from '../protocol/compliance-config.js';
import { buildWaveform } from '../waveform.js';
import { Body, gunzipWhole } from '../service/body.js';
import { IDLE, ProgressFeed, downloadUpdate, syncUpdate, textUpdate } from '../service/progress.js';
import type { Analysis, AnalysisSummary, ArchivedEvent, CacheStats, CallHomeChanges, CallHomeConfig, DeviceInfo, Event, EventDebug, EventIndexView, EventList, MonitorStatus, ProjectText, Session, SessionKind, StorageRange, Waveform } from '../model.js';
import { analyse, analysisSummary, type AnalysisOptions } from '../analysis/analyse.js';
import { analysisOptions, analysisOptionsKey } from '../analysis/standards.js';
import { connectionKey, type DeviceTarget, type Link } from '../transport/transport.js';
import { CallerRefused, wantsWaveform, type CallHomeOptions, type CallHomeOutcome, type CallHomeWaveforms, type TriggerLevels } from './call-home.js';
import type { TransportRegistry } from '../transport/registry.js';
import { silentLogger, type Logger } from '../kernel/logger.js';
import {
  EventNotFound, served, servedBytes,
  type AnalysisReadOptions, type CacheOutcome, type DeviceAccess, type EraseOptions, type EventReadOptions, type ReadOptions, type Served, type SyncOptions, type WaveformOptions,
} from '../service/device-access.js';
import { HotTier, hotKey } from './hot-tier.js';
import { cachePolicies, INVALIDATIONS, servable, type CachePolicies, type UnitWrite } from './policies.js';
import {
  CACHE_KINDS, StoreUnavailable, addressScope, unitScope,
  type CacheKind, type EventSyncState, type Identity, type KindStats, type Store, type StoredEvent, type StoredWaveform,
} from './store.js';
import { estimateEventCount, planSync, type SyncPlan } from './sync-plan.js';
import { UnitLocks, type HeldLock } from './unit-locks.js';
import { UnitQueue, type QueueOptions, type Turn } from './unit-queue.js';

const EMPTY_ARRAY = Buffer.from('[]');

export interface RelayOptions {
  client?: ClientOptions;
  /** Monitor-status TTL (default 30 s). */
  statusTtlMs?: number;
  /** How long a confirmed identity lets hits skip device I/O (default 300 s). */
  identityTtlMs?: number;
  queue?: QueueOptions;
  /** Bytes of serialized responses kept hot (default 64 MiB). */
  hotTierBytes?: number;
  /** How long a unit lock lasts without renewal across processes (default 30 s). */
  lockTtlMs?: number;
  /**
   * How lists are read (default headers-first: the list answered once its headers are in, the
   * event-time project text read after it); `vendor` reads each event whole, for a unit that insists.
   */
  eventReads?: EventReadMode;
  /** How long a session may go on reading project text after it answered, while nobody waits (default 120 s). */
  textFillMs?: number;
  /** The events list's max_age when a request gives none (default: none, every list read probes the unit). */
  eventsMaxAgeS?: number;
  clock?: Clock;
  logger?: Logger;
  /** Where the relay reports cache outcomes, sessions, link use, queue depth and store errors. */
  metrics?: Metrics;
  /**
   * What an archived event's analysis_summary is judged by (the configuration's standards); a
   * waveform is analysed once, as it is archived. Default: core's default standards.
   */
  archiveAnalysis?: AnalysisOptions;
  /** What the archive may drop (none by default: everything is kept for good). */
  retention?: { maxAgeMs?: number; waveformBytes?: number };
}

export type OutcomeCounters = { hits: number; misses: number; refreshes: number; stale: number; uncached: number };

export type { CacheStats };

/** A monitor-log record has no waveform. */
export class NoWaveform extends NotFound {
  override name = 'NoWaveform';
}

const OUTCOME_FIELD: Record<CacheOutcome, keyof OutcomeCounters> = { hit: 'hits', miss: 'misses', refresh: 'refreshes', stale: 'stale', uncached: 'uncached' };

/** Errors after which cached data is served stale: the unit could not be reached. */
function unreachable(e: unknown): e is DeviceError {
  return e instanceof DeviceError && (e.code === 'DEVICE_UNREACHABLE' || e.code === 'DEVICE_TIMEOUT');
}

function staleWarning(e: DeviceError): string {
  return `110 - "unit unreachable: ${e.code}"`;
}

/** A cached value and how old it is. */
interface Cached<T> {
  served: () => Served<T>;
  fetchedAt: number;
  /** The policy allows serving it without a fetch (not dirty, within its TTL). */
  servable: boolean;
  /** It may be served when the unit cannot be reached (what sfm knows to be outdated may not). */
  staleOk: boolean;
}

/** One device session, opened on first use, with the identity it established. */
class UnitSession {
  private client: MiniMateClient | undefined;
  serial: string | undefined;
  /** The unit whose list this session brought up to date (its pending text may be read after the answer). */
  synced: string | undefined;
  /** The event whose text is read first. */
  textFirst: number | undefined;
  /** What the session did that makes it a Session of the archive. */
  readEvents = false;
  archivedNew = 0;
  waveformsNew = 0;
  erased = false;
  /** The raw capture kept for the session (Session.capture). */
  capture: string | null = null;

  /**
   * `peer` names the unit's end of the link: its connection key (a call-up) or the calling
   * modem's address (a call-home). What the session archives has the source of its kind.
   */
  constructor(
    readonly peer: string,
    private readonly connect: () => Promise<MiniMateClient>,
    private readonly onIdentified: (serial: string) => Promise<void>,
    readonly kind: SessionKind = 'call-up',
  ) {}

  async unit(): Promise<MiniMateClient> {
    return (this.client ??= await this.connect());
  }

  /** What crossed the link, once the session opened it. */
  get linkStats(): Readonly<ChannelStats> | undefined {
    return this.client?.stats;
  }

  /** Reads the serial (once per session) and records who answers at the address. */
  async identify(serial?: string): Promise<string> {
    if (this.serial !== undefined) return this.serial;
    const s = serial ?? (await (await this.unit()).readSerialNumber()).serial;
    await this.onIdentified(s);
    this.serial = s;
    return s;
  }

  async close(): Promise<void> {
    await this.client?.close();
  }
}

/** How many times an erase reads the unit again when it recorded while its memory was archived. */
const ERASE_ATTEMPTS = 3;

export class RelayService implements DeviceAccess {
  readonly policies: CachePolicies;
  private readonly queue: UnitQueue;
  private readonly locks: UnitLocks;
  private readonly hot: HotTier;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly lockWaitMs: number;
  private readonly eventReads: EventReadMode;
  private readonly textFillMs: number;
  /** Set on shutdown: work after an answer stops at its next step. */
  private draining = false;
  /** Who answers at each address, as far as this process knows (kept true by the change feed). */
  private readonly identities = new Map<string, Identity>();
  /** Each unit's list sync state, as far as this process knows. */
  private readonly syncs = new Map<string, EventSyncState>();
  /** Each unit's cached events as hits need them, by index (kept true like the hot tier). */
  private readonly metas = new Map<string, Map<number, EventMeta>>();
  /** Bumped whenever a unit's entries are invalidated, so a read that raced one is not kept hot. */
  private readonly generations = new Map<string, number>();
  private readonly counters = Object.fromEntries(CACHE_KINDS.map((k) => [k, { hits: 0, misses: 0, refreshes: 0, stale: 0, uncached: 0 }])) as Record<CacheKind, OutcomeCounters>;

  readonly store: Store;
  /** How far the device work at each address has got (the sync, the text read, a download): what GET /device/progress streams. */
  readonly progress = new ProgressFeed();
  private readonly metrics: Metrics;
  private readonly archiveAnalysis: AnalysisOptions;
  /** Call-home sessions in progress. */
  private readonly calls = new Set<Promise<CallHomeOutcome>>();
  /** What retention removed since this relay started. */
  private readonly retentionRemoved = { events: 0, waveforms: 0, bytes: 0 };

  constructor(
    private readonly transports: TransportRegistry,
    store: Store,
    private readonly opts: RelayOptions = {},
  ) {
    this.metrics = opts.metrics ?? silentMetrics;
    this.archiveAnalysis = opts.archiveAnalysis ?? analysisOptions();
    this.store = opts.metrics ? countingStoreErrors(store, opts.metrics) : store;
    this.queue = new UnitQueue({ ...opts.queue, onDepth: (unit, depth) => this.metrics.set('sfm_device_queue_depth', { unit }, depth) });
    this.hot = new HotTier(opts.hotTierBytes);
    this.clock = opts.clock ?? opts.client?.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
    this.policies = cachePolicies({ statusTtlMs: opts.statusTtlMs, identityTtlMs: opts.identityTtlMs });
    this.lockWaitMs = opts.queue?.maxWaitMs ?? 120_000;
    this.eventReads = opts.eventReads ?? 'headers-first';
    this.textFillMs = opts.textFillMs ?? 120_000;
    this.locks = new UnitLocks(store.leases, {
      clock: this.clock,
      ttlMs: opts.lockTtlMs,
      onLost: (key) => this.log.warn({ lock: key }, 'a unit lock expired while held: another process may talk to the unit too'),
      onUnshared: (key, e) => this.log.warn({ lock: key, err: e.message }, 'the store cannot keep unit locks now: going ahead with this process\'s lock only'),
    });
    store.onChange((scopes) => this.changedElsewhere(scopes));
  }

  // --- plumbing ----------------------------------------------------------------------------------

  private changedElsewhere(scopes: readonly string[] | 'all'): void {
    if (scopes === 'all') {
      this.hot.clear();
      this.identities.clear();
      this.syncs.clear();
      this.metas.clear();
      for (const s of this.generations.keys()) this.bump(s);
      return;
    }
    for (const scope of scopes) {
      if (scope.startsWith('unit:')) this.forgetUnit(scope.slice(5));
      else if (scope.startsWith('addr:')) this.identities.delete(scope.slice(5));
    }
  }

  private bump(serial: string): void {
    this.generations.set(serial, (this.generations.get(serial) ?? 0) + 1);
  }

  private generation(serial: string): number {
    return this.generations.get(serial) ?? 0;
  }

  /** Drops what this process holds for a unit (its data changed). */
  private forgetUnit(serial: string, kinds?: readonly CacheKind[]): void {
    this.bump(serial);
    this.hot.dropUnit(serial, kinds);
    if (!kinds || kinds.includes('events')) {
      this.syncs.delete(serial);
      this.metas.delete(serial);
    }
  }

  private count(kind: CacheKind, outcome: CacheOutcome): void {
    this.counters[kind][OUTCOME_FIELD[outcome]]++;
    this.metrics.inc('sfm_cache_requests_total', { kind, outcome });
  }

  private ageS(at: number): number {
    return Math.max(0, Math.floor((this.clock.now() - at) / 1000));
  }

  private identityFresh(id: Identity | undefined): id is Identity {
    return id !== undefined && this.clock.now() - id.confirmedAt < this.policies.identityTtlMs;
  }

  /** Who answers at the address, from this process's memory or the store. */
  private async identityOf(connKey: string): Promise<Identity | undefined> {
    const known = this.identities.get(connKey);
    if (known) return known;
    const id = await this.store.getIdentity(connKey);
    if (id) this.identities.set(connKey, id);
    return id;
  }

  private async syncOf(serial: string): Promise<EventSyncState | undefined> {
    const known = this.syncs.get(serial);
    if (known) return known;
    const s = await this.store.getEventSync(serial);
    if (s) this.syncs.set(serial, s);
    return s;
  }

  /**
   * Runs a store write after device work. A store that cannot keep it (read-only, disk full) is
   * logged, not fatal: the caller answers what the unit gave (`uncached`). Returns whether it took.
   */
  private async keep(what: string, write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (e) {
      if (!(e instanceof StoreUnavailable)) throw e;
      this.log.warn({ err: e.message, what }, 'the store could not keep what the unit sent; answering it uncached');
      return false;
    }
  }

  private async confirmIdentity(connKey: string, serial: string): Promise<void> {
    const previous = this.identities.get(connKey) ?? (await this.store.getIdentity(connKey).catch(() => undefined));
    if (previous && previous.serial !== serial) {
      this.log.warn({ address: connKey, was: previous.serial, now: serial }, 'another unit answers at this address');
    }
    const id = { serial, confirmedAt: this.clock.now() };
    this.identities.set(connKey, id);
    await this.keep('identity', () => this.store.putIdentity(connKey, id));
  }

  /**
   * Runs `fn` in a session with the unit, in the unit's queue, holding the address's lock and the
   * unit's (serial) lock across processes; identical requests share one session. After answering,
   * a session that synced a list reads its pending project text while nobody waits for the unit.
   */
  private device<T>(target: DeviceTarget, flight: string, fn: (s: UnitSession) => Promise<T>): Promise<T> {
    const connKey = connectionKey(target);
    const asked = performance.now();
    return this.queue.run(connKey, `${flight}\u0000${connKey}`, async (turn: Turn<T>) => {
      const held: HeldLock[] = [await this.locks.acquire(addressScope(connKey), this.lockWaitMs, connKey)];
      const began = performance.now();
      const startedAt = this.clock.now();
      this.metrics.observe('sfm_device_queue_wait_seconds', { unit: connKey }, (began - asked) / 1000);
      let result = 'ok';
      let unitLock: HeldLock | undefined;
      const lockUnit = async (serial: string): Promise<void> => {
        if (unitLock?.key === unitScope(serial)) return;
        const next = await this.locks.acquire(unitScope(serial), this.lockWaitMs, `${connKey} (${serial})`);
        await unitLock?.release();
        unitLock = next;
      };
      const session = new UnitSession(
        connKey,
        () => MiniMateClient.connect(this.transports.create(target), { ...this.opts.client, clock: this.clock, describe: connKey }),
        async (serial) => {
          await lockUnit(serial);
          await this.confirmIdentity(connKey, serial);
        },
      );
      try {
        // Inside the locks: whatever another process wrote before is visible now.
        this.store.pollChanges();
        const expected = await this.identityOf(connKey);
        if (expected) await lockUnit(expected.serial);
        const value = await fn(session);
        turn.answer(value);
        const until = this.clock.now() + this.textFillMs;
        const othersWait = async (): Promise<boolean> => turn.waiting > 0 || (await Promise.all([...held, unitLock].map((l) => l?.wanted() ?? false))).includes(true);
        await this.fillTexts(session, { stop: async () => this.draining || this.clock.now() >= until || (await othersWait()) }).catch((e: Error) =>
          this.log.warn({ address: connKey, err: e.message }, 'reading project text stopped; the rest is read in a later session'),
        );
        return value;
      } catch (e) {
        result = e instanceof SfmError ? e.code : 'INTERNAL';
        throw e;
      } finally {
        await session.close().catch(() => undefined);
        await this.recordSession(session, startedAt, result);
        await unitLock?.release();
        for (const l of held) await l.release();
        this.progress.publish(connKey, IDLE);
        this.sessionEnded(connKey, result, began, session.linkStats);
      }
    });
  }

  /** A session that read the unit's events (every call-home that identified its unit) is a Session of the archive. */
  private async recordSession(s: UnitSession, startedAt: number, result: string): Promise<Session | undefined> {
    if (!s.serial || !(s.readEvents || s.waveformsNew > 0 || s.erased)) return undefined;
    const serial = s.serial;
    let recorded: Session | undefined;
    await this.keep('session', async () => {
      recorded = await this.store.archive.recordSession({
        serial, kind: s.kind, peer: s.peer, started_at: new Date(startedAt).toISOString(), duration_s: Math.max(0, this.clock.now() - startedAt) / 1000,
        events_new: s.archivedNew, waveforms_new: s.waveformsNew, erased: s.erased, result, capture: s.capture,
      });
    }).catch((e: Error) => this.log.warn({ unit: serial, err: e.message }, 'the session could not be recorded'));
    return recorded;
  }

  private sessionEnded(unit: string, result: string, began: number, link: Readonly<ChannelStats> | undefined): void {
    this.metrics.inc('sfm_device_sessions_total', { unit, result });
    this.metrics.observe('sfm_device_session_duration_seconds', { unit }, (performance.now() - began) / 1000);
    if (link) {
      this.metrics.inc('sfm_device_round_trips_total', { unit }, link.roundTrips);
      this.metrics.inc('sfm_device_bytes_total', { unit, direction: 'sent' }, link.bytesOut);
      this.metrics.inc('sfm_device_bytes_total', { unit, direction: 'received' }, link.bytesIn);
    }
  }

  /**
   * The read path every cached kind but events shares: a hit while the identity is fresh and the
   * policy allows; else a session that confirms the identity (a hit when the same unit answers)
   * or fetches; an unreachable unit's cached data served stale.
   */
  private async cachedRead<T>(
    kind: CacheKind,
    target: DeviceTarget,
    opts: ReadOptions,
    flight: string,
    lookup: (serial: string) => Promise<Cached<T> | undefined>,
    fetch: (s: UnitSession, had: Cached<T> | undefined) => Promise<Served<T>>,
  ): Promise<Served<T>> {
    this.store.pollChanges();
    const connKey = connectionKey(target);
    const id = await this.identityOf(connKey);
    const cached = id ? await lookup(id.serial) : undefined;
    if (!opts.force && cached?.servable && this.identityFresh(id)) {
      this.count(kind, 'hit');
      return cached.served();
    }
    try {
      return await this.device(target, `${flight}:${opts.force ? 'force' : ''}`, async (s) => {
        const current = await this.identityOf(connKey);
        const had = current ? await lookup(current.serial) : undefined;
        if (!opts.force && had?.servable && current) {
          // Only the identity is in doubt: one serial read settles it.
          if ((await s.identify()) === current.serial) {
            this.count(kind, 'hit');
            return had.served();
          }
          return fetch(s, undefined);
        }
        return fetch(s, had);
      });
    } catch (e) {
      if (!unreachable(e) || opts.stale === false || opts.force || !id) throw e;
      const last = cached ?? (await lookup(id.serial));
      if (!last?.staleOk) throw e;
      this.count(kind, 'stale');
      const s = last.served();
      return servedBytes<T>(s.bytes(), 'stale', s.ageS, staleWarning(e));
    }
  }

  private outcome(kind: CacheKind, had: unknown, force: boolean | undefined, kept: boolean): CacheOutcome {
    const o: CacheOutcome = !kept ? 'uncached' : had || force ? 'refresh' : 'miss';
    this.count(kind, o);
    return o;
  }

  private invalidate(serial: string, write: UnitWrite): Promise<unknown> {
    const rule = INVALIDATIONS[write];
    const kinds = [...(rule.dirty ?? []), ...(rule.drop ?? [])];
    this.forgetUnit(serial, kinds);
    const work: Promise<unknown>[] = [];
    for (const kind of rule.dirty ?? []) if (kind === 'device_info') work.push(this.store.markInfoDirty(serial));
    for (const kind of rule.drop ?? []) {
      if (kind === 'monitor_status') work.push(this.store.deleteStatus(serial));
      // The live list goes; the archive keeps the events and their waveforms.
      if (kind === 'events') work.push(this.store.dropEvents(serial));
    }
    return this.keep(`invalidate after ${write}`, () => Promise.all(work));
  }

  // --- device info -------------------------------------------------------------------------------

  /**
   * The cached answers with no device I/O and no waiting, or undefined when the relay would have
   * to look further (the store, or the unit). Front ends use them as their fast path.
   */
  peekInfo(target: DeviceTarget): Served<DeviceInfo> | undefined {
    const id = this.peekIdentity(target);
    const hot = id && this.hot.get(hotKey('device_info', id.serial));
    if (!hot) return undefined;
    this.count('device_info', 'hit');
    return servedBytes(hot.body, 'hit', this.ageS(hot.fetchedAt));
  }

  /** The fresh identity at the target's address, from memory only. */
  private peekIdentity(target: DeviceTarget): Identity | undefined {
    this.store.pollChanges();
    const id = this.identities.get(connectionKey(target));
    return this.identityFresh(id) ? id : undefined;
  }

  private async lookupInfo(serial: string): Promise<Cached<DeviceInfo> | undefined> {
    const k = hotKey('device_info', serial);
    const hot = this.hot.get(k);
    if (hot) return { served: () => servedBytes(hot.body, 'hit', this.ageS(hot.fetchedAt)), fetchedAt: hot.fetchedAt, servable: true, staleOk: true };
    const gen = this.generation(serial);
    const row = await this.store.getInfo(serial);
    if (!row) return undefined;
    const ok = servable(this.policies.kinds.device_info, row, this.clock.now());
    const s = served(row.info, 'hit', 0);
    if (ok && gen === this.generation(serial)) this.hot.set(k, s.bytes(), row.fetchedAt);
    // Dirty info is no longer true of the unit: never served, not even stale.
    return { served: () => servedBytes(s.bytes(), 'hit', this.ageS(row.fetchedAt)), fetchedAt: row.fetchedAt, servable: ok, staleOk: ok };
  }

  async info(target: DeviceTarget, opts: ReadOptions = {}): Promise<Served<DeviceInfo>> {
    const peek = opts.force ? undefined : this.peekInfo(target);
    if (peek) return peek;
    return this.cachedRead('device_info', target, opts, 'info', (serial) => this.lookupInfo(serial), async (s, had) => {
      const info = await (await s.unit()).readDeviceInfo();
      await s.identify(info.serial);
      const at = this.clock.now();
      this.forgetUnit(info.serial, ['device_info']);
      const kept = await this.keep('device info', () => this.store.putInfo(info.serial, info, at));
      const out = served(info, this.outcome('device_info', had, opts.force, kept), 0);
      this.hot.set(hotKey('device_info', info.serial), out.bytes(), at);
      return out;
    });
  }

  // --- monitor status ----------------------------------------------------------------------------

  peekStatus(target: DeviceTarget): Served<MonitorStatus> | undefined {
    const id = this.peekIdentity(target);
    const hot = id && this.hot.get(hotKey('monitor_status', id.serial));
    if (!hot || !servable(this.policies.kinds.monitor_status, hot, this.clock.now())) return undefined;
    this.count('monitor_status', 'hit');
    return servedBytes(hot.body, 'hit', this.ageS(hot.fetchedAt));
  }

  private async lookupStatus(serial: string): Promise<Cached<MonitorStatus> | undefined> {
    const k = hotKey('monitor_status', serial);
    const hot = this.hot.get(k);
    const rule = this.policies.kinds.monitor_status;
    if (hot) return { served: () => servedBytes(hot.body, 'hit', this.ageS(hot.fetchedAt)), fetchedAt: hot.fetchedAt, servable: servable(rule, hot, this.clock.now()), staleOk: true };
    const gen = this.generation(serial);
    const row = await this.store.getStatus(serial);
    if (!row) return undefined;
    const bytes = served(row.status, 'hit', 0).bytes();
    if (gen === this.generation(serial)) this.hot.set(k, bytes, row.fetchedAt);
    return { served: () => servedBytes(bytes, 'hit', this.ageS(row.fetchedAt)), fetchedAt: row.fetchedAt, servable: servable(rule, row, this.clock.now()), staleOk: true };
  }

  async status(target: DeviceTarget, opts: ReadOptions = {}): Promise<Served<MonitorStatus>> {
    const peek = opts.force ? undefined : this.peekStatus(target);
    if (peek) return peek;
    return this.cachedRead('monitor_status', target, opts, 'status', (serial) => this.lookupStatus(serial), async (s, had) => {
      const serial = await s.identify();
      const status = await (await s.unit()).readMonitorStatus();
      const at = this.clock.now();
      this.forgetUnit(serial, ['monitor_status']);
      const kept = await this.keep('monitor status', () => this.store.putStatus(serial, status, at));
      const out = served(status, this.outcome('monitor_status', had, opts.force, kept), 0);
      this.hot.set(hotKey('monitor_status', serial), out.bytes(), at);
      return out;
    });
  }

  // --- events ------------------------------------------------------------------------------------

  /** What the cache holds of a unit's list, for planSync. */
  private async cachedList(serial: string): Promise<{ count: number; first: StoredEvent | undefined; sync: EventSyncState | undefined }> {
    const [count, sync] = await Promise.all([this.store.eventCount(serial), this.store.getEventSync(serial)]);
    const first = count > 0 ? await this.store.getEvent(serial, 0) : undefined;
    return { count, first, sync };
  }

  /**
   * Brings the unit's cached list up to date in a session: the probe, then what planSync says.
   * With `stopAfterIndex` a cold read stops once that index is read (a later sync continues).
   * Returns the outcome and, when the store failed to keep them, the events read (to answer with).
   */
  private async syncEvents(
    s: UnitSession,
    force: boolean,
    stopAfterIndex?: number,
    onProgress?: SyncOptions['onSyncProgress'],
  ): Promise<{ serial: string; outcome: CacheOutcome; range: StorageRangeKeys; unkept?: StoredEvent[] }> {
    s.readEvents = true;
    const told = onProgress;
    onProgress = (p) => {
      this.progress.publish(s.peer, syncUpdate(p));
      told?.(p);
    };
    const c = await s.unit();
    const probe = await c.readProbe(s.serial);
    const serial = await s.identify(probe.serial);
    const probedAt = this.clock.now();
    const { range } = probe;
    const reading = { first: range.first, last: range.next, counter: probe.counter };
    const cached = await this.cachedList(serial);
    let plan: SyncPlan = planSync({ count: cached.count, firstKey: cached.first?.key, sync: cached.sync }, reading, force);

    const events: StoredEvent[] = [];
    let kept = true;
    const store = async (batch: StoredEvent[], sync?: EventSyncState): Promise<void> => {
      if (kept) kept = await this.keep('events', async () => void (s.archivedNew += (await this.store.appendEvents(serial, batch, sync, s.kind)).archivedNew));
      this.forgetUnit(serial, ['events']);
    };
    /** Says how far the read has got: `exact` when the counter tells how many there are, else estimated from the last key read. */
    const progress = (done: number, exact: number | undefined, last: { index: number; key: number } | undefined): void => {
      if (!onProgress || (stopAfterIndex !== undefined && done > stopAfterIndex + 1)) return;
      let total = exact ?? (last ? estimateEventCount(reading, last.index, last.key) : null);
      let estimated = exact === undefined && total !== null;
      // A read that stops after one index reads no further than that.
      if (stopAfterIndex !== undefined && (total === null || total > stopAfterIndex + 1)) [total, estimated] = [stopAfterIndex + 1, false];
      onProgress({ done, total, estimated });
    };
    const read = async (from: number, after: StoredEvent | undefined, expectNew: number | null = null): Promise<boolean> => {
      let index = from;
      let stopped = false;
      const exact = expectNew === null ? undefined : from + expectNew;
      progress(from, exact, after && { index: from - 1, key: after.key });
      await c.readEvents({
        mode: this.eventReads,
        afterKey: after?.key,
        afterKeyTimestamp: after ? after.event.timestamp : undefined,
        stopBeforeKey: reading.last,
        shouldStop: () => (stopped = stopAfterIndex !== undefined && index > stopAfterIndex),
        onEvent: async (e) => {
          // Each event is stored whole as it arrives: a sync cut short resumes after it next time.
          const row = this.storedEvent(index++, e);
          events.push(row);
          await store([row]);
          progress(index, exact, { index: row.event.index, key: e.key });
        },
      });
      if (!stopped) onProgress?.({ done: index, total: index, estimated: false });
      return !stopped;
    };

    let complete = true;
    let outcome: CacheOutcome = 'hit';
    if (plan.action === 'continue') {
      const last = cached.count > 0 ? await this.store.getEvent(serial, cached.count - 1) : undefined;
      try {
        complete = await read(cached.count, last, plan.expectNew);
        if (complete && plan.expectNew !== null && events.length !== plan.expectNew) {
          this.log.info({ unit: serial, expected: plan.expectNew, read: events.length }, 'the event list changed under the cache; reading it again');
          plan = { action: 'resync', reason: 'erased-and-refilled' };
        } else if (events.length > 0) outcome = 'refresh';
      } catch (e) {
        if (!(e instanceof EventListChanged)) throw e;
        plan = { action: 'resync', reason: 'first-key-changed' };
      }
    }
    if (plan.action === 'resync') {
      if (plan.reason !== 'cold') this.log.info({ unit: serial, reason: plan.reason }, 'reading the event list again');
      events.length = 0;
      this.forgetUnit(serial, ['events']);
      // The live list goes; the archive keeps its events and waveforms (served only while their identity holds).
      if (cached.count > 0 || cached.sync) kept = await this.keep('events', () => this.store.dropEvents(serial));
      complete = await read(0, undefined);
      outcome = cached.count > 0 || cached.sync || force ? 'refresh' : 'miss';
    }
    const sync: EventSyncState = { ...reading, complete, probedAt };
    if (kept) kept = await this.keep('events', () => this.store.appendEvents(serial, [], sync, s.kind));
    if (!kept) return { serial, outcome: 'uncached', range, unkept: events };
    this.syncs.set(serial, sync);
    s.synced = serial;
    s.textFirst = stopAfterIndex;
    return { serial, outcome, range };
  }

  /**
   * Reads the project text of the synced unit's events that wait for it (the session's first
   * event first) until `stop()` says so; each is stored as it arrives.
   */
  private async fillTexts(s: UnitSession, opts: { stop: () => boolean | Promise<boolean>; only?: number; onProgress?: EventReadOptions['onTextProgress'] }): Promise<void> {
    const { stop } = opts;
    const onProgress = (p: { done: number; total: number }): void => {
      this.progress.publish(s.peer, textUpdate(p));
      opts.onProgress?.(p);
    };
    const serial = s.synced;
    if (serial === undefined) return;
    const pending = (await this.store.pendingTexts(serial)).filter((p) => opts.only === undefined || p.index === opts.only);
    if (pending.length === 0) return;
    const first = pending.findIndex((p) => p.index === s.textFirst);
    if (first > 0) pending.unshift(...pending.splice(first, 1));
    const c = await s.unit();
    for (const [done, p] of pending.entries()) {
      onProgress({ done, total: pending.length });
      if (await stop()) {
        this.log.debug({ unit: serial, left: pending.length - done }, 'project text left for a later session');
        return;
      }
      const read = await c.readEventText(p.key);
      if (read.timestamp !== null && p.timestamp !== null && read.timestamp !== p.timestamp) {
        // The list changed since it was synced: the next sync sees it and reads it again.
        this.log.warn({ unit: serial, index: p.index, listed: p.timestamp, now: read.timestamp }, 'an event changed before its project text was read');
        return;
      }
      await this.textRead(serial, p.index, p.key, read.text);
    }
    onProgress({ done: pending.length, total: pending.length });
  }

  /** Reads pending text before answering, as asked; a failure leaves it pending (said in the log), never fails the answer. */
  private async waitForText(s: UnitSession, opts: { only?: number; onProgress?: EventReadOptions['onTextProgress'] }): Promise<void> {
    try {
      await this.fillTexts(s, { stop: () => false, ...opts });
    } catch (e) {
      if (!(e instanceof DeviceError)) throw e;
      this.log.warn({ unit: s.synced, err: e.message }, 'reading project text failed; answering with it pending');
    }
  }

  /** Stores one event's project text; the unit's list bytes held hot are out of date then. */
  private async textRead(serial: string, index: number, key: number, text: ProjectText): Promise<void> {
    await this.keep('project text', () => this.store.fillEventText(serial, index, key, text));
    this.bump(serial);
    this.hot.dropUnit(serial, ['events']);
    const meta = this.metas.get(serial)?.get(index);
    if (meta?.key === key) meta.projectPending = false;
  }

  private storedEvent(index: number, e: DeviceEvent): StoredEvent {
    return { event: toEvent(index, e), key: e.key, geoRange: e.geo_range, fetchedAt: this.clock.now() };
  }

  /** The list document (`EventList`) as bytes, from the hot tier or the store. */
  private async eventListJson(serial: string): Promise<Body> {
    const k = hotKey('events', serial, 'list');
    const hot = this.hot.get(k);
    if (hot !== undefined) return hot.body;
    const gen = this.generation(serial);
    const [json, count] = await Promise.all([this.store.getEventsJson(serial), this.store.eventCount(serial)]);
    const body = new Body(listDocument(serial, count, json ?? EMPTY_ARRAY));
    if (gen === this.generation(serial)) this.hot.set(k, body, this.clock.now());
    return body;
  }

  async events(target: DeviceTarget, opts: EventReadOptions = {}): Promise<Served<EventList>> {
    this.store.pollChanges();
    const connKey = connectionKey(target);
    const id = await this.identityOf(connKey);
    const sync = id ? await this.syncOf(id.serial) : undefined;
    const textDue = opts.waitForText && id !== undefined && (await this.store.pendingTexts(id.serial)).length > 0;
    const maxAgeS = opts.maxAgeS ?? this.opts.eventsMaxAgeS;
    if (!opts.force && !textDue && id && sync?.complete && maxAgeS !== undefined && this.clock.now() - sync.probedAt <= maxAgeS * 1000) {
      this.count('events', 'hit');
      return servedBytes(await this.eventListJson(id.serial), 'hit', this.ageS(sync.probedAt));
    }
    try {
      return await this.device(target, `events:${opts.force ? 'force' : ''}`, async (s) => {
        const r = await this.syncEvents(s, opts.force ?? false, undefined, opts.onSyncProgress);
        this.count('events', r.outcome);
        if (r.unkept) return servedBytes(await this.unkeptList(r.serial, r.unkept), r.outcome, 0);
        if (opts.waitForText) await this.waitForText(s, { onProgress: opts.onTextProgress });
        return servedBytes<EventList>(await this.eventListJson(r.serial), r.outcome, 0);
      });
    } catch (e) {
      if (!unreachable(e) || opts.stale === false || opts.force || !id) throw e;
      const last = await this.syncOf(id.serial);
      if (!last?.complete) throw e;
      this.count('events', 'stale');
      return servedBytes(await this.eventListJson(id.serial), 'stale', this.ageS(last.probedAt), staleWarning(e));
    }
  }

  /** The list when the store could not keep what was read: what it held before plus the new events. */
  private async unkeptList(serial: string, read: StoredEvent[]): Promise<Uint8Array> {
    const before = read.length > 0 && read[0]!.event.index > 0 ? (await this.store.getEvents(serial).catch(() => [])).slice(0, read[0]!.event.index) : [];
    const all = [...before, ...read].map((e) => e.event);
    const bytes = listDocument(serial, all.length, Buffer.from(JSON.stringify(all)));
    this.hot.set(hotKey('events', serial, 'list'), bytes, this.clock.now());
    return bytes;
  }

  peekEvent(target: DeviceTarget, index: number, opts: { maxAgeS?: number } = {}): Served<Event> | undefined {
    const id = this.peekIdentity(target);
    if (!id) return undefined;
    const sync = this.syncs.get(id.serial);
    const hot = this.hot.get(eventHotKey(id.serial, index));
    if (!sync || !hot || !this.withinMaxAge(sync, opts.maxAgeS)) return undefined;
    this.count('events', 'hit');
    return servedBytes(hot.body, 'hit', this.ageS(sync.probedAt));
  }

  private withinMaxAge(sync: EventSyncState, maxAgeS: number | undefined): boolean {
    return maxAgeS === undefined || this.clock.now() - sync.probedAt <= maxAgeS * 1000;
  }

  /** What a hit needs to know of a cached event (from memory, else one store read that is then kept). */
  private async eventMeta(serial: string, index: number): Promise<EventMeta | undefined> {
    const known = this.metas.get(serial)?.get(index);
    if (known) return known;
    const gen = this.generation(serial);
    const row = await this.store.getEvent(serial, index);
    if (!row) return undefined;
    const meta = metaOf(row);
    if (gen === this.generation(serial)) this.keepMeta(serial, index, meta);
    return meta;
  }

  private keepMeta(serial: string, index: number, meta: EventMeta): void {
    let m = this.metas.get(serial);
    if (!m) this.metas.set(serial, (m = new Map()));
    m.set(index, meta);
  }

  /** One cached event and its list's sync state (hot first). */
  private async lookupEvent(serial: string, index: number): Promise<{ meta: EventMeta; body: Body; sync: EventSyncState } | undefined> {
    const sync = await this.syncOf(serial);
    if (!sync) return undefined;
    const k = eventHotKey(serial, index);
    const hot = this.hot.get(k);
    const known = this.metas.get(serial)?.get(index);
    if (hot && known) return { meta: known, body: hot.body, sync };
    const gen = this.generation(serial);
    const row = await this.store.getEvent(serial, index);
    if (!row) return undefined;
    const meta = metaOf(row);
    const body = new Body(Buffer.from(JSON.stringify(row.event)));
    if (gen === this.generation(serial)) {
      this.keepMeta(serial, index, meta);
      this.hot.set(k, body, row.fetchedAt);
    }
    return { meta, body, sync };
  }

  async event(target: DeviceTarget, index: number, opts: EventReadOptions = {}): Promise<Served<Event>> {
    const peek = opts.force || opts.waitForText ? undefined : this.peekEvent(target, index, opts);
    if (peek) return peek;
    this.store.pollChanges();
    const connKey = connectionKey(target);
    const id = await this.identityOf(connKey);
    const cached = id ? await this.lookupEvent(id.serial, index) : undefined;
    const textDue = opts.waitForText && cached?.meta.projectPending;
    if (!opts.force && cached && !textDue && this.identityFresh(id) && this.withinMaxAge(cached.sync, opts.maxAgeS)) {
      this.count('events', 'hit');
      return servedBytes(cached.body, 'hit', this.ageS(cached.sync.probedAt));
    }
    try {
      return await this.device(target, `event:${index}:${opts.force ? 'force' : ''}`, async (s) => {
        const r = await this.syncEvents(s, opts.force ?? false, index, opts.onSyncProgress);
        this.count('events', r.outcome);
        if (r.unkept) {
          const e = r.unkept.find((x) => x.event.index === index);
          if (e) return served(e.event, r.outcome, 0);
        }
        let row = await this.lookupEvent(r.serial, index);
        if (!row) throw new EventNotFound(index, await this.store.eventCount(r.serial));
        if (opts.waitForText && row.meta.projectPending) {
          await this.waitForText(s, { only: index });
          row = (await this.lookupEvent(r.serial, index)) ?? row;
        }
        return servedBytes<Event>(row.body, r.outcome, 0);
      });
    } catch (e) {
      if (!unreachable(e) || opts.stale === false || opts.force || !id || !cached) throw e;
      this.count('events', 'stale');
      return servedBytes(cached.body, 'stale', this.ageS(cached.sync.probedAt), staleWarning(e));
    }
  }

  /**
   * One event with the blocks it is read from, asked of the unit now (debug): the list's probe
   * first, so the index names the event the unit holds now, then 0A and — for a full event — 0C
   * on its key. The blocks are not cached and the cached event is not changed.
   */
  async eventDebug(target: DeviceTarget, index: number, opts: { force?: boolean } = {}): Promise<Served<EventDebug>> {
    return this.device(target, `event-debug:${index}:${opts.force ? 'force' : ''}`, async (s) => {
      const r = await this.syncEvents(s, opts.force ?? false, index);
      this.count('events', r.outcome);
      const row = r.unkept?.find((x) => x.event.index === index) ?? (await this.store.getEvent(r.serial, index));
      if (!row) throw new EventNotFound(index, await this.store.eventCount(r.serial));
      const unit = await s.unit();
      const header = await unit.readHeaderBlock(row.key);
      // A monitor-log record has no 0C record (the unit does not answer for its key).
      const record = row.event.record_type === 'monitor_log' ? null : await unit.readWaveformRecordBlock(row.key);
      const raw = { waveform_record_hex: record && Buffer.from(record).toString('hex'), header_hex: Buffer.from(header).toString('hex') };
      return served<EventDebug>({ ...row.event, raw }, r.outcome, 0);
    });
  }

  // --- waveforms ---------------------------------------------------------------------------------

  peekWaveform(target: DeviceTarget, index: number): Served<Waveform> | undefined {
    const id = this.peekIdentity(target);
    const meta = id && this.metas.get(id.serial)?.get(index);
    const hot = meta && this.hot.get(waveformHotKey(id.serial, meta));
    if (!hot) return undefined;
    this.count('waveform', 'hit');
    return servedBytes(hot.body, 'hit', this.ageS(Math.max(hot.fetchedAt, this.syncs.get(id.serial)?.probedAt ?? 0)));
  }

  /**
   * A cached waveform of the event at `index`, and when it was last confirmed: its download, or a
   * later probe that found its event (key, timestamp) still in the list. From the hot tier, else
   * the store's document (no rebuild), else rebuilt from the samples.
   */
  private async lookupWaveform(serial: string, index: number): Promise<{ meta: EventMeta; body: Body; confirmedAt: number } | undefined> {
    const [meta, sync] = await Promise.all([this.eventMeta(serial, index), this.syncOf(serial)]);
    if (!meta || !sync) return undefined;
    const k = waveformHotKey(serial, meta);
    const hot = this.hot.get(k);
    if (hot) return { meta, body: hot.body, confirmedAt: Math.max(hot.fetchedAt, sync.probedAt) };
    const gen = this.generation(serial);
    let body: Body;
    let fetchedAt: number;
    const doc = await this.store.getWaveformDocument(serial, meta.key, meta.timestamp);
    if (doc && doc.index === index) {
      body = new Body(gunzipWhole(doc.gzip), { gzip: doc.gzip });
      fetchedAt = doc.fetchedAt;
    } else {
      // Kept before documents were, or the event's index moved: built from the samples.
      const w = await this.store.getWaveform(serial, meta.key, meta.timestamp);
      if (!w) return undefined;
      body = waveformBody(serial, index, w);
      fetchedAt = w.fetchedAt;
    }
    if (gen === this.generation(serial)) this.hot.set(k, body, fetchedAt);
    return { meta, body, confirmedAt: Math.max(fetchedAt, sync.probedAt) };
  }

  async waveform(target: DeviceTarget, index: number, opts: WaveformOptions = {}): Promise<Served<Waveform>> {
    const peek = opts.force ? undefined : this.peekWaveform(target, index);
    if (peek) return peek;
    this.store.pollChanges();
    const connKey = connectionKey(target);
    const id = await this.identityOf(connKey);
    const cached = id ? await this.lookupWaveform(id.serial, index) : undefined;
    if (!opts.force && cached && this.identityFresh(id)) {
      this.count('waveform', 'hit');
      return servedBytes(cached.body, 'hit', this.ageS(cached.confirmedAt));
    }
    try {
      return await this.device(target, `waveform:${index}:${opts.force ? 'force' : ''}`, async (s) => {
        // The probe first: the index must name the event the unit holds now.
        const r = await this.syncEvents(s, false, index, opts.onSyncProgress);
        const row = r.unkept?.find((x) => x.event.index === index) ?? (await this.store.getEvent(r.serial, index));
        if (!row) throw new EventNotFound(index, await this.store.eventCount(r.serial));
        if (row.event.record_type === 'monitor_log') throw new NoWaveform(`event ${index} is a monitor-log record; it has no waveform`);
        const had = r.unkept ? undefined : await this.lookupWaveform(r.serial, index);
        if (had && !opts.force) {
          this.count('waveform', 'hit');
          return servedBytes<Waveform>(had.body, 'hit', this.ageS(had.confirmedAt));
        }
        const k = waveformHotKey(r.serial, metaOf(row));
        const kept = this.hot.get(k);
        if (kept && !opts.force) {
          // Downloaded before while the store could not keep it: no second download.
          this.count('waveform', 'uncached');
          return servedBytes<Waveform>(kept.body, 'uncached', this.ageS(kept.fetchedAt));
        }
        const { body, kept: ok, fetchedAt } = await this.downloadWaveform(s, r.serial, row, { textKnown: !r.unkept, onProgress: opts.onProgress, document: true });
        const outcome = this.outcome('waveform', had, opts.force, ok);
        this.hot.set(k, body, fetchedAt);
        return servedBytes<Waveform>(body, outcome, 0);
      });
    } catch (e) {
      if (!unreachable(e) || opts.stale === false || opts.force || !id || !cached) throw e;
      this.count('waveform', 'stale');
      return servedBytes(cached.body, 'stale', this.ageS(cached.confirmedAt), staleWarning(e));
    }
  }

  /**
   * Downloads the waveform of a listed event and keeps it: its samples and — for a download that
   * is answered (`document`) — the document it is served as (built and compressed now, which a
   * call-home leaves to the first read of it). The download reads the event's project text on the
   * way, which is stored when the list row is the store's (`textKnown`). A key that now holds
   * another event drops the list: ProtocolError.
   */
  private async downloadWaveform(s: UnitSession, serial: string, row: StoredEvent, opts: DownloadOptions & { document: true }): Promise<{ body: Body; kept: boolean; fetchedAt: number }>;
  private async downloadWaveform(s: UnitSession, serial: string, row: StoredEvent, opts: DownloadOptions & { document: false }): Promise<{ kept: boolean; fetchedAt: number }>;
  private async downloadWaveform(s: UnitSession, serial: string, row: StoredEvent, opts: DownloadOptions & { document: boolean }): Promise<{ body?: Body; kept: boolean; fetchedAt: number }> {
    const index = row.event.index;
    const d = await (await s.unit()).downloadWaveform(row.key, {
      onProgress: (p) => {
        this.progress.publish(s.peer, downloadUpdate(p, index));
        opts.onProgress?.(p);
      },
    });
    if (d.header.timestamp !== row.event.timestamp) {
      // The unit reused the key since the last sync: the cached list is stale.
      this.forgetUnit(serial, ['events']);
      await this.keep('events', () => this.store.dropEvents(serial));
      throw new ProtocolError(`${s.peer}: event ${index} changed on the unit (key ${keyToHex(row.key)} now holds another event); its list was dropped, ask again`);
    }
    const samples: StoredWaveform = {
      key: row.key, timestamp: row.event.timestamp, index, sampleRate: d.header.sample_rate, pretriggerSamples: d.header.pretrigger_samples,
      geoRange: d.header.geo_range, fetchedAt: this.clock.now(),
      channels: { Tran: Int16Array.from(d.body.channels.Tran), Vert: Int16Array.from(d.body.channels.Vert), Long: Int16Array.from(d.body.channels.Long), MicL: Int16Array.from(d.body.channels.MicL) },
    };
    // Analysed once, as it is archived (its analysis_summary, written with it).
    const view = storedWaveformView(serial, index, samples);
    const summary = analysisSummary(analyse(view, this.archiveAnalysis));
    const { stored, body } = opts.document ? withDocument(samples, view) : { stored: samples, body: undefined };
    const kept = await this.keep('waveform', async () => void (s.waveformsNew += (await this.store.putWaveform(serial, stored, summary)) ? 1 : 0));
    // The download read the event's project text on the way: no second read for it.
    if (row.event.project_pending && opts.textKnown) await this.textRead(serial, index, row.key, d.text);
    return { body, kept, fetchedAt: stored.fetchedAt };
  }

  // --- analyses ------------------------------------------------------------------------------------

  /** A kept analysis of the event at `index` under these options, answered from memory (see analysis()). */
  peekAnalysis(target: DeviceTarget, index: number, opts: AnalysisOptions = {}): Served<Analysis> | undefined {
    const id = this.peekIdentity(target);
    const meta = id && this.metas.get(id.serial)?.get(index);
    const hot = meta && this.hot.get(analysisHotKey(id.serial, meta, opts));
    if (!hot) return undefined;
    return servedBytes(hot.body, 'hit', this.ageS(Math.max(hot.fetchedAt, this.syncs.get(id.serial)?.probedAt ?? 0)));
  }

  /**
   * The analysis of the event's waveform. Analysis of an immutable waveform is immutable: it is
   * kept in the hot tier under the waveform's identity (serial, key, timestamp) and the options,
   * and dropped with the unit's waveforms, so a repeat neither parses the waveform nor computes.
   * The waveform is read as GET …/waveform reads it (downloaded when needed, stale when the unit
   * cannot be reached), and the analysis is served as the waveform was (cache outcome, Age).
   */
  async analysis(target: DeviceTarget, index: number, opts: AnalysisReadOptions = {}): Promise<Served<Analysis>> {
    const options = opts.analysis ?? {};
    const peek = opts.force ? undefined : this.peekAnalysis(target, index, options);
    if (peek) return peek;
    const w = await this.waveform(target, index, opts);
    const id = this.identities.get(connectionKey(target));
    const meta = id && this.metas.get(id.serial)?.get(index);
    const kept = meta && !opts.force ? this.hot.get(analysisHotKey(id.serial, meta, options)) : undefined;
    if (kept) return servedBytes(kept.body, w.cache, w.ageS, w.warning);

    const waveform = w.value;
    const identity: EventMeta = { key: parseInt(waveform.key, 16), timestamp: waveform.timestamp, projectPending: false };
    const body = new Body(Buffer.from(JSON.stringify(analyse(waveform, options))));
    const fetchedAt = this.hot.get(waveformHotKey(waveform.serial, identity))?.fetchedAt ?? this.clock.now() - w.ageS * 1000;
    this.hot.set(analysisHotKey(waveform.serial, identity, options), body, fetchedAt);
    return servedBytes(body, w.cache, w.ageS, w.warning);
  }

  /**
   * When the waveform of the event at `index` left the unit (its download), ISO 8601 UTC, as far as
   * this process holds it (after a read of that waveform); null when it does not.
   */
  waveformReceivedAt(target: DeviceTarget, index: number): string | null {
    const id = this.identities.get(connectionKey(target));
    const meta = id && this.metas.get(id.serial)?.get(index);
    const held = meta && this.hot.get(waveformHotKey(id.serial, meta));
    return held ? new Date(held.fetchedAt).toISOString() : null;
  }

  // --- writes and uncached reads -------------------------------------------------------------------

  private write<T>(target: DeviceTarget, what: UnitWrite, fn: (c: MiniMateClient, s: UnitSession) => Promise<T>): Promise<T> {
    // Writes never share a transaction: two identical writes are two writes.
    return this.device(target, `${what}:${Math.random()}`, async (s) => this.unitCommand(s, await s.identify(), what, (c) => fn(c, s)));
  }

  /** Runs a write or command in a session that holds the unit, then invalidates what it changes. */
  private async unitCommand<T>(s: UnitSession, serial: string, what: UnitWrite, fn: (c: MiniMateClient) => Promise<T>): Promise<T> {
    try {
      return await fn(await s.unit());
    } finally {
      // Invalidate even when the write failed half-way: the unit may have taken part of it.
      await this.invalidate(serial, what);
    }
  }

  startMonitoring(target: DeviceTarget): Promise<MonitorStatus> {
    return this.write(target, 'monitor-start', (c) => c.startMonitoring());
  }

  stopMonitoring(target: DeviceTarget): Promise<MonitorStatus> {
    return this.write(target, 'monitor-stop', (c) => c.stopMonitoring());
  }

  writeConfig(target: DeviceTarget, changes: ComplianceChanges) {
    return this.write(target, 'config-write', (c) => c.writeCompliance(changes));
  }

  readCallHome(target: DeviceTarget): Promise<CallHomeConfig> {
    return this.device(target, 'call-home', async (s) => (await s.unit()).readCallHome());
  }

  writeCallHome(target: DeviceTarget, changes: CallHomeChanges): Promise<CallHomeConfig> {
    return this.write(target, 'call-home-write', (c) => c.writeCallHome(changes));
  }

  async eventIndex(target: DeviceTarget): Promise<EventIndexView> {
    return { lifetime_event_count: (await this.device(target, 'event-index', async (s) => (await s.unit()).readEventIndex())).lifetime_event_count };
  }

  /**
   * SUB 06 read now, with the key of the last stored record, which SUB 06 does not give (it names
   * the first key and the next one): that comes from the event list, brought up to date in the
   * same session exactly as /device/events does it — the probe (serial, 06, 08) alone while the
   * cached list is current, the new records' headers (kept for the list) otherwise.
   */
  async storageRange(target: DeviceTarget): Promise<StorageRange> {
    return this.device(target, 'storage-range', async (s) => {
      const r = await this.syncEvents(s, false);
      this.count('events', r.outcome);
      return storageRangeView(r.range, await this.lastStoredKey(r.serial, r.unkept));
    });
  }

  /** The key of the unit's last listed record: the last one just read, else the store's last. */
  private async lastStoredKey(serial: string, justRead: StoredEvent[] | undefined): Promise<number | null> {
    const read = justRead?.at(-1);
    if (read) return read.key;
    const count = await this.store.eventCount(serial);
    return count > 0 ? ((await this.store.getEvent(serial, count - 1))?.key ?? null) : null;
  }

  /**
   * Erases the unit — only once every event on it is in the archive, with its event-time text,
   * and the archive's commit is durable: anything less refuses the erase, and nothing is erased.
   */
  async erase(target: DeviceTarget, opts: EraseOptions = {}): Promise<StorageRange> {
    return storageRangeView(
      await this.write(target, 'erase', async (c, s) => {
        const refuse = (why: string, cause?: unknown) =>
          new StoreUnavailable(`${s.peer}: the erase was refused, nothing was erased: ${why}`, cause === undefined ? undefined : { cause });
        // The unit keeps monitoring: an event it records while its memory is archived is read
        // again before the erase, never erased unread.
        for (let attempt = 1; ; attempt++) {
          const r = await this.syncEvents(s, false, undefined, opts.onSyncProgress);
          if (r.unkept) throw refuse(`the store could not archive the unit's ${r.unkept.length} events`);
          await this.fillTexts(s, { stop: () => false });
          const [count, pending] = await Promise.all([this.store.eventCount(r.serial), this.store.pendingTexts(r.serial)]);
          if (pending.length > 0) throw refuse(`the event-time project text of ${pending.length} events could not be read`);
          try {
            await this.store.archive.durable();
          } catch (e) {
            throw refuse(`the archive could not make its copy durable (${(e as Error).message})`, e);
          }
          const now = await c.readStorageRange();
          if (!sameKeys(now, r.range)) {
            if (attempt < ERASE_ATTEMPTS) continue;
            throw new DeviceBusy(`${s.peer}: the unit recorded events while sfm archived its memory, ${ERASE_ATTEMPTS} times: nothing was erased; ask again`);
          }
          opts.onCount?.(count);
          const range = await c.eraseAll();
          s.erased = true;
          return range;
        }
      }),
      null,
    );
  }

  // --- cache management ----------------------------------------------------------------------------

  async clearDevice(target: DeviceTarget): Promise<Record<CacheKind, number>> {
    this.store.pollChanges();
    const connKey = connectionKey(target);
    const id = await this.identityOf(connKey);
    this.identities.delete(connKey);
    if (id) this.forgetUnit(id.serial);
    return this.store.clearConnection(connKey);
  }

  async cacheStats(): Promise<CacheStats> {
    const [s, archive] = await Promise.all([this.store.stats(), this.store.archive.stats()]);
    return {
      store: this.store.kind,
      persistent: this.store.capabilities.persistent,
      kinds: Object.fromEntries(CACHE_KINDS.map((k) => [k, { ...s[k], ...this.counters[k] }])) as CacheStats['kinds'],
      hot_tier: this.hot.stats,
      device_requests_pending: this.pendingDeviceRequests,
      archive: { ...archive, retention_removed: { ...this.retentionRemoved } },
    };
  }

  // --- the archive ----------------------------------------------------------------------------------

  /**
   * An archived event's waveform as served (its stored document, or built from its samples); the
   * hot tier is shared with live hits, by the waveform's identity. Undefined when none was kept.
   */
  async archivedWaveform(id: number): Promise<Served<Waveform> | undefined> {
    const e = await this.store.archive.event(id);
    if (!e?.has_waveform) return undefined;
    const k = waveformHotKey(e.serial, { key: parseInt(e.key, 16), timestamp: e.timestamp, projectPending: false });
    const hot = this.hot.get(k);
    if (hot) return servedBytes(hot.body, 'hit', this.ageS(hot.fetchedAt));
    const w = await this.store.archive.waveform(id);
    if (!w) return undefined;
    const body = w.document ? new Body(gunzipWhole(w.document.gzip), { gzip: w.document.gzip }) : waveformBody(e.serial, w.index, w);
    this.hot.set(k, body, w.fetchedAt);
    return servedBytes(body, 'hit', this.ageS(w.fetchedAt));
  }

  /**
   * The analysis of an archived event's waveform under these options, kept hot under the
   * waveform's identity as live analyses are (one identity, one analysis, whichever path asked).
   * Undefined when no waveform was kept.
   */
  async archivedAnalysis(id: number, options: AnalysisOptions): Promise<{ event: ArchivedEvent; waveform: Served<Waveform>; analysis: Served<Analysis> } | undefined> {
    const event = await this.store.archive.event(id);
    if (!event?.has_waveform) return undefined;
    const waveform = await this.archivedWaveform(id);
    if (!waveform) return undefined;
    const meta: EventMeta = { key: parseInt(event.key, 16), timestamp: event.timestamp, projectPending: false };
    const k = analysisHotKey(event.serial, meta, options);
    let body = this.hot.get(k)?.body;
    if (!body) {
      body = new Body(Buffer.from(JSON.stringify(analyse(waveform.value, options))));
      this.hot.set(k, body, this.clock.now() - waveform.ageS * 1000);
    }
    return { event, waveform, analysis: servedBytes<Analysis>(body, 'hit', waveform.ageS) };
  }

  /** Applies the retention policy now; counts and logs what it removed. */
  async applyRetention(): Promise<{ events: number; waveforms: number; bytes: number }> {
    const r = this.opts.retention;
    const none = { events: 0, waveforms: 0, bytes: 0 };
    if (!r || (r.maxAgeMs === undefined && r.waveformBytes === undefined)) return none;
    const removed = await this.store.archive.retain({
      receivedBefore: r.maxAgeMs === undefined ? undefined : this.clock.now() - r.maxAgeMs,
      waveformBytes: r.waveformBytes,
    });
    for (const k of ['events', 'waveforms', 'bytes'] as const) this.retentionRemoved[k] += removed[k];
    if (removed.events + removed.waveforms > 0) this.log.info({ removed }, 'archive retention removed what the policy allows');
    return removed;
  }

  // --- call-home -----------------------------------------------------------------------------------

  /**
   * A session over a link the unit opened (it called home). The unit does not speak first: the
   * client wakes it with POLL, sent again over the wake window (modem text and a boot banner
   * before the first frame are line noise). The unit says its serial — refused when `accept` says
   * no, with nothing kept — and, holding the unit's lock as a call-up does, its new events are read
   * and archived (source call-home) with the waveforms the policy wants and every event's
   * project text, and the archive's commit is made durable. Only then, as configured, the unit is
   * erased (only while it holds exactly what was archived) and monitoring restarted. Ends with a
   * Session (kind call-home, the peer's address, the capture). Never throws: the outcome says how
   * it went.
   */
  callHome(link: Link, opts: CallHomeOptions): Promise<CallHomeOutcome> {
    const call = this.runCallHome(link, opts);
    this.calls.add(call);
    void call.finally(() => this.calls.delete(call));
    return call;
  }

  private async runCallHome(link: Link, opts: CallHomeOptions): Promise<CallHomeOutcome> {
    const startedAt = this.clock.now();
    const began = performance.now();
    let unitLock: HeldLock | undefined;
    let said: string | null = null;
    let refused = false;
    const client = new MiniMateClient(link, { ...this.opts.client, ...opts.client, clock: this.clock, describe: `call-home ${opts.peer}` });
    const s = new UnitSession(
      opts.peer,
      async () => client,
      async (serial) => {
        said = serial;
        if (opts.accept && !(await opts.accept(serial))) {
          refused = true;
          throw new CallerRefused(`${opts.peer}: unit ${serial} may not call in (ach.accept)`);
        }
        unitLock = await this.locks.acquire(unitScope(serial), this.lockWaitMs, `call-home ${opts.peer} (${serial})`);
        // Inside the lock: whatever another process wrote before is visible now.
        this.store.pollChanges();
      },
      'call-home',
    );
    s.capture = opts.capture ?? null;
    let result = 'ok';
    let session: Session | undefined;
    try {
      await client.start();
      // Who it is first: a refused unit is asked nothing more, an accepted one is locked before its probe.
      await s.identify();
      const r = await this.syncEvents(s, false);
      if (r.unkept) throw new StoreUnavailable(`${opts.peer}: the store could not archive the unit's ${r.unkept.length} events`);
      await this.callHomeWaveforms(s, r.serial, opts.waveforms);
      await this.fillTexts(s, { stop: () => false });
      try {
        await this.store.archive.durable();
      } catch (e) {
        throw new StoreUnavailable(`${opts.peer}: the archive could not make its copy durable (${(e as Error).message}); the unit was left as it was`, { cause: e });
      }
      if (opts.eraseAfterDownload) await this.eraseArchived(s, r.serial, r.range);
      if (opts.restartMonitoring) await this.unitCommand(s, r.serial, 'monitor-start', (c) => c.startMonitoring());
    } catch (e) {
      result = e instanceof SfmError ? e.code : 'INTERNAL';
      this.log[e instanceof SfmError ? 'warn' : 'error']({ peer: opts.peer, unit: said, code: result, err: (e as Error).message }, 'call-home session ended early');
    } finally {
      await s.close().catch(() => undefined);
      if (!refused) session = await this.recordSession(s, startedAt, result);
      await unitLock?.release();
      if (s.serial) this.sessionEnded(`call-home:${s.serial}`, result, began, s.linkStats);
    }
    return { serial: said, result, session: session ?? null, refused };
  }


  /** Downloads the waveforms of the unit's listed events that the policy wants and the archive lacks. */
  private async callHomeWaveforms(s: UnitSession, serial: string, policy: CallHomeWaveforms): Promise<void> {
    if (policy === 'none') return;
    const levels = policy === 'over_trigger' ? await this.triggerLevels(s, serial) : null;
    for (const row of await this.store.getEvents(serial)) {
      if (!wantsWaveform(policy, row.event, levels)) continue;
      if (await this.store.getWaveform(serial, row.key, row.event.timestamp)) continue;
      await this.downloadWaveform(s, serial, row, { textKnown: true, document: false });
    }
  }

  /** The unit's trigger levels: from its cached info while that holds, else read (and cached) now. */
  private async triggerLevels(s: UnitSession, serial: string): Promise<TriggerLevels> {
    const cached = await this.store.getInfo(serial);
    if (cached && servable(this.policies.kinds.device_info, cached, this.clock.now())) return cached.info.compliance;
    const info = await (await s.unit()).readDeviceInfo();
    const at = this.clock.now();
    this.forgetUnit(serial, ['device_info']);
    if (await this.keep('device info', () => this.store.putInfo(serial, info, at))) this.hot.set(hotKey('device_info', serial), served(info, 'miss', 0).bytes(), at);
    return info.compliance;
  }

  /**
   * Erases the unit after a call-home archived it: only when every listed event has its text and
   * the unit still holds exactly the range that was read (an event recorded during the call is
   * not in the archive yet: the unit is left as it is and its next call erases it).
   */
  private async eraseArchived(s: UnitSession, serial: string, synced: StorageRangeKeys): Promise<void> {
    const pending = await this.store.pendingTexts(serial);
    if (pending.length > 0) throw new StoreUnavailable(`${s.peer}: the erase was refused, nothing was erased: the event-time project text of ${pending.length} events could not be read`);
    const c = await s.unit();
    const now = await c.readStorageRange();
    if (!sameKeys(now, synced)) {
      this.log.info({ unit: serial, read: synced, now }, 'the unit recorded during the call: not erased (its next call archives the new events and erases)');
      return;
    }
    await this.unitCommand(s, serial, 'erase', () => c.eraseAll());
    s.erased = true;
  }

  /** Device requests running or waiting, every unit. */
  get pendingDeviceRequests(): number {
    return this.queue.pending;
  }

  /** Waits for device work in flight (call-home sessions too), the project text read after an answer included. */
  async idle(): Promise<void> {
    await Promise.all([this.queue.idle(), this.callsIdle()]);
  }

  /** Graceful shutdown: work after an answer stops at its next step; waits for the rest. */
  async drain(): Promise<void> {
    this.draining = true;
    await this.idle();
  }

  private async callsIdle(): Promise<void> {
    while (this.calls.size > 0) await Promise.allSettled([...this.calls]);
  }
}

/** The contract's Waveform of a stored waveform as served at `index`, as JSON bytes. */
export function waveformBody(serial: string, index: number, w: StoredWaveform): Body {
  return new Body(Buffer.from(JSON.stringify(storedWaveformView(serial, index, w))));
}

/** A kept waveform as the contract's Waveform (physical units). */
function storedWaveformView(serial: string, index: number, w: StoredWaveform): Waveform {
  const ch = (a: Int16Array) => Int32Array.from(a);
  return buildWaveform({
    serial, index, key: keyToHex(w.key), timestamp: w.timestamp, sample_rate: w.sampleRate,
    pretrigger_samples: w.pretriggerSamples, geo_range: w.geoRange,
    body: { channels: { Tran: ch(w.channels.Tran), Vert: ch(w.channels.Vert), Long: ch(w.channels.Long), MicL: ch(w.channels.MicL) }, truncated: false },
  });
}

/**
 * What the relay keeps of a downloaded waveform: its samples and the JSON document it is served
 * as (gzip), so a later read sends the document without rebuilding it; and that document's body.
 */
export function keptWaveform(serial: string, w: StoredWaveform): { stored: StoredWaveform; body: Body } {
  return withDocument(w, storedWaveformView(serial, w.index, w));
}

function withDocument(w: StoredWaveform, view: Waveform): { stored: StoredWaveform; body: Body } {
  const body = new Body(Buffer.from(JSON.stringify(view)));
  return { stored: { ...w, document: { index: w.index, gzip: body.encoded('gzip') } }, body };
}

interface DownloadOptions {
  textKnown: boolean;
  onProgress?: WaveformOptions['onProgress'];
}

/** The unit holds the records it held (the same first and next keys): nothing was recorded or erased between. */
function sameKeys(a: StorageRangeKeys, b: StorageRangeKeys): boolean {
  return a.first === b.first && a.next === b.next;
}

/** What a hit needs of a cached event: its identity (to find its waveform) and whether its text is in. */
interface EventMeta {
  key: number;
  timestamp: string | null;
  projectPending: boolean;
}

function metaOf(row: StoredEvent): EventMeta {
  return { key: row.key, timestamp: row.event.timestamp, projectPending: row.event.project_pending };
}

/** A cached waveform's hot key: its identity, (key, timestamp). */
function waveformHotKey(serial: string, meta: EventMeta): string {
  return hotKey('waveform', serial, `${meta.key}:${meta.timestamp}`);
}

/** An analysis's hot key: its waveform's, and the options it was made under. */
function analysisHotKey(serial: string, meta: EventMeta, opts: AnalysisOptions): string {
  return hotKey('waveform', serial, `${meta.key}:${meta.timestamp}:analysis:${analysisOptionsKey(opts)}`);
}

/** A cached event's hot key: the events kind, so invalidating a unit's events drops it too. */
function eventHotKey(serial: string, index: number): string {
  return hotKey('events', serial, `#${index}`);
}

/** The events list document (`EventList`) around the store's JSON array of events, without parsing it. */
export function listDocument(serial: string, count: number, eventsJson: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from(`{"serial":${JSON.stringify(serial)},"count":${count},"events":`), eventsJson, Buffer.from('}')]);
}
