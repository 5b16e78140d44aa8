/**
 * SharedReference: one ReferenceStore shared by several Store views, the way processes share one
 * SQLite file. Each view reports to its listeners, at `pollChanges()`, the scopes every view
 * (itself included) wrote since its last poll: `unit:<serial>` for every write to a unit's data,
 * its archive included (a review, an analysis, a session, what retention removed), and
 * `addr:<connKey>` for an identity. For tests of what sits on a shared store (two
 * relays, the change feed) and for the contract suite's own shared-store section. Not for
 * production: one process, no persistence.
 */
import { addressScope, StoreError, unitScope } from '@sfm/core/cache';
import type {
  Archive, CacheKind, ChangeListener, EventSyncState, Identity, LeaseHolder, LeaseStore, Millis, PendingText, Store, StoreCapabilities, StoredEvent, StoredInfo, StoredStatus, StoredWaveform,
  WaveformDocument,
} from '@sfm/core/cache';
import type { AnalysisSummary, DeviceInfo, EventSource, MonitorStatus, ProjectText } from '@sfm/core';
import type { KindStats } from '@sfm/core/cache';
import { ReferenceStore } from './reference-store.js';

export class SharedReference {
  /** What every view reads and writes. */
  readonly data = new ReferenceStore();
  /** The scopes of each write, in order: a view's cursor is an index into it. */
  readonly log: (readonly string[])[] = [];

  /** A new view, as a process opening the store; it hears of writes from now on. */
  open(): Store {
    return new SharedReferenceView(this);
  }
}

class SharedReferenceView implements Store {
  readonly kind: string = 'shared-reference';
  readonly capabilities: StoreCapabilities = { persistent: false, evicts: false, shared: true };
  readonly leases: LeaseStore;
  readonly archive: Archive;

  private readonly listeners: ChangeListener[] = [];
  private cursor: number;
  private closed = false;

  constructor(private readonly backing: SharedReference) {
    this.cursor = backing.log.length;
    const leases = backing.data.leases;
    this.leases = {
      tryAcquire: (key: string, holder: LeaseHolder, opts: { now: Millis; takeOverFrom?: string }) => this.read(() => leases.tryAcquire(key, holder, opts)),
      renew: (key: string, owner: string, expiresAt: Millis) => this.read(() => leases.renew(key, owner, expiresAt)),
      release: (key: string, owner: string) => this.read(() => leases.release(key, owner)),
      wanted: (key: string, owner: string) => this.read(() => leases.wanted(key, owner)),
    };
    const archive = backing.data.archive;
    /** The scope of the archived event `id`'s unit (none when there is no such event). */
    const scopeOfEvent = async (id: number): Promise<string[]> => {
      const e = await archive.event(id);
      return e ? [unitScope(e.serial)] : [];
    };
    this.archive = {
      persistent: archive.persistent,
      events: (q) => this.read(() => archive.events(q)),
      event: (id) => this.read(() => archive.event(id)),
      waveform: (id) => this.read(() => archive.waveform(id)),
      review: async (id, changes) => this.write(await this.read(() => scopeOfEvent(id)), () => archive.review(id, changes)),
      setAnalysis: async (id, summary) => this.write(await this.read(() => scopeOfEvent(id)), () => archive.setAnalysis(id, summary)),
      units: () => this.read(() => archive.units()),
      unit: (serial) => this.read(() => archive.unit(serial)),
      recordSession: (session) => this.write([unitScope(session.serial)], () => archive.recordSession(session)),
      sessions: (q) => this.read(() => archive.sessions(q)),
      stats: () => this.read(() => archive.stats()),
      retain: async (policy) => {
        const { removed, serials } = await this.read(() => backing.data.retainReporting(policy));
        this.report(serials.map(unitScope));
        return removed;
      },
      durable: () => this.read(() => archive.durable()),
    };
  }

