/**
 * The relay: every front end's way to a unit. It composes the device client, a Store and the
 * policies of policies.ts, and it is where the cache rules live:
 *
 * - device info: served until sfm writes config (dirty) or `force`;
 * - events: a cheap probe (serial + storage range, 4 round trips whatever the number of events);
 *   same range → nothing to fetch; range grew → only the new events (0A on the last cached key,
 *   then 1F); first key changed, last key went backwards, or another serial answered → the
 *   unit was erased, wiped or swapped: its events and waveforms are dropped and synced afresh;
 * - waveforms: kept for good while (serial, key, timestamp) at that index hold; a download that
 *   fails half-way caches nothing;
 * - monitor status: a TTL, dropped by monitor start/stop.
 *
 * Hits need no device I/O (the serial last seen at the address names the unit). Device work goes
 * through one queue per unit with single-flight for identical requests.
 */
import { MiniMateClient, type ClientOptions } from '../client/minimate-client.js';
import { toEvent, type DeviceEvent } from '../client/device-event.js';
import { EventListChanged, ProtocolError } from '../client/errors.js';
import { systemClock, type Clock } from '../clock.js';
import { keyToHex } from '../protocol/event-key.js';
import { storageRangeView, type StorageRangeKeys } from '../protocol/storage-range.js';
import type { ComplianceChanges } from '../protocol/compliance-config.js';
import { buildWaveform } from '../waveform.js';
import type { CallHomeConfig, DeviceInfo, Event, EventList, MonitorStatus, StorageRange, Waveform } from '../model.js';
import { connectionKey, type DeviceTarget } from '../transport/transport.js';
import type { TransportRegistry } from '../transport/registry.js';
import { EventNotFound, served, servedBytes, type CacheOutcome, type DeviceAccess, type ReadOptions, type Served, type WaveformOptions } from '../service/device-access.js';
import { HotTier, hotKey, unitKey } from './hot-tier.js';
import { cachePolicies, INVALIDATIONS, type UnitWrite } from './policies.js';
import { CACHE_KINDS, StoreError, type CacheKind, type KindStats, type Store, type StoredEvent, type StoredWaveform, type UnitId } from './store.js';
import { UnitQueue, type QueueOptions } from './unit-queue.js';

const EMPTY_ARRAY = Buffer.from('[]');
const CLOSE_BRACE = Buffer.from('}');

function waveformHotKey(u: UnitId, key: number, timestamp: string | null): string {
  return hotKey('waveform', u.connKey, u.serial, `${key}:${timestamp}`);
}

export interface RelayOptions {
  client?: ClientOptions;
  /** Monitor-status TTL (default 30 s). */
  statusTtlMs?: number;
  queue?: QueueOptions;
  /** Bytes of serialized responses kept hot (default 64 MiB). */
  hotTierBytes?: number;
  clock?: Clock;
}

export interface CacheStats {
  store: string;
  persistent: boolean;
  kinds: Record<CacheKind, KindStats & { hits: number; misses: number; refreshes: number }>;
  hot_tier: { entries: number; bytes: number };
  device_requests_pending: number;
}

/** A monitor-log record has no waveform. */
export class NoWaveform extends Error {
  override name = 'NoWaveform';
  readonly code = 'NOT_FOUND';
}

export class RelayService implements DeviceAccess {
  private readonly queue: UnitQueue;
  private readonly hot: HotTier;
  private readonly clock: Clock;
  private readonly statusTtlMs: number;
  private readonly counters = Object.fromEntries(CACHE_KINDS.map((k) => [k, { hits: 0, misses: 0, refreshes: 0 }])) as Record<CacheKind, { hits: number; misses: number; refreshes: number }>;

  constructor(
    private readonly transports: TransportRegistry,
    readonly store: Store,
    private readonly opts: RelayOptions = {},
  ) {
    this.queue = new UnitQueue(opts.queue);
    this.hot = new HotTier(opts.hotTierBytes);
    this.clock = opts.clock ?? opts.client?.clock ?? systemClock;
    const ttl = cachePolicies(opts.statusTtlMs).monitor_status;
    this.statusTtlMs = ttl.rule === 'ttl' ? ttl.ttlMs : 0;
  }

