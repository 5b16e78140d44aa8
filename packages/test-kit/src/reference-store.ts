/**
 * ReferenceStore: the Store contract written as plainly as possible (arrays and Maps, deep copies,
 * linear scans, no eviction, no persistence, one process). It is the model the contract suite's
 * property test compares a real store against, and a handy fake Store for other packages' tests.
 * Not for production: it keeps everything and copies generously.
 *
 * The data model is the contract's: one archive row per (serial, timestamp, key); a unit's live
 * list is a list of archive ids (each with the fetchedAt and geoRange it was appended with), so
 * every read of the list shows the archived row's fields. What the fleet knows of a unit beyond
 * its archive (when it was seen, where, its info and last status) is a row of its own that the
 * cache's drops never touch. The rules the contract leaves open are decided in contract-suite.ts's
 * header; this store follows them.
 *
 * Every method is `async`, so whatever it throws reaches the caller as a rejection, as the
 * contract asks.
 */
import { ProcessLeases, StoreError, checkLimit, checkRetention, checkReview, checkSession, decodeCursor, encodeCursor, type Position } from '@sfm/core/cache';
import type {
  Archive, ArchiveEventQuery, CacheKind, ChangeListener, EventSyncState, Identity, KindStats, Millis, Page, PendingText, RetentionPolicy, Store, StoreCapabilities, StoredEvent, StoredInfo,
  StoredStatus, StoredWaveform, WaveformDocument,
} from '@sfm/core/cache';
import type { AnalysisSummary, ArchivedEvent, ArchiveStats, DeviceInfo, Event, EventSource, GeoRangeName, MonitorStatus, ProjectText, Session, Unit } from '@sfm/core';
import { EVENT_SOURCES } from '@sfm/core/schema';

/** The cache's view of one unit (by serial). */
interface UnitCache {
  info?: StoredInfo;
  live: LiveRow[];
  sync?: EventSyncState;
  status?: StoredStatus;
}

/** One position of a live list: the archived event there, and how it was appended. */
interface LiveRow {
  id: number;
  fetchedAt: Millis;
  geoRange: GeoRangeName | null;
}

type EventFields = Omit<Event, 'index'>;

/** An archived event: its Event fields (all but index) and what the archive adds. */
interface ArchivedRow {
  id: number;
  serial: string;
  key: number;
  fields: EventFields;
  receivedAt: Millis;
  source: EventSource;
  falseTrigger: boolean;
  notes: string | null;
  analysis: AnalysisSummary | null;
}

/** What the fleet knows of a unit beyond its archive. Each `at` is the time the value was true. */
interface FleetRow {
  firstSeen: Millis;
  lastSeen: Millis;
  address?: { connKey: string; at: Millis };
  info?: { info: DeviceInfo; at: Millis };
  status?: { status: MonitorStatus; at: Millis };
}

/** Bytes charged per stored item on top of its JSON text or sample bytes (keys, numbers). */
const ROW_OVERHEAD = 32;
const SYNC_BYTES = 40;
/** A session's started_at: UTC ISO 8601 as Date#toISOString writes it (milliseconds optional). */

export class ReferenceStore implements Store {
  readonly kind: string = 'reference';
  readonly capabilities: StoreCapabilities = { persistent: false, evicts: false, shared: false };
  readonly leases: ProcessLeases = new ProcessLeases(() => this.live());
  readonly archive: Archive;

  private readonly identities = new Map<string, Identity>();
  private readonly units = new Map<string, UnitCache>();
  /** Every archived event, in id order. */
  private archived: ArchivedRow[] = [];
  private lastEventId = 0;
  /** By waveformId(serial, key, timestamp). */
  private readonly waveforms = new Map<string, { serial: string; w: StoredWaveform }>();
  private readonly sessionRows: Session[] = [];
  private readonly fleet = new Map<string, FleetRow>();
  private closed = false;