  pollChanges(): void {
    const fresh = this.backing.log.slice(this.cursor);
    this.cursor = this.backing.log.length;
    if (fresh.length === 0) return;
    const scopes = [...new Set(fresh.flat())];
    for (const listener of this.listeners) listener(scopes);
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  getIdentity(connKey: string): Promise<Identity | undefined> {
    return this.read(() => this.backing.data.getIdentity(connKey));
  }
  putIdentity(connKey: string, identity: Identity): Promise<void> {
    return this.write([addressScope(connKey)], () => this.backing.data.putIdentity(connKey, identity));
  }
  getInfo(serial: string): Promise<StoredInfo | undefined> {
    return this.read(() => this.backing.data.getInfo(serial));
  }
  putInfo(serial: string, info: DeviceInfo, fetchedAt: Millis): Promise<void> {
    return this.write([unitScope(serial)], () => this.backing.data.putInfo(serial, info, fetchedAt));
  }
  markInfoDirty(serial: string): Promise<boolean> {
    return this.write([unitScope(serial)], () => this.backing.data.markInfoDirty(serial));
  }
  getEventSync(serial: string): Promise<EventSyncState | undefined> {
    return this.read(() => this.backing.data.getEventSync(serial));
  }
  putEventSync(serial: string, sync: EventSyncState): Promise<void> {
    return this.write([unitScope(serial)], () => this.backing.data.putEventSync(serial, sync));
  }
  getEvents(serial: string): Promise<StoredEvent[]> {
    return this.read(() => this.backing.data.getEvents(serial));
  }
  getEvent(serial: string, index: number): Promise<StoredEvent | undefined> {
    return this.read(() => this.backing.data.getEvent(serial, index));
  }
  getEventsJson(serial: string): Promise<Uint8Array | undefined> {
    return this.read(() => this.backing.data.getEventsJson(serial));
  }
  eventCount(serial: string): Promise<number> {
    return this.read(() => this.backing.data.eventCount(serial));
  }
  appendEvents(serial: string, events: readonly StoredEvent[], sync?: EventSyncState, source?: EventSource): Promise<{ archivedNew: number }> {
    return this.write([unitScope(serial)], () => this.backing.data.appendEvents(serial, events, sync, source));
  }
  pendingTexts(serial: string): Promise<PendingText[]> {
    return this.read(() => this.backing.data.pendingTexts(serial));
  }
  fillEventText(serial: string, index: number, key: number, text: ProjectText): Promise<boolean> {
    return this.write([unitScope(serial)], () => this.backing.data.fillEventText(serial, index, key, text));
  }
  dropEvents(serial: string): Promise<{ events: number }> {
    return this.write([unitScope(serial)], () => this.backing.data.dropEvents(serial));
  }
  getWaveform(serial: string, key: number, timestamp: string | null): Promise<StoredWaveform | undefined> {
    return this.read(() => this.backing.data.getWaveform(serial, key, timestamp));
  }
  getWaveformDocument(serial: string, key: number, timestamp: string | null): Promise<(WaveformDocument & { fetchedAt: Millis }) | undefined> {
    return this.read(() => this.backing.data.getWaveformDocument(serial, key, timestamp));
  }
  putWaveform(serial: string, w: StoredWaveform, analysis?: AnalysisSummary): Promise<boolean> {
    return this.write([unitScope(serial)], () => this.backing.data.putWaveform(serial, w, analysis));
  }
  getStatus(serial: string): Promise<StoredStatus | undefined> {
    return this.read(() => this.backing.data.getStatus(serial));
  }
  putStatus(serial: string, status: MonitorStatus, fetchedAt: Millis): Promise<void> {
    return this.write([unitScope(serial)], () => this.backing.data.putStatus(serial, status, fetchedAt));
  }
  deleteStatus(serial: string): Promise<boolean> {
    return this.write([unitScope(serial)], () => this.backing.data.deleteStatus(serial));
  }
  async clearConnection(connKey: string): Promise<Record<CacheKind, number>> {
    // The unit it clears is the one identified there before the clear.
    const id = await this.getIdentity(connKey);
    const scopes = id ? [addressScope(connKey), unitScope(id.serial)] : [addressScope(connKey)];
    return this.write(scopes, () => this.backing.data.clearConnection(connKey));
  }
  stats(): Promise<Record<CacheKind, KindStats>> {
    return this.read(() => this.backing.data.stats());
  }
  async close(): Promise<void> {
    this.closed = true;
  }

  private async read<T>(op: () => Promise<T>): Promise<T> {
    if (this.closed) throw new StoreError('this view of the shared store is closed');
    return op();
  }

  private async write<T>(scopes: readonly string[], op: () => Promise<T>): Promise<T> {
    const result = await this.read(op);
    this.report(scopes);
    return result;
  }

  /** Logs a write's scopes for every view's next poll (a write that touched nothing is no change). */
  private report(scopes: readonly string[]): void {
    if (scopes.length > 0) this.backing.log.push(scopes);
  }
}