  // --- plumbing ----------------------------------------------------------------------------------

  private count(kind: CacheKind, outcome: CacheOutcome): void {
    const c = this.counters[kind];
    if (outcome === 'hit') c.hits++;
    else if (outcome === 'miss') c.misses++;
    else c.refreshes++;
  }

  private ageS(fetchedAt: number): number {
    return Math.max(0, Math.floor((this.clock.now() - fetchedAt) / 1000));
  }

  /** The unit last seen at the address, for hits without device I/O. */
  private knownUnit(target: DeviceTarget): UnitId | undefined {
    const connKey = connectionKey(target);
    const serial = this.store.lastSerialAt(connKey);
    return serial === undefined ? undefined : { connKey, serial };
  }

  /** Runs `fn` in a session with the unit, in the unit's queue; identical requests share it. */
  private device<T>(target: DeviceTarget, flight: string, fn: (c: MiniMateClient) => Promise<T>): Promise<T> {
    const connKey = connectionKey(target);
    return this.queue.run(connKey, `${flight}\u0000${connKey}`, async () => {
      const client = await MiniMateClient.connect(this.transports.create(target), { ...this.opts.client, clock: this.clock });
      try {
        return await fn(client);
      } finally {
        await client.close();
      }
    });
  }

  /** Reads the serial and records who answers at the address. */
  private async identify(c: MiniMateClient, target: DeviceTarget): Promise<UnitId> {
    const serial = (await c.readSerialNumber()).serial;
    const connKey = connectionKey(target);
    if (this.store.lastSerialAt(connKey) !== serial) this.store.rememberSerial(connKey, serial);
    return { connKey, serial };
  }

  private invalidate(u: UnitId, write: UnitWrite): void {
    const rule = INVALIDATIONS[write];
    for (const kind of rule.dirty ?? []) if (kind === 'device_info') this.store.markInfoDirty(u);
    for (const kind of rule.drop ?? []) {
      if (kind === 'monitor_status') this.store.deleteStatus(u);
      if (kind === 'events' || kind === 'waveform') this.store.dropEvents(u);
    }
    this.hot.dropUnit(unitKey(u.connKey, u.serial), [...(rule.dirty ?? []), ...(rule.drop ?? [])]);
  }

  // --- device info -------------------------------------------------------------------------------

  /**
   * The cached answers, without device I/O: a hit, or undefined when the unit would have to be
   * asked. info(), status(), event() and waveform() try these first; front ends may use them as
   * a fast path.
   */
  cachedInfo(target: DeviceTarget): Served<DeviceInfo> | undefined {
    const u = this.knownUnit(target);
    if (!u) return undefined;
    // The hot entry is dropped whenever the stored info changes or is dirtied, so it can answer alone.
    const k = hotKey('device_info', u.connKey, u.serial);
    const hot = this.hot.get(k);
    if (hot !== undefined) {
      this.count('device_info', 'hit');
      return servedBytes(hot.bytes, 'hit', this.ageS(hot.fetchedAt));
    }
    const cached = this.store.getInfo(u);
    if (!cached || cached.dirty) return undefined;
    this.count('device_info', 'hit');
    const s = served(cached.info, 'hit', this.ageS(cached.fetchedAt));
    this.hot.set(k, s.bytes(), cached.fetchedAt);
    return s;
  }

  async info(target: DeviceTarget, opts: ReadOptions = {}): Promise<Served<DeviceInfo>> {
    const hit = opts.force ? undefined : this.cachedInfo(target);
    if (hit) return hit;
    return this.device(target, `info:${opts.force ? 'force' : ''}`, async (c) => {
      const info = await c.readDeviceInfo();
      const connKey = connectionKey(target);
      const id = { connKey, serial: info.serial };
      const had = this.store.getInfo(id);
      if (this.store.lastSerialAt(connKey) !== info.serial) this.store.rememberSerial(connKey, info.serial);
      this.store.putInfo(id, info, this.clock.now());
      this.hot.delete(hotKey('device_info', connKey, info.serial));
      const outcome: CacheOutcome = had || opts.force ? 'refresh' : 'miss';
      this.count('device_info', outcome);
      return served(info, outcome, 0);
    });
  }

