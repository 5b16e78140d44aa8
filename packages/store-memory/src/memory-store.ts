/**
 * MemoryStore: the in-process cache on lru-cache, bounded by bytes (`--store memory`).
 *
 * One LRU holds every kind under one byte budget (`maxSize` + `sizeCalculation`), so a burst of
 * waveforms pushes out what was used least, whatever its kind. Eviction only ever removes a
 * whole thing, so what remains is always consistent:
 * - a unit's device info, monitor status and each of its waveforms are one entry each;
 * - a unit's event list is ONE entry together with its sync state: evicting it forgets both, so
 *   a list never has a hole and a sync state never describes events that are gone.
 *
 * Values go in as copies and come out as copies: JSON text for the JSON-shaped kinds (parsed on
 * every read), sliced Int16Arrays for samples. Sizes are charged honestly: JSON text length (and
 * the event list's joined array text, which is kept for getEventsJson), samples' byteLength, plus
 * a fixed per-entry overhead for the wrapper objects.
 */
import { LRUCache } from 'lru-cache';
import { StoreError } from '@sfm/core';
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

export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

export interface MemoryStoreOptions {
  /** The byte budget over every kind (default 256 MiB). */
  maxBytes?: number;
}

/** Bytes charged for an entry's wrapper object and key, and for each event's row object. */
const ENTRY_OVERHEAD = 96;
const EVENT_ROW_OVERHEAD = 48;
const SYNC_BYTES = 24;

interface EntryBase {
  readonly connKey: string;
  readonly serial: string;
  /** Charged bytes (what `sizeCalculation` answers). */
  readonly size: number;
  /** Items this entry counts as in stats (events in a list; 1 otherwise). */
  readonly items: number;
}

interface InfoEntry extends EntryBase {
  readonly kind: 'device_info';
  readonly json: string;
  readonly fetchedAt: FetchedAt;
  dirty: boolean;
}

interface EventRow {
  readonly json: string;
  readonly key: number;
  readonly geoRange: GeoRangeName | null;
  readonly fetchedAt: FetchedAt;
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
  readonly fetchedAt: FetchedAt;
}

type Entry = InfoEntry | EventsEntry | WaveformEntry | StatusEntry;

const KIND_TAG: Record<CacheKind, string> = { device_info: 'i', events: 'e', waveform: 'w', monitor_status: 's' };

