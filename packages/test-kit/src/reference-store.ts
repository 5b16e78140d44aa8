/**
 * ReferenceStore: the Store contract written as plainly as possible (Maps, deep copies, no
 * eviction, no persistence, one process). It is the model the contract suite's property test
 * compares a real store against, and a handy fake Store for other packages' tests. Not for
 * production: it keeps everything and copies generously.
 *
 * Every method is `async`, so whatever it throws reaches the caller as a rejection, as the
 * contract asks.
 */
import { ProcessLeases, StoreError } from '@sfm/core/cache';
import type { CacheKind, ChangeListener, EventSyncState, Identity, Millis, PendingText, Store, StoreCapabilities, StoredEvent, StoredInfo, StoredStatus, StoredWaveform, WaveformDocument } from '@sfm/core/cache';
import type { DeviceInfo, MonitorStatus, ProjectText } from '@sfm/core';
import type { KindStats } from '@sfm/core/cache';

/** What the store keeps for one unit (by serial). */
interface UnitData {
  info?: StoredInfo;
  events: StoredEvent[];
  sync?: EventSyncState;
  /** By event key: a unit holds at most one waveform per key (its timestamp is the identity check). */
  waveforms: Map<number, StoredWaveform>;
  status?: StoredStatus;
}

/** Bytes charged per stored item on top of its JSON text or sample bytes (keys, numbers). */
const ROW_OVERHEAD = 32;
const SYNC_BYTES = 40;

export class ReferenceStore implements Store {
  readonly kind: string = 'reference';
  readonly capabilities: StoreCapabilities = { persistent: false, evicts: false, shared: false };
  readonly leases: ProcessLeases = new ProcessLeases(() => this.live());

  private readonly identities = new Map<string, Identity>();
  private readonly units = new Map<string, UnitData>();
  private closed = false;