  // --- events ------------------------------------------------------------------------------------

  /** Brings the unit's cached events up to date within a session; returns the unit and the outcome. */
  private async syncEvents(c: MiniMateClient, target: DeviceTarget, force: boolean): Promise<{ u: UnitId; outcome: CacheOutcome }> {
    const u = await this.identify(c, target);
    const range = await c.readStorageRange();
    const sync = this.store.getEventSync(u);
    if (!force && sync && sync.first === range.first && sync.last === range.last) return { u, outcome: 'hit' };

    const count = this.store.eventCount(u);
    const first = count > 0 ? this.store.getEvent(u, 0) : undefined;
    const last = count > 0 ? this.store.getEvent(u, count - 1) : undefined;
    const hadAny = count > 0 || sync !== undefined;
    // Only new events after the last cached one — while the first key holds and the last did
    // not go backwards (an erase restarts keys at 01110000); the anchor's timestamp is checked too.
    const continues = !force && last !== undefined && first?.key === range.first && (!sync || range.last >= sync.last);
    if (continues) {
      try {
        await this.fetchEvents(c, u, range, count, last);
        return { u, outcome: 'refresh' };
      } catch (e) {
        // The list changed under us (key reused) or the store evicted it mid-sync: start afresh.
        if (!(e instanceof EventListChanged) && !(e instanceof StoreError)) throw e;
      }
    }
    // A forced refresh re-reads the list but keeps the waveforms (still identity-checked); an
    // erase, a wipe or a swap seen by the probe drops them too.
    if (hadAny) this.dropUnitEvents(u, { keepWaveforms: force });
    await this.fetchEvents(c, u, range, 0, undefined);
    return { u, outcome: hadAny || force ? 'refresh' : 'miss' };
  }

  /** Reads events (after `after`), storing each as it completes; the range marks the end. */
  private async fetchEvents(c: MiniMateClient, u: UnitId, range: StorageRangeKeys, firstIndex: number, after: StoredEvent | undefined): Promise<void> {
    let index = firstIndex;
    const hk = unitKey(u.connKey, u.serial);
    await c.readEvents({
      afterKey: after?.key,
      afterKeyTimestamp: after ? after.event.timestamp : undefined,
      onEvent: (e) => {
        // Each event is stored whole as it arrives: a sync cut short resumes after it next time.
        this.store.appendEvents(u, [this.storedEvent(index++, e)]);
        this.hot.dropUnit(hk, ['events']);
      },
    });
    this.store.appendEvents(u, [], { first: range.first, last: range.last, syncedAt: this.clock.now() });
    this.hot.dropUnit(hk, ['events']);
  }

  private storedEvent(index: number, e: DeviceEvent): StoredEvent {
    return { event: toEvent(index, e), key: e.key, geoRange: e.geo_range, fetchedAt: this.clock.now() };
  }

  private dropUnitEvents(u: UnitId, opts: { keepWaveforms?: boolean } = {}): void {
    this.store.dropEvents(u, opts);
    this.hot.dropUnit(unitKey(u.connKey, u.serial), opts.keepWaveforms ? ['events'] : ['events', 'waveform']);
  }

  private eventListJson(u: UnitId): Uint8Array {
    const k = hotKey('events', u.connKey, u.serial);
    const hot = this.hot.get(k);
    if (hot !== undefined) return hot.bytes;
    const events = this.store.getEventsJson(u) ?? EMPTY_ARRAY;
    const head = Buffer.from(`{"serial":${JSON.stringify(u.serial)},"count":${this.store.eventCount(u)},"events":`);
    const bytes = Buffer.concat([head, events, CLOSE_BRACE]);
    this.hot.set(k, bytes, this.clock.now());
    return bytes;
  }

  async events(target: DeviceTarget, opts: ReadOptions = {}): Promise<Served<EventList>> {
    return this.device(target, `events:${opts.force ? 'force' : ''}`, async (c) => {
      const { u, outcome } = await this.syncEvents(c, target, opts.force ?? false);
      this.count('events', outcome);
      return servedBytes<EventList>(this.eventListJson(u), outcome, 0);
    });
  }

