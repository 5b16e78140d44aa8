/**
 * MemoryStore: the in-process cache on lru-cache, bounded by bytes (`--store memory`).
 *
 * One LRU holds every kind of every unit (by serial) under one byte budget (`maxSize` +
 * `sizeCalculation`), so a burst of waveforms pushes out what was used least, whatever its kind.
 * Eviction only ever removes a whole thing, so what remains is always consistent:
 * - a unit's device info, monitor status and each of its waveforms are one entry each;
 * - a unit's live list is ONE entry together with its sync state: evicting it forgets both, so
 *   a list never has a hole and a sync state never describes events that are gone.
 *
 * Identities (address → serial) sit in a plain Map beside the LRU: they are tiny, and evicting
 * one would only cost a device round trip to learn it again. Leases are a Map too (core's ProcessLeases).
 * Nothing outside this process shares the store, so the change feed never has anything to say.
 *
 * Values go in as copies and come out as copies: JSON text for the JSON-shaped kinds (parsed on
 * every read), sliced Int16Arrays for samples. Sizes are charged honestly: JSON text length (and
 * the live list's joined array text, which is kept for getEventsJson), samples' byteLength, plus
 * a fixed per-entry overhead for the wrapper objects.
 *
 * Every method is `async` and does its work without awaiting, so each call is atomic and a
 * failure reaches the caller as a rejection.
 */
import { LRUCache } from 'lru-cache';
import { ProcessLeases, StoreError } from '@sfm/core/cache';
import type { DeviceInfo, Event, GeoRangeName, MonitorStatus, ProjectText } from '@sfm/core';
import type {
  CacheKind, ChangeListener, EventSyncState, Identity, KindStats, Millis, PendingText, Store, StoreCapabilities, StoredEvent, StoredInfo, StoredStatus, StoredWaveform, WaveformDocument,
} from '@sfm/core/cache';

export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

export interface MemoryStoreOptions {
  /** The byte budget over every kind (default 256 MiB). */
  maxBytes?: number;
}

/** Bytes charged for an entry's wrapper object and key, and for each event's row object. */
const ENTRY_OVERHEAD = 96;
const EVENT_ROW_OVERHEAD = 48;
/** A sync state: five fields in an object. */
const SYNC_BYTES = 40;

interface EntryBase {
  readonly serial: string;
  /** Charged bytes (what `sizeCalculation` answers). */
  readonly size: number;
  /** Items this entry counts as in stats (events in a list; 1 otherwise). */
  readonly items: number;
}

interface InfoEntry extends EntryBase {
  readonly kind: 'device_info';
  readonly json: string;
  readonly fetchedAt: Millis;
  dirty: boolean;
}

interface EventRow {
  readonly json: string;
  readonly key: number;
  readonly geoRange: GeoRangeName | null;
  readonly fetchedAt: Millis;
}

interface EventsEntry extends EntryBase {
  readonly kind: 'events';
  /** Shared, append-only, with the entry that replaced this one (rows are immutable). */
  readonly rows: EventRow[];
  readonly sync: EventSyncState | undefined;
  /** The array text, built on first read after a change (its bytes are charged up front). */
  joined: Uint8Array | undefined;
}

interface WaveformEntry extends EntryBase {
  readonly kind: 'waveform';
  readonly w: StoredWaveform;
}

interface StatusEntry extends EntryBase {
  readonly kind: 'monitor_status';
  readonly json: string;
  readonly fetchedAt: Millis;
}

type Entry = InfoEntry | EventsEntry | WaveformEntry | StatusEntry;

const KIND_TAG: Record<CacheKind, string> = { device_info: 'i', events: 'e', waveform: 'w', monitor_status: 's' };