  /** Nothing else writes to this store: there is never anything to report. */
  pollChanges(): void {}

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
    const info = this.units.get(serial)?.info;
    return info && structuredClone(info);
  }

  async putInfo(serial: string, info: DeviceInfo, fetchedAt: Millis): Promise<void> {
    this.live();
    this.unit(serial).info = { info: structuredClone(info), fetchedAt, dirty: false };
  }

  async markInfoDirty(serial: string): Promise<boolean> {
    this.live();
    const info = this.units.get(serial)?.info;
    if (!info) return false;
    info.dirty = true;
    return true;
  }

  async getEventSync(serial: string): Promise<EventSyncState | undefined> {
    this.live();
    const sync = this.units.get(serial)?.sync;
    return sync && { ...sync };
  }

  async putEventSync(serial: string, sync: EventSyncState): Promise<void> {
    this.live();
    this.unit(serial).sync = { ...sync };
  }

  async getEvents(serial: string): Promise<StoredEvent[]> {
    this.live();
    return structuredClone(this.units.get(serial)?.events ?? []);
  }

  async getEvent(serial: string, index: number): Promise<StoredEvent | undefined> {
    this.live();
    const events = this.units.get(serial)?.events ?? [];
    if (!Number.isInteger(index) || index < 0 || index >= events.length) return undefined;
    return structuredClone(events[index]);
  }

  async getEventsJson(serial: string): Promise<Uint8Array | undefined> {
    this.live();
    const events = this.units.get(serial)?.events ?? [];
    return events.length === 0 ? undefined : Buffer.from(JSON.stringify(events.map((e) => e.event)));
  }

  async eventCount(serial: string): Promise<number> {
    this.live();
    return this.units.get(serial)?.events.length ?? 0;
  }

  async appendEvents(serial: string, events: readonly StoredEvent[], sync?: EventSyncState): Promise<void> {
    this.live();
    const have = this.units.get(serial)?.events.length ?? 0;
    events.forEach((e, i) => {
      if (e.event.index !== have + i) throw new StoreError(`appendEvents: event ${i} has index ${e.event.index}, expected ${have + i}`);
    });
    if (events.length === 0 && !sync) return;
    const unit = this.unit(serial);
    unit.events.push(...structuredClone(events));
    if (sync) unit.sync = { ...sync };
  }

  async pendingTexts(serial: string): Promise<PendingText[]> {
    this.live();
    const events = this.units.get(serial)?.events ?? [];
    return events.filter((e) => e.event.project_pending).map((e) => ({ index: e.event.index, key: e.key, timestamp: e.event.timestamp }));
  }

  async fillEventText(serial: string, index: number, key: number, text: ProjectText): Promise<boolean> {
    this.live();
    const row = this.units.get(serial)?.events[index];
    if (!row || row.key !== key) return false;
    row.event = { ...row.event, project: { ...text }, project_pending: false };
    return true;
  }

  async dropEvents(serial: string, opts: { keepWaveforms?: boolean } = {}): Promise<{ events: number; waveforms: number }> {
    this.live();
    const unit = this.units.get(serial);
    if (!unit) return { events: 0, waveforms: 0 };
    const counts = { events: unit.events.length, waveforms: opts.keepWaveforms ? 0 : unit.waveforms.size };
    unit.events = [];
    delete unit.sync;
    if (!opts.keepWaveforms) unit.waveforms.clear();
    return counts;
  }

  async getWaveform(serial: string, key: number, timestamp: string | null): Promise<StoredWaveform | undefined> {
    this.live();
    const w = this.units.get(serial)?.waveforms.get(key);
    return w && w.timestamp === timestamp ? structuredClone(w) : undefined;
  }

  async getWaveformDocument(serial: string, key: number, timestamp: string | null): Promise<(WaveformDocument & { fetchedAt: Millis }) | undefined> {
    this.live();
    const w = this.units.get(serial)?.waveforms.get(key);
    return w?.document && w.timestamp === timestamp ? { ...structuredClone(w.document), fetchedAt: w.fetchedAt } : undefined;
  }

  async putWaveform(serial: string, w: StoredWaveform): Promise<void> {
    this.live();
    this.unit(serial).waveforms.set(w.key, structuredClone(w));
  }

  async getStatus(serial: string): Promise<StoredStatus | undefined> {
    this.live();
    const s = this.units.get(serial)?.status;
    return s && structuredClone(s);
  }

  async putStatus(serial: string, status: MonitorStatus, fetchedAt: Millis): Promise<void> {
    this.live();
    this.unit(serial).status = { status: structuredClone(status), fetchedAt };
  }

  async deleteStatus(serial: string): Promise<boolean> {
    this.live();
    const unit = this.units.get(serial);
    if (!unit?.status) return false;
    delete unit.status;
    return true;
  }

  async clearConnection(connKey: string): Promise<Record<CacheKind, number>> {
    this.live();
    const counts: Record<CacheKind, number> = { device_info: 0, events: 0, waveform: 0, monitor_status: 0 };
    const id = this.identities.get(connKey);
    this.identities.delete(connKey);
    const unit = id && this.units.get(id.serial);
    if (!id || !unit) return counts;
    if (unit.info) counts.device_info++;
    counts.events += unit.events.length;
    counts.waveform += unit.waveforms.size;
    if (unit.status) counts.monitor_status++;
    this.units.delete(id.serial);
    return counts;
  }

  async stats(): Promise<Record<CacheKind, KindStats>> {
    this.live();
    const s: Record<CacheKind, KindStats> = {
      device_info: { entries: 0, bytes: 0 },
      events: { entries: 0, bytes: 0 },
      waveform: { entries: 0, bytes: 0 },
      monitor_status: { entries: 0, bytes: 0 },
    };
    for (const unit of this.units.values()) {
      if (unit.info) add(s.device_info, JSON.stringify(unit.info.info).length + ROW_OVERHEAD);
      for (const e of unit.events) add(s.events, JSON.stringify(e.event).length + ROW_OVERHEAD);
      // A sync state holds something (the list is known), though it is no entry.
      if (unit.sync) s.events.bytes += SYNC_BYTES;
      for (const w of unit.waveforms.values()) {
        const c = w.channels;
        add(s.waveform, c.Tran.byteLength + c.Vert.byteLength + c.Long.byteLength + c.MicL.byteLength + (w.document?.gzip.byteLength ?? 0) + ROW_OVERHEAD);
      }
      if (unit.status) add(s.monitor_status, JSON.stringify(unit.status.status).length + ROW_OVERHEAD);
    }
    return s;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private live(): void {
    if (this.closed) throw new StoreError('the store is closed');
  }

  private unit(serial: string): UnitData {
    let unit = this.units.get(serial);
    if (!unit) this.units.set(serial, (unit = { events: [], waveforms: new Map() }));
    return unit;
  }
}

function add(k: KindStats, bytes: number): void {
  k.entries++;
  k.bytes += bytes;
}