  cachedEvent(target: DeviceTarget, index: number): Served<Event> | undefined {
    const u = this.knownUnit(target);
    const row = u && this.store.getEvent(u, index);
    if (!row) return undefined;
    this.count('events', 'hit');
    return served(row.event, 'hit', this.ageS(row.fetchedAt));
  }

  async event(target: DeviceTarget, index: number, opts: ReadOptions = {}): Promise<Served<Event>> {
    const hit = opts.force ? undefined : this.cachedEvent(target, index);
    if (hit) return hit;
    return this.device(target, `event:${opts.force ? 'force' : ''}`, async (c) => {
      const { u: unit, outcome } = await this.syncEvents(c, target, opts.force ?? false);
      this.count('events', outcome);
      const row = this.store.getEvent(unit, index);
      if (!row) throw new EventNotFound(index, this.store.eventCount(unit));
      return served(row.event, outcome, 0);
    });
  }

  // --- waveforms ---------------------------------------------------------------------------------

  private waveformJson(u: UnitId, w: StoredWaveform): Uint8Array {
    const bytes = Buffer.from(JSON.stringify(this.toWaveform(u.serial, w)));
    this.hot.set(waveformHotKey(u, w.key, w.timestamp), bytes, w.fetchedAt);
    return bytes;
  }

  private toWaveform(serial: string, w: StoredWaveform): Waveform {
    const ch = (a: Int16Array) => Int32Array.from(a);
    return buildWaveform({
      serial, index: w.index, key: keyToHex(w.key), timestamp: w.timestamp, sample_rate: w.sampleRate,
      pretrigger_samples: w.pretriggerSamples, geo_range: w.geoRange,
      body: { channels: { Tran: ch(w.channels.Tran), Vert: ch(w.channels.Vert), Long: ch(w.channels.Long), MicL: ch(w.channels.MicL) }, truncated: false },
    });
  }

  cachedWaveform(target: DeviceTarget, index: number): Served<Waveform> | undefined {
    const u = this.knownUnit(target);
    const row = u && this.store.getEvent(u, index);
    if (!u || !row) return undefined;
    // The hot tier first: an immutable waveform needs neither the blob nor a re-serialisation.
    const hot = this.hot.get(waveformHotKey(u, row.key, row.event.timestamp));
    if (hot !== undefined) {
      this.count('waveform', 'hit');
      return servedBytes<Waveform>(hot.bytes, 'hit', this.ageS(hot.fetchedAt));
    }
    const w = this.store.getWaveform(u, row.key, row.event.timestamp);
    if (!w) return undefined;
    this.count('waveform', 'hit');
    return servedBytes<Waveform>(this.waveformJson(u, w), 'hit', this.ageS(w.fetchedAt));
  }

  async waveform(target: DeviceTarget, index: number, opts: WaveformOptions = {}): Promise<Served<Waveform>> {
    const hit = opts.force ? undefined : this.cachedWaveform(target, index);
    if (hit) return hit;
    return this.device(target, `waveform:${index}:${opts.force ? 'force' : ''}`, async (c) => {
      // The cheap probe first: the index must name the event the unit holds now.
      const { u: unit } = await this.syncEvents(c, target, false);
      const row = this.store.getEvent(unit, index);
      if (!row) throw new EventNotFound(index, this.store.eventCount(unit));
      if (row.event.record_type === 'monitor_log') throw new NoWaveform(`event ${index} is a monitor-log record; it has no waveform`);
      const had = this.store.getWaveform(unit, row.key, row.event.timestamp);
      if (had && !opts.force) {
        this.count('waveform', 'hit');
        return servedBytes<Waveform>(this.waveformJson(unit, had), 'hit', this.ageS(had.fetchedAt));
      }
      const d = await c.downloadWaveform(row.key, { onProgress: opts.onProgress });
      if (d.header.timestamp !== row.event.timestamp) {
        // The unit reused the key since the last sync: the cached list is stale.
        this.dropUnitEvents(unit);
        throw new ProtocolError(`${unit.connKey}: event ${index} changed on the unit (key ${keyToHex(row.key)} now holds another event); its list was dropped, ask again`);
      }
      const stored: StoredWaveform = {
        key: row.key, timestamp: row.event.timestamp, index, sampleRate: d.header.sample_rate, pretriggerSamples: d.header.pretrigger_samples,
        geoRange: d.header.geo_range, fetchedAt: this.clock.now(),
        channels: { Tran: Int16Array.from(d.body.channels.Tran), Vert: Int16Array.from(d.body.channels.Vert), Long: Int16Array.from(d.body.channels.Long), MicL: Int16Array.from(d.body.channels.MicL) },
      };
      this.store.putWaveform(unit, stored);
      const outcome: CacheOutcome = had || opts.force ? 'refresh' : 'miss';
      this.count('waveform', outcome);
      return servedBytes<Waveform>(this.waveformJson(unit, stored), outcome, 0);
    });
  }