export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly capabilities: StoreCapabilities = { persistent: false, evicts: true, shared: false };
  readonly maxBytes: number;
  readonly leases: ProcessLeases = new ProcessLeases(() => this.live());

  private readonly lru: LRUCache<string, Entry>;
  private readonly identities = new Map<string, Identity>();
  private readonly totals: Record<CacheKind, KindStats> = {
    device_info: { entries: 0, bytes: 0 },
    events: { entries: 0, bytes: 0 },
    waveform: { entries: 0, bytes: 0 },
    monitor_status: { entries: 0, bytes: 0 },
  };
  private closed = false;

  constructor(opts: MemoryStoreOptions = {}) {
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 1) throw new StoreError(`maxBytes must be a positive integer, got ${maxBytes}`);
    this.maxBytes = maxBytes;
    this.lru = new LRUCache<string, Entry>({
      maxSize: maxBytes,
      maxEntrySize: maxBytes,
      sizeCalculation: (e) => e.size,
      // Called for every entry that leaves: evicted, replaced, deleted or cleared.
      dispose: (e) => {
        const t = this.totals[e.kind];
        t.entries -= e.items;
        t.bytes -= e.size;
      },
    });
  }

  /** Only this process writes here: there is never anything to learn. */
  pollChanges(): void {}

  /** Never called: no other process shares this store. */
  onChange(_listener: ChangeListener): void {}

  async getIdentity(connKey: string): Promise<Identity | undefined> {
    this.live();
    const id = this.identities.get(connKey);
    return id && { ...id };
  }

  async putIdentity(connKey: string, identity: Identity): Promise<void> {
    this.live();
    this.identities.set(connKey, { serial: identity.serial, confirmedAt: identity.confirmedAt });
  }

  async getInfo(serial: string): Promise<StoredInfo | undefined> {
    this.live();
    const e = this.lru.get(lruKey('device_info', serial)) as InfoEntry | undefined;
    return e && { info: JSON.parse(e.json) as DeviceInfo, fetchedAt: e.fetchedAt, dirty: e.dirty };
  }

  async putInfo(serial: string, info: DeviceInfo, fetchedAt: Millis): Promise<void> {
    this.live();
    const json = JSON.stringify(info);
    this.put(lruKey('device_info', serial), { kind: 'device_info', serial, size: json.length + ENTRY_OVERHEAD, items: 1, json, fetchedAt, dirty: false });
  }

  async markInfoDirty(serial: string): Promise<boolean> {
    this.live();
    const e = this.lru.peek(lruKey('device_info', serial)) as InfoEntry | undefined;
    if (!e) return false;
    e.dirty = true; // same size: changing the flag in place keeps the accounting
    return true;
  }

  async getEventSync(serial: string): Promise<EventSyncState | undefined> {
    this.live();
    const sync = this.events(serial)?.sync;
    return sync && { ...sync };
  }

  async putEventSync(serial: string, sync: EventSyncState): Promise<void> {
    this.live();
    this.writeList(serial, [], { ...sync });
  }

  async getEvents(serial: string): Promise<StoredEvent[]> {
    this.live();
    return (this.events(serial)?.rows ?? []).map(toStoredEvent);
  }

  async getEvent(serial: string, index: number): Promise<StoredEvent | undefined> {
    this.live();
    const rows = this.events(serial)?.rows;
    if (!rows || !Number.isInteger(index) || index < 0 || index >= rows.length) return undefined;
    return toStoredEvent(rows[index]!);
  }

  async getEventsJson(serial: string): Promise<Uint8Array | undefined> {
    this.live();
    const e = this.events(serial);
    if (!e || e.rows.length === 0) return undefined;
    // A copy: callers must not be able to change what the store holds.
    return Buffer.from((e.joined ??= Buffer.from(`[${e.rows.map((r) => r.json).join(',')}]`)));
  }

  async eventCount(serial: string): Promise<number> {
    this.live();
    return this.events(serial)?.rows.length ?? 0;
  }

  async appendEvents(serial: string, events: readonly StoredEvent[], sync?: EventSyncState): Promise<void> {
    this.live();
    const have = (this.lru.peek(lruKey('events', serial)) as EventsEntry | undefined)?.rows.length ?? 0;
    events.forEach((e, i) => {
      if (e.event.index !== have + i) {
        throw new StoreError(`appendEvents: event ${i} of the batch has index ${e.event.index}, expected ${have + i} (the unit has ${have} cached)`);
      }
    });
    if (events.length === 0 && !sync) return;
    // Serialising (which can throw) happens before the list is touched.
    const added: EventRow[] = events.map((e) => ({ json: JSON.stringify(e.event), key: e.key, geoRange: e.geoRange, fetchedAt: e.fetchedAt }));
    this.writeList(serial, added, sync && { ...sync });
  }

  async pendingTexts(serial: string): Promise<PendingText[]> {
    this.live();
    const rows = this.events(serial)?.rows ?? [];
    return rows.flatMap((r, index) => {
      const e = JSON.parse(r.json) as Event;
      return e.project_pending ? [{ index, key: r.key, timestamp: e.timestamp }] : [];
    });
  }

  async fillEventText(serial: string, index: number, key: number, text: ProjectText): Promise<boolean> {
    this.live();
    const lk = lruKey('events', serial);
    const e = this.lru.peek(lk) as EventsEntry | undefined;
    const row = e?.rows[index];
    if (!e || !row || row.key !== key) return false;
    const json = JSON.stringify({ ...(JSON.parse(row.json) as Event), project: { ...text }, project_pending: false });
    // Rows are shared and never change: the entry gets a new array with the one row replaced.
    const rows = e.rows.slice();
    rows[index] = { ...row, json };
    const size = e.size + 2 * (json.length - row.json.length);
    this.put(lk, { ...e, size, rows, joined: undefined });
    return true;
  }

  async dropEvents(serial: string, opts: { keepWaveforms?: boolean } = {}): Promise<{ events: number; waveforms: number }> {
    this.live();
    const key = lruKey('events', serial);
    const events = (this.lru.peek(key) as EventsEntry | undefined)?.rows.length ?? 0;
    this.lru.delete(key);
    if (opts.keepWaveforms) return { events, waveforms: 0 };
    return { events, waveforms: this.deleteWaveformsOf(serial) };
  }

  async getWaveform(serial: string, key: number, timestamp: string | null): Promise<StoredWaveform | undefined> {
    this.live();
    const e = this.lru.get(waveformKey(serial, key)) as WaveformEntry | undefined;
    if (!e || e.w.timestamp !== timestamp) return undefined;
    return copyWaveform(e.w);
  }

  async getWaveformDocument(serial: string, key: number, timestamp: string | null): Promise<(WaveformDocument & { fetchedAt: Millis }) | undefined> {
    this.live();
    const e = this.lru.get(waveformKey(serial, key)) as WaveformEntry | undefined;
    const d = e?.w.timestamp === timestamp ? e.w.document : undefined;
    return d && { index: d.index, gzip: d.gzip.slice(), fetchedAt: e!.w.fetchedAt };
  }

  async putWaveform(serial: string, w: StoredWaveform): Promise<void> {
    this.live();
    const copy = copyWaveform(w);
    const c = copy.channels;
    const size = c.Tran.byteLength + c.Vert.byteLength + c.Long.byteLength + c.MicL.byteLength + (copy.document?.gzip.byteLength ?? 0) + (copy.timestamp?.length ?? 0) + ENTRY_OVERHEAD;
    // One waveform per key: a new timestamp at the same key replaces the stale one.
    this.put(waveformKey(serial, w.key), { kind: 'waveform', serial, size, items: 1, w: copy });
  }

  async getStatus(serial: string): Promise<StoredStatus | undefined> {
    this.live();
    const e = this.lru.get(lruKey('monitor_status', serial)) as StatusEntry | undefined;
    return e && { status: JSON.parse(e.json) as MonitorStatus, fetchedAt: e.fetchedAt };
  }

  async putStatus(serial: string, status: MonitorStatus, fetchedAt: Millis): Promise<void> {
    this.live();
    const json = JSON.stringify(status);
    this.put(lruKey('monitor_status', serial), { kind: 'monitor_status', serial, size: json.length + ENTRY_OVERHEAD, items: 1, json, fetchedAt });
  }

  async deleteStatus(serial: string): Promise<boolean> {
    this.live();
    return this.lru.delete(lruKey('monitor_status', serial));
  }

  async clearConnection(connKey: string): Promise<Record<CacheKind, number>> {
    this.live();
    const counts: Record<CacheKind, number> = { device_info: 0, events: 0, waveform: 0, monitor_status: 0 };
    const id = this.identities.get(connKey);
    this.identities.delete(connKey);
    if (!id) return counts;
    for (const kind of ['device_info', 'events', 'monitor_status'] as const) {
      const key = lruKey(kind, id.serial);
      const e = this.lru.peek(key);
      if (!e) continue;
      counts[kind] = e.items;
      this.lru.delete(key);
    }
    counts.waveform = this.deleteWaveformsOf(id.serial);
    return counts;
  }

  async stats(): Promise<Record<CacheKind, KindStats>> {
    this.live();
    const t = this.totals;
    return {
      device_info: { ...t.device_info },
      events: { ...t.events },
      waveform: { ...t.waveform },
      monitor_status: { ...t.monitor_status },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lru.clear();
    this.identities.clear();
    this.leases.clear();
  }

  /**
   * Replaces the unit's list entry by one with `added` appended and, when given, `sync` as its sync
   * state. The rows array is reused: rows never change, and the old entry leaves the LRU here, so
   * nobody else sees the longer array.
   */
  private writeList(serial: string, added: readonly EventRow[], sync: EventSyncState | undefined): void {
    const key = lruKey('events', serial);
    const prev = this.lru.peek(key) as EventsEntry | undefined;
    const rows = prev ? prev.rows : [];
    const prevRowBytes = prev ? prev.size - ENTRY_OVERHEAD - (prev.sync ? SYNC_BYTES : 0) : 0;
    let addedBytes = 0;
    // Each row's text twice: its own JSON and its share of the joined array text (plus a comma).
    for (const r of added) addedBytes += 2 * r.json.length + 1 + EVENT_ROW_OVERHEAD;
    rows.push(...added);
    const nextSync = sync ?? prev?.sync;
    const size = ENTRY_OVERHEAD + prevRowBytes + addedBytes + (nextSync ? SYNC_BYTES : 0);
    // Only new rows change the array text; a new sync state alone keeps it.
    const joined = added.length === 0 ? prev?.joined : undefined;
    this.put(key, { kind: 'events', serial, size, items: rows.length, rows, sync: nextSync, joined });
  }

  private deleteWaveformsOf(serial: string): number {
    const prefix = waveformPrefix(serial);
    const doomed = [...this.lru.keys()].filter((k) => k.startsWith(prefix));
    for (const k of doomed) this.lru.delete(k);
    return doomed.length;
  }

  /** Stores an entry, or — when it alone exceeds the budget — drops what the key held. */
  private put(key: string, e: Entry): void {
    if (e.size > this.maxBytes) {
      this.lru.delete(key);
      return;
    }
    this.lru.set(key, e);
    const t = this.totals[e.kind];
    t.entries += e.items;
    t.bytes += e.size;
  }

  private events(serial: string): EventsEntry | undefined {
    return this.lru.get(lruKey('events', serial)) as EventsEntry | undefined;
  }

  private live(): void {
    if (this.closed) throw new StoreError('the memory store is closed');
  }
}