export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly capabilities: StoreCapabilities = { persistent: false, evicts: true };
  readonly maxBytes: number;

  private readonly lru: LRUCache<string, Entry>;
  private readonly serials = new Map<string, string>();
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

  lastSerialAt(connKey: string): string | undefined {
    this.live();
    return this.serials.get(connKey);
  }

  rememberSerial(connKey: string, serial: string): void {
    this.live();
    this.serials.set(connKey, serial);
  }

  getInfo(u: UnitId): StoredInfo | undefined {
    this.live();
    const e = this.lru.get(lruKey('device_info', u)) as InfoEntry | undefined;
    return e && { info: JSON.parse(e.json) as DeviceInfo, fetchedAt: e.fetchedAt, dirty: e.dirty };
  }

  putInfo(u: UnitId, info: DeviceInfo, fetchedAt: FetchedAt): void {
    this.live();
    const json = JSON.stringify(info);
    this.put(lruKey('device_info', u), { kind: 'device_info', connKey: u.connKey, serial: u.serial, size: json.length + ENTRY_OVERHEAD, items: 1, json, fetchedAt, dirty: false });
  }

  markInfoDirty(u: UnitId): boolean {
    this.live();
    const e = this.lru.peek(lruKey('device_info', u)) as InfoEntry | undefined;
    if (!e) return false;
    e.dirty = true; // same size: changing the flag in place keeps the accounting
    return true;
  }

  getEventSync(u: UnitId): EventSyncState | undefined {
    this.live();
    const sync = this.events(u)?.sync;
    return sync && { ...sync };
  }

  getEvents(u: UnitId): StoredEvent[] {
    this.live();
    return (this.events(u)?.rows ?? []).map(toStoredEvent);
  }

  getEvent(u: UnitId, index: number): StoredEvent | undefined {
    this.live();
    const rows = this.events(u)?.rows;
    if (!rows || !Number.isInteger(index) || index < 0 || index >= rows.length) return undefined;
    return toStoredEvent(rows[index]!);
  }

  getEventsJson(u: UnitId): Uint8Array | undefined {
    this.live();
    const e = this.events(u);
    if (!e || e.rows.length === 0) return undefined;
    // A copy: callers must not be able to change what the store holds.
    return Buffer.from((e.joined ??= Buffer.from(`[${e.rows.map((r) => r.json).join(',')}]`)));
  }

  eventCount(u: UnitId): number {
    this.live();
    return this.events(u)?.rows.length ?? 0;
  }

  appendEvents(u: UnitId, events: readonly StoredEvent[], sync?: EventSyncState): void {
    this.live();
    const key = lruKey('events', u);
    const prev = this.lru.peek(key) as EventsEntry | undefined;
    const have = prev?.rows.length ?? 0;
    events.forEach((e, i) => {
      if (e.event.index !== have + i) {
        throw new StoreError(`appendEvents: event ${i} of the batch has index ${e.event.index}, expected ${have + i} (the unit has ${have} cached)`);
      }
    });
    if (events.length === 0 && !sync) return;
    // Everything that can throw (serialising) happens before the list is touched.
    const added: EventRow[] = events.map((e) => ({ json: JSON.stringify(e.event), key: e.key, geoRange: e.geoRange, fetchedAt: e.fetchedAt }));
    let textBytes = 0;
    for (const r of added) textBytes += 2 * r.json.length + 1 + EVENT_ROW_OVERHEAD;
    // The replaced entry's rows are reused: rows never change, and the old entry is dropped by
    // the set below, so nobody else sees the longer array.
    const rows = prev ? prev.rows : [];
    const prevBytes = prev ? prev.size - ENTRY_OVERHEAD - (prev.sync ? SYNC_BYTES : 0) : 0;
    rows.push(...added);
    const nextSync = sync ? { ...sync } : prev?.sync;
    const size = ENTRY_OVERHEAD + prevBytes + textBytes + (nextSync ? SYNC_BYTES : 0);
    this.put(key, { kind: 'events', connKey: u.connKey, serial: u.serial, size, items: rows.length, rows, sync: nextSync, joined: undefined });
  }

  dropEvents(u: UnitId, opts: { keepWaveforms?: boolean } = {}): { events: number; waveforms: number } {
    this.live();
    const key = lruKey('events', u);
    const events = (this.lru.peek(key) as EventsEntry | undefined)?.rows.length ?? 0;
    this.lru.delete(key);
    if (opts.keepWaveforms) return { events, waveforms: 0 };
    const prefix = `${KIND_TAG.waveform}${unitPart(u)}`;
    const doomed = [...this.lru.keys()].filter((k) => k.startsWith(prefix));
    for (const k of doomed) this.lru.delete(k);
    return { events, waveforms: doomed.length };
  }

  getWaveform(u: UnitId, key: number, timestamp: string | null): StoredWaveform | undefined {
    this.live();
    const e = this.lru.get(waveformKey(u, key)) as WaveformEntry | undefined;
    if (!e || e.w.timestamp !== timestamp) return undefined;
    return copyWaveform(e.w);
  }

  putWaveform(u: UnitId, w: StoredWaveform): void {
    this.live();
    const copy = copyWaveform(w);
    const c = copy.channels;
    const size = c.Tran.byteLength + c.Vert.byteLength + c.Long.byteLength + c.MicL.byteLength + (copy.timestamp?.length ?? 0) + ENTRY_OVERHEAD;
    // One waveform per key: a new timestamp at the same key replaces the stale one.
    this.put(waveformKey(u, w.key), { kind: 'waveform', connKey: u.connKey, serial: u.serial, size, items: 1, w: copy });
  }

  getStatus(u: UnitId): { status: MonitorStatus; fetchedAt: FetchedAt } | undefined {
    this.live();
    const e = this.lru.get(lruKey('monitor_status', u)) as StatusEntry | undefined;
    return e && { status: JSON.parse(e.json) as MonitorStatus, fetchedAt: e.fetchedAt };
  }

  putStatus(u: UnitId, status: MonitorStatus, fetchedAt: FetchedAt): void {
    this.live();
    const json = JSON.stringify(status);
    this.put(lruKey('monitor_status', u), { kind: 'monitor_status', connKey: u.connKey, serial: u.serial, size: json.length + ENTRY_OVERHEAD, items: 1, json, fetchedAt });
  }

  deleteStatus(u: UnitId): boolean {
    this.live();
    return this.lru.delete(lruKey('monitor_status', u));
  }

  clearConnection(connKey: string): Record<CacheKind, number> {
    this.live();
    const counts: Record<CacheKind, number> = { device_info: 0, events: 0, waveform: 0, monitor_status: 0 };
    const doomed: string[] = [];
    for (const [k, e] of this.lru.entries()) {
      if (e.connKey !== connKey) continue;
      counts[e.kind] += e.items;
      doomed.push(k);
    }
    for (const k of doomed) this.lru.delete(k);
    this.serials.delete(connKey);
    return counts;
  }

  stats(): Record<CacheKind, KindStats> {
    this.live();
    const t = this.totals;
    return {
      device_info: { ...t.device_info },
      events: { ...t.events },
      waveform: { ...t.waveform },
      monitor_status: { ...t.monitor_status },
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lru.clear();
    this.serials.clear();
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

  private events(u: UnitId): EventsEntry | undefined {
    return this.lru.get(lruKey('events', u)) as EventsEntry | undefined;
  }

  private live(): void {
    if (this.closed) throw new StoreError('the memory store is closed');
  }
}

/** The unit part of a key: length-prefixed, so no connKey/serial pair can mimic another. */
function unitPart(u: UnitId): string {
  return `${u.connKey.length}:${u.connKey}${u.serial.length}:${u.serial}`;
}

function lruKey(kind: CacheKind, u: UnitId): string {
  return KIND_TAG[kind] + unitPart(u);
}

function waveformKey(u: UnitId, key: number): string {
  return `${KIND_TAG.waveform}${unitPart(u)}#${key}`;
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
  };
}
