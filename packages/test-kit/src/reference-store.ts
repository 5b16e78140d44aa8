/**
 * ReferenceStore: the Store contract written as plainly as possible (Maps, deep copies, no
 * eviction, no persistence). It is the model the contract suite's property test compares a real
 * store against, and a handy fake Store for other packages' tests. Not for production: it keeps
 * everything and copies generously.
 */
import { StoreError } from '@sfm/core';
import type {
  CacheKind,
  DeviceInfo,
  EventSyncState,
  FetchedAt,
  KindStats,
  MonitorStatus,
  Store,
  StoreCapabilities,
  StoredEvent,
  StoredInfo,
  StoredWaveform,
  UnitId,
} from '@sfm/core';

interface UnitData {
  info?: StoredInfo;
  events: StoredEvent[];
  sync?: EventSyncState;
  /** By event key: a unit holds at most one waveform per key (its timestamp is the identity check). */
  waveforms: Map<number, StoredWaveform>;
  status?: { status: MonitorStatus; fetchedAt: FetchedAt };
}

/** Bytes charged per stored item on top of its JSON text or sample bytes (keys, numbers). */
const ROW_OVERHEAD = 32;
const SYNC_BYTES = 24;

export class ReferenceStore implements Store {
  readonly kind: string = 'reference';
  readonly capabilities: StoreCapabilities = { persistent: false, evicts: false };

  private readonly serials = new Map<string, string>();
  /** connKey → serial → data. */
  private readonly units = new Map<string, Map<string, UnitData>>();
  private closed = false;

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
    const info = this.peek(u)?.info;
    return info && structuredClone(info);
  }

  putInfo(u: UnitId, info: DeviceInfo, fetchedAt: FetchedAt): void {
    this.live();
    this.unit(u).info = { info: structuredClone(info), fetchedAt, dirty: false };
  }

  markInfoDirty(u: UnitId): boolean {
    this.live();
    const info = this.peek(u)?.info;
    if (!info) return false;
    info.dirty = true;
    return true;
  }

  getEventSync(u: UnitId): EventSyncState | undefined {
    this.live();
    const sync = this.peek(u)?.sync;
    return sync && { ...sync };
  }

  getEvents(u: UnitId): StoredEvent[] {
    this.live();
    return structuredClone(this.peek(u)?.events ?? []);
  }

  getEvent(u: UnitId, index: number): StoredEvent | undefined {
    this.live();
    const events = this.peek(u)?.events ?? [];
    if (!Number.isInteger(index) || index < 0 || index >= events.length) return undefined;
    return structuredClone(events[index]);
  }

  getEventsJson(u: UnitId): Uint8Array | undefined {
    this.live();
    const events = this.peek(u)?.events ?? [];
    return events.length === 0 ? undefined : Buffer.from(JSON.stringify(events.map((e) => e.event)));
  }

  eventCount(u: UnitId): number {
    this.live();
    return this.peek(u)?.events.length ?? 0;
  }

  appendEvents(u: UnitId, events: readonly StoredEvent[], sync?: EventSyncState): void {
    this.live();
    const have = this.peek(u)?.events.length ?? 0;
    events.forEach((e, i) => {
      if (e.event.index !== have + i) throw new StoreError(`appendEvents: event ${i} has index ${e.event.index}, expected ${have + i}`);
    });
    if (events.length === 0 && !sync) return;
    const unit = this.unit(u);
    unit.events.push(...structuredClone(events));
    if (sync) unit.sync = { ...sync };
  }

  dropEvents(u: UnitId, opts: { keepWaveforms?: boolean } = {}): { events: number; waveforms: number } {
    this.live();
    const unit = this.peek(u);
    if (!unit) return { events: 0, waveforms: 0 };
    const counts = { events: unit.events.length, waveforms: opts.keepWaveforms ? 0 : unit.waveforms.size };
    unit.events = [];
    delete unit.sync;
    if (!opts.keepWaveforms) unit.waveforms.clear();
    return counts;
  }

  getWaveform(u: UnitId, key: number, timestamp: string | null): StoredWaveform | undefined {
    this.live();
    const w = this.peek(u)?.waveforms.get(key);
    return w && w.timestamp === timestamp ? structuredClone(w) : undefined;
  }

  putWaveform(u: UnitId, w: StoredWaveform): void {
    this.live();
    this.unit(u).waveforms.set(w.key, structuredClone(w));
  }

  getStatus(u: UnitId): { status: MonitorStatus; fetchedAt: FetchedAt } | undefined {
    this.live();
    const s = this.peek(u)?.status;
    return s && structuredClone(s);
  }

  putStatus(u: UnitId, status: MonitorStatus, fetchedAt: FetchedAt): void {
    this.live();
    this.unit(u).status = { status: structuredClone(status), fetchedAt };
  }

  deleteStatus(u: UnitId): boolean {
    this.live();
    const unit = this.peek(u);
    if (!unit?.status) return false;
    delete unit.status;
    return true;
  }

  clearConnection(connKey: string): Record<CacheKind, number> {
    this.live();
    const counts: Record<CacheKind, number> = { device_info: 0, events: 0, waveform: 0, monitor_status: 0 };
    for (const unit of this.units.get(connKey)?.values() ?? []) {
      if (unit.info) counts.device_info++;
      counts.events += unit.events.length;
      counts.waveform += unit.waveforms.size;
      if (unit.status) counts.monitor_status++;
    }
    this.units.delete(connKey);
    this.serials.delete(connKey);
    return counts;
  }

  stats(): Record<CacheKind, KindStats> {
    this.live();
    const s: Record<CacheKind, KindStats> = {
      device_info: { entries: 0, bytes: 0 },
      events: { entries: 0, bytes: 0 },
      waveform: { entries: 0, bytes: 0 },
      monitor_status: { entries: 0, bytes: 0 },
    };
    for (const byConn of this.units.values()) {
      for (const unit of byConn.values()) {
        if (unit.info) add(s.device_info, JSON.stringify(unit.info.info).length + ROW_OVERHEAD);
        for (const e of unit.events) add(s.events, JSON.stringify(e.event).length + ROW_OVERHEAD);
        if (unit.sync) s.events.bytes += SYNC_BYTES;
        for (const w of unit.waveforms.values()) {
          const c = w.channels;
          add(s.waveform, c.Tran.byteLength + c.Vert.byteLength + c.Long.byteLength + c.MicL.byteLength + ROW_OVERHEAD);
        }
        if (unit.status) add(s.monitor_status, JSON.stringify(unit.status.status).length + ROW_OVERHEAD);
      }
    }
    return s;
  }

  close(): void {
    this.closed = true;
  }

  private live(): void {
    if (this.closed) throw new StoreError('the store is closed');
  }

  private peek(u: UnitId): UnitData | undefined {
    return this.units.get(u.connKey)?.get(u.serial);
  }

  private unit(u: UnitId): UnitData {
    let byConn = this.units.get(u.connKey);
    if (!byConn) this.units.set(u.connKey, (byConn = new Map()));
    let unit = byConn.get(u.serial);
    if (!unit) byConn.set(u.serial, (unit = { events: [], waveforms: new Map() }));
    return unit;
  }
}

function add(k: KindStats, bytes: number): void {
  k.entries++;
  k.bytes += bytes;
}