  // --- monitor status ----------------------------------------------------------------------------

  cachedStatus(target: DeviceTarget): Served<MonitorStatus> | undefined {
    const u = this.knownUnit(target);
    const cached = u && this.store.getStatus(u);
    if (!cached || this.clock.now() - cached.fetchedAt >= this.statusTtlMs) return undefined;
    this.count('monitor_status', 'hit');
    return served(cached.status, 'hit', this.ageS(cached.fetchedAt));
  }

  async status(target: DeviceTarget, opts: ReadOptions = {}): Promise<Served<MonitorStatus>> {
    const hit = opts.force ? undefined : this.cachedStatus(target);
    if (hit) return hit;
    return this.device(target, `status:${opts.force ? 'force' : ''}`, async (c) => {
      const unit = await this.identify(c, target);
      const had = this.store.getStatus(unit);
      const status = await c.readMonitorStatus();
      this.store.putStatus(unit, status, this.clock.now());
      const outcome: CacheOutcome = had || opts.force ? 'refresh' : 'miss';
      this.count('monitor_status', outcome);
      return served(status, outcome, 0);
    });
  }

  // --- writes and uncached reads -------------------------------------------------------------------

  private write<T>(target: DeviceTarget, what: UnitWrite, fn: (c: MiniMateClient) => Promise<T>): Promise<T> {
    // Writes never share a transaction: two identical writes are two writes.
    return this.device(target, `${what}:${Math.random()}`, async (c) => {
      const unit = await this.identify(c, target);
      try {
        return await fn(c);
      } finally {
        // Invalidate even when the write failed half-way: the unit may have taken part of it.
        this.invalidate(unit, what);
      }
    });
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
    return this.device(target, 'call-home', (c) => c.readCallHome());
  }

  writeCallHome(target: DeviceTarget, changes: Partial<CallHomeConfig>): Promise<CallHomeConfig> {
    return this.write(target, 'call-home-write', (c) => c.writeCallHome(changes));
  }

  async storageRange(target: DeviceTarget): Promise<StorageRange> {
    return storageRangeView(await this.device(target, 'storage-range', (c) => c.readStorageRange()));
  }

  async erase(target: DeviceTarget): Promise<StorageRange> {
    return storageRangeView(await this.write(target, 'erase', (c) => c.eraseAll()));
  }

  // --- cache management ----------------------------------------------------------------------------

  clearDevice(target: DeviceTarget): Record<CacheKind, number> {
    const connKey = connectionKey(target);
    this.hot.dropConnection(connKey);
    return this.store.clearConnection(connKey);
  }

  cacheStats(): CacheStats {
    const s = this.store.stats();
    return {
      store: this.store.kind,
      persistent: this.store.capabilities.persistent,
      kinds: Object.fromEntries(CACHE_KINDS.map((k) => [k, { ...s[k], ...this.counters[k] }])) as CacheStats['kinds'],
      hot_tier: this.hot.stats,
      device_requests_pending: this.queue.pending,
    };
  }

  /** Waits for device work in flight (graceful shutdown). */
  idle(): Promise<void> {
    return this.queue.idle();
  }
}