  constructor() {
    const store = this;
    this.archive = {
      persistent: false,
      events: async (q) => store.archiveEvents(q),
      event: async (id) => {
        store.live();
        const row = store.archivedById(id);
        return row && store.view(row);
      },
      waveform: async (id) => {
        store.live();
        const row = store.archivedById(id);
        const w = row && store.waveforms.get(waveformId(row.serial, row.key, row.fields.timestamp));
        return w && structuredClone(w.w);
      },
      review: async (id, changes) => {
        store.live();
        checkReview(changes);
        if (changes.notes !== undefined && changes.notes !== null && typeof changes.notes !== 'string') throw new StoreError('review: notes must be text or null');
        const row = store.archivedById(id);
        if (!row) return undefined;
        if (changes.falseTrigger !== undefined) row.falseTrigger = changes.falseTrigger;
        if (changes.notes !== undefined) row.notes = changes.notes;
        return store.view(row);
      },
      setAnalysis: async (id, summary) => {
        store.live();
        const row = store.archivedById(id);
        if (!row) return false;
        row.analysis = summary && structuredClone(summary);
        return true;
      },
      units: async () => {
        store.live();
        return [...store.fleet.keys()].map((serial) => store.unitView(serial)).sort((a, b) => (a.last_seen !== b.last_seen ? (a.last_seen > b.last_seen ? -1 : 1) : a.serial < b.serial ? -1 : 1));
      },
      unit: async (serial) => {
        store.live();
        return store.fleet.has(serial) ? store.unitView(serial) : undefined;
      },
      recordSession: async (s) => store.recordSession(s),
      sessions: async (q) => store.sessions(q),
      stats: async () => store.archiveStats(),
      retain: async (policy) => (await store.retainReporting(policy)).removed,
      durable: async () => store.live(),
    };
  }

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
    this.seen(identity.serial, identity.confirmedAt, connKey);
  }

  async getInfo(serial: string): Promise<StoredInfo | undefined> {
    this.live();
    const info = this.units.get(serial)?.info;
    return info && structuredClone(info);
  }

  async putInfo(serial: string, info: DeviceInfo, fetchedAt: Millis): Promise<void> {
    this.live();
    this.unit(serial).info = { info: structuredClone(info), fetchedAt, dirty: false };
    const f = this.seen(serial, fetchedAt);
    if (f && (!f.info || fetchedAt >= f.info.at)) f.info = { info: structuredClone(info), at: fetchedAt };
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
    return (this.units.get(serial)?.live ?? []).map((r, index) => this.liveEvent(r, index));
  }

  async getEvent(serial: string, index: number): Promise<StoredEvent | undefined> {
    this.live();
    const rows = this.units.get(serial)?.live ?? [];
    if (!Number.isInteger(index) || index < 0 || index >= rows.length) return undefined;
    return this.liveEvent(rows[index]!, index);
  }

  async getEventsJson(serial: string): Promise<Uint8Array | undefined> {
    this.live();
    const events = await this.getEvents(serial);
    return events.length === 0 ? undefined : Buffer.from(JSON.stringify(events.map((e) => e.event)));
  }

  async eventCount(serial: string): Promise<number> {
    this.live();
    return this.units.get(serial)?.live.length ?? 0;
  }

  async appendEvents(serial: string, events: readonly StoredEvent[], sync?: EventSyncState, source: EventSource = 'call-up'): Promise<{ archivedNew: number }> {
    this.live();
    if (!EVENT_SOURCES.includes(source)) throw new StoreError(`appendEvents: source must be one of ${EVENT_SOURCES.join(', ')}, got ${JSON.stringify(source)}`);
    const have = this.units.get(serial)?.live.length ?? 0;
    events.forEach((e, i) => {
      if (e.event.index !== have + i) throw new StoreError(`appendEvents: event ${i} has index ${e.event.index}, expected ${have + i}`);
    });
    if (events.length === 0 && !sync) return { archivedNew: 0 };
    const unit = this.unit(serial);
    let archivedNew = 0;
    for (const e of structuredClone(events)) {
      const { index: _index, ...fields } = e.event;
      let row = this.archived.find((a) => a.serial === serial && a.key === e.key && a.fields.timestamp === fields.timestamp);
      if (row) {
        row.fields = refreshed(row.fields, fields);
      } else {
        row = { id: ++this.lastEventId, serial, key: e.key, fields, receivedAt: e.fetchedAt, source, falseTrigger: false, notes: null, analysis: null };
        this.archived.push(row);
        archivedNew++;
      }
      unit.live.push({ id: row.id, fetchedAt: e.fetchedAt, geoRange: e.geoRange });
      this.seen(serial, e.fetchedAt);
    }
    if (sync) unit.sync = { ...sync };
    return { archivedNew };
  }

  async pendingTexts(serial: string): Promise<PendingText[]> {
    this.live();
    return (await this.getEvents(serial)).filter((e) => e.event.project_pending).map((e) => ({ index: e.event.index, key: e.key, timestamp: e.event.timestamp }));
  }

  async fillEventText(serial: string, index: number, key: number, text: ProjectText): Promise<boolean> {
    this.live();
    const liveRow = this.units.get(serial)?.live[index];
    const row = liveRow && this.archivedById(liveRow.id);
    if (!row || row.key !== key) return false;
    row.fields = { ...row.fields, project: { ...text }, project_pending: false };
    return true;
  }

  async dropEvents(serial: string): Promise<{ events: number }> {
    this.live();
    const unit = this.units.get(serial);
    if (!unit) return { events: 0 };
    const events = unit.live.length;
    unit.live = [];
    delete unit.sync;
    return { events };
  }

  async getWaveform(serial: string, key: number, timestamp: string | null): Promise<StoredWaveform | undefined> {
    this.live();
    const w = this.waveforms.get(waveformId(serial, key, timestamp));
    return w && structuredClone(w.w);
  }

  async getWaveformDocument(serial: string, key: number, timestamp: string | null): Promise<(WaveformDocument & { fetchedAt: Millis }) | undefined> {
    this.live();
    const w = this.waveforms.get(waveformId(serial, key, timestamp))?.w;
    return w?.document && { ...structuredClone(w.document), fetchedAt: w.fetchedAt };
  }

  async putWaveform(serial: string, w: StoredWaveform, analysis?: AnalysisSummary): Promise<boolean> {
    this.live();
    const archived = analysis && this.archived.find((a) => a.serial === serial && a.key === w.key && a.fields.timestamp === w.timestamp);
    if (archived) archived.analysis = structuredClone(analysis);
    const id = waveformId(serial, w.key, w.timestamp);
    const isNew = !this.waveforms.has(id);
    this.waveforms.set(id, { serial, w: structuredClone(w) });
    return isNew;
  }

  async getStatus(serial: string): Promise<StoredStatus | undefined> {
    this.live();
    const s = this.units.get(serial)?.status;
    return s && structuredClone(s);
  }

  async putStatus(serial: string, status: MonitorStatus, fetchedAt: Millis): Promise<void> {
    this.live();
    this.unit(serial).status = { status: structuredClone(status), fetchedAt };
    const f = this.seen(serial, fetchedAt);
    if (f && (!f.status || fetchedAt >= f.status.at)) f.status = { status: structuredClone(status), at: fetchedAt };
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
    counts.events += unit.live.length;
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
    for (const [serial, unit] of this.units) {
      if (unit.info) add(s.device_info, JSON.stringify(unit.info.info).length + ROW_OVERHEAD);
      for (const e of await this.getEvents(serial)) add(s.events, JSON.stringify(e.event).length + ROW_OVERHEAD);
      // A sync state holds something (the list is known), though it is no entry.
      if (unit.sync) s.events.bytes += SYNC_BYTES;
      if (unit.status) add(s.monitor_status, JSON.stringify(unit.status.status).length + ROW_OVERHEAD);
    }
    for (const { w } of this.waveforms.values()) add(s.waveform, waveformBytes(w) + ROW_OVERHEAD);
    return s;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /**
   * `archive.retain`, also answering which units lost something (SharedReference reports them
   * through the change feed).
   */
  async retainReporting(policy: RetentionPolicy): Promise<{ removed: { events: number; waveforms: number; bytes: number }; serials: string[] }> {
    this.live();
    const { receivedBefore, waveformBytes: budget } = policy;
    checkRetention(policy);
    const liveIds = new Set([...this.units.values()].flatMap((u) => u.live.map((r) => r.id)));
    const protectedWaveforms = new Set(this.archived.filter((a) => liveIds.has(a.id)).map((a) => waveformId(a.serial, a.key, a.fields.timestamp)));
    const removed = { events: 0, waveforms: 0, bytes: 0 };
    const serials = new Set<string>();
    const dropWaveform = (id: string): void => {
      const w = this.waveforms.get(id);
      if (!w) return;
      this.waveforms.delete(id);
      removed.waveforms++;
      removed.bytes += waveformBytes(w.w);
      serials.add(w.serial);
    };
    if (receivedBefore !== undefined) {
      const doomed = this.archived.filter((a) => a.receivedAt < receivedBefore && !liveIds.has(a.id));
      this.archived = this.archived.filter((a) => !doomed.includes(a));
      for (const a of doomed) {
        removed.events++;
        removed.bytes += archivedBytes(a);
        serials.add(a.serial);
        dropWaveform(waveformId(a.serial, a.key, a.fields.timestamp));
      }
    }
    if (budget !== undefined) {
      const oldestFirst = [...this.waveforms.entries()].filter(([id]) => !protectedWaveforms.has(id)).sort(([, p], [, q]) => p.w.fetchedAt - q.w.fetchedAt);
      for (const [id] of oldestFirst) {
        if (this.waveformTotal() <= budget) break;
        dropWaveform(id);
      }
    }
    return { removed, serials: [...serials] };
  }

  private live(): void {
    if (this.closed) throw new StoreError('the store is closed');
  }

  private unit(serial: string): UnitCache {
    let unit = this.units.get(serial);
    if (!unit) this.units.set(serial, (unit = { live: [] }));
    return unit;
  }

  private archivedById(id: number): ArchivedRow | undefined {
    return this.archived.find((a) => a.id === id);
  }

  private liveEvent(r: LiveRow, index: number): StoredEvent {
    const row = this.archivedById(r.id)!;
    return { event: structuredClone({ index, ...row.fields }), key: row.key, geoRange: r.geoRange, fetchedAt: r.fetchedAt };
  }

  private view(row: ArchivedRow): ArchivedEvent {
    return structuredClone({
      id: row.id,
      serial: row.serial,
      ...row.fields,
      received_at: new Date(row.receivedAt).toISOString(),
      source: row.source,
      has_waveform: this.waveforms.has(waveformId(row.serial, row.key, row.fields.timestamp)),
      false_trigger: row.falseTrigger,
      notes: row.notes,
      analysis_summary: row.analysis,
    });
  }

  /**
   * The unit was heard from at `at` (and at `connKey`, when given): its fleet row, created on
   * first sight. The empty serial is no serial: it has no fleet row.
   */
  private seen(serial: string, at: Millis, connKey?: string): FleetRow | undefined {
    if (serial === '') return undefined;
    let f = this.fleet.get(serial);
    if (!f) this.fleet.set(serial, (f = { firstSeen: at, lastSeen: at }));
    f.firstSeen = Math.min(f.firstSeen, at);
    f.lastSeen = Math.max(f.lastSeen, at);
    if (connKey !== undefined && (!f.address || at >= f.address.at)) f.address = { connKey, at };
    return f;
  }

  private unitView(serial: string): Unit {
    const f = this.fleet.get(serial)!;
    const events = this.archived.filter((a) => a.serial === serial).sort(newestEventFirst);
    const sessions = this.sessionRows.filter((s) => s.serial === serial).sort(newestSessionFirst);
    return structuredClone({
      serial,
      first_seen: new Date(f.firstSeen).toISOString(),
      last_seen: new Date(f.lastSeen).toISOString(),
      last_address: f.address?.connKey ?? null,
      last_session: sessions[0] ?? null,
      event_count: events.length,
      last_event: events[0] ? this.view(events[0]) : null,
      last_status: f.status?.status ?? null,
      info: f.info?.info ?? null,
    });
  }

  private archiveEvents(q: ArchiveEventQuery): Page<ArchivedEvent> {
    this.live();
    checkLimit(q.limit);
    const after = q.cursor === undefined ? undefined : decodeCursor('events', q.cursor);
    const project = q.project === undefined ? undefined : foldAscii(q.project);
    const matching = this.archived
      .filter((a) => {
        const f = a.fields;
        if (q.serial !== undefined && a.serial !== q.serial) return false;
        if (q.from !== undefined && (f.timestamp === null || f.timestamp < q.from)) return false;
        if (q.to !== undefined && (f.timestamp === null || f.timestamp > q.to)) return false;
        if (q.minPvsIps !== undefined && (f.peaks.pvs_ips === null || f.peaks.pvs_ips < q.minPvsIps)) return false;
        if (project !== undefined && (f.project.project === null || !foldAscii(f.project.project).includes(project))) return false;
        if (q.recordType !== undefined && f.record_type !== q.recordType) return false;
        if (q.falseTrigger !== undefined && a.falseTrigger !== q.falseTrigger) return false;
        return true;
      })
      .sort(newestEventFirst)
      .filter((a) => after === undefined || newestEventFirst(asEventPosition(after), a) < 0);
    const page = matching.slice(0, q.limit);
    const last = page.at(-1);
    return {
      items: page.map((a) => this.view(a)),
      nextCursor: matching.length > q.limit && last ? encodeCursor('events', [last.fields.timestamp, last.id]) : null,
    };
  }

  private recordSession(s: Omit<Session, 'id'>): Session {
    this.live();
    checkSession(s);
    const session: Session = { id: this.sessionRows.length + 1, ...structuredClone(s) };
    this.sessionRows.push(session);
    const start = Date.parse(s.started_at);
    this.seen(s.serial, start);
    this.seen(s.serial, sessionEnd(s), s.peer);
    return structuredClone(session);
  }

  private sessions(q: { serial?: string; limit: number; cursor?: string }): Page<Session> {
    this.live();
    checkLimit(q.limit);
    const after = q.cursor === undefined ? undefined : decodeCursor('sessions', q.cursor);
    const matching = this.sessionRows
      .filter((s) => q.serial === undefined || s.serial === q.serial)
      .sort(newestSessionFirst)
      .filter((s) => after === undefined || newestSessionFirst(asSessionPosition(after), s) < 0);
    const page = matching.slice(0, q.limit);
    const last = page.at(-1);
    return { items: structuredClone(page), nextCursor: matching.length > q.limit && last ? encodeCursor('sessions', [Date.parse(last.started_at), last.id]) : null };
  }

  private archiveStats(): Omit<ArchiveStats, 'retention_removed'> {
    this.live();
    return {
      persistent: false,
      units: this.fleet.size,
      events: this.archived.length,
      waveforms: this.waveforms.size,
      event_bytes: this.archived.reduce((n, a) => n + archivedBytes(a), 0),
      waveform_bytes: this.waveformTotal(),
      sessions: this.sessionRows.length,
    };
  }

  private waveformTotal(): number {
    let n = 0;
    for (const { w } of this.waveforms.values()) n += waveformBytes(w);
    return n;
  }
}