/** The serial part of a key: length-prefixed, so no serial is a prefix of another's keys. */
function serialPart(serial: string): string {
  return `${serial.length}:${serial}`;
}

function lruKey(kind: CacheKind, serial: string): string {
  return KIND_TAG[kind] + serialPart(serial);
}

function waveformPrefix(serial: string): string {
  return `${KIND_TAG.waveform}${serialPart(serial)}#`;
}

function waveformKey(serial: string, key: number): string {
  return `${waveformPrefix(serial)}${key}`;
}

function toStoredEvent(r: EventRow): StoredEvent {
  return { event: JSON.parse(r.json), key: r.key, geoRange: r.geoRange, fetchedAt: r.fetchedAt };
}

function copyWaveform(w: StoredWaveform): StoredWaveform {
  for (const name of ['Tran', 'Vert', 'Long', 'MicL'] as const) {
    if (!(w.channels[name] instanceof Int16Array)) throw new StoreError(`waveform: channel ${name} must be an Int16Array`);
  }
  return {
    key: w.key,
    timestamp: w.timestamp,
    index: w.index,
    sampleRate: w.sampleRate,
    pretriggerSamples: w.pretriggerSamples,
    geoRange: w.geoRange,
    channels: { Tran: w.channels.Tran.slice(), Vert: w.channels.Vert.slice(), Long: w.channels.Long.slice(), MicL: w.channels.MicL.slice() },
    fetchedAt: w.fetchedAt,
    ...(w.document ? { document: { index: w.document.index, gzip: w.document.gzip.slice() } } : {}),
  };
}