/**
 * An archived event's fields refreshed by a new read of it: the new read's fields, except that a
 * read whose project text is still to come keeps the text the archive already has.
 */
function refreshed(old: EventFields, read: EventFields): EventFields {
  return read.project_pending && !old.project_pending ? { ...read, project: old.project, project_pending: false } : read;
}

/** The contract's waveform bytes: every channel's samples (2 bytes each) and the document. */
function waveformBytes(w: StoredWaveform): number {
  const c = w.channels;
  return c.Tran.byteLength + c.Vert.byteLength + c.Long.byteLength + c.MicL.byteLength + (w.document?.gzip.byteLength ?? 0);
}

function archivedBytes(a: ArchivedRow): number {
  return JSON.stringify(a).length;
}

function waveformId(serial: string, key: number, timestamp: string | null): string {
  return JSON.stringify([serial, key, timestamp]);
}

/** Newest first: timestamp descending (no timestamp is oldest), then id descending. */
function newestEventFirst(a: { id: number; fields: { timestamp: string | null } }, b: { id: number; fields: { timestamp: string | null } }): number {
  const p = a.fields.timestamp;
  const q = b.fields.timestamp;
  if (p !== q) {
    if (p === null) return 1;
    if (q === null) return -1;
    return p > q ? -1 : 1;
  }
  return b.id - a.id;
}

function newestSessionFirst(a: { id: number; started_at: string }, b: { id: number; started_at: string }): number {
  return Date.parse(b.started_at) - Date.parse(a.started_at) || b.id - a.id;
}

function sessionEnd(s: Pick<Session, 'started_at' | 'duration_s'>): Millis {
  return Date.parse(s.started_at) + Math.round(s.duration_s * 1000);
}

/** ASCII letters without case; every other character as it is (what SQLite's lower() does). */
function foldAscii(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

function asEventPosition([timestamp, id]: Position): { id: number; fields: { timestamp: string | null } } {
  return { id, fields: { timestamp: timestamp as string | null } };
}

function asSessionPosition([startedAt, id]: Position): { id: number; started_at: string } {
  return { id, started_at: new Date(startedAt as number).toISOString() };
}

function add(k: KindStats, bytes: number): void {
  k.entries++;
  k.bytes += bytes;
}
