/**
 * MemoryStore: the in-process store on lru-cache, bounded by bytes (`--store memory`).
 *
 * One LRU holds every kind of every unit (by serial) under one byte budget (`maxSize` +
 * `sizeCalculation`), so a burst of waveforms pushes out what was used least, whatever its kind —
 * the archive included: this store keeps what fits, not everything (`archive.persistent` is
 * false). Eviction only ever removes a whole thing, so what remains is always consistent:
 * - a unit's device info, monitor status, each waveform, each archived event and each session
 *   are one entry each;
 * - a unit's live list is ONE entry together with its sync state: evicting it forgets both, so
 *   a list never has a hole and a sync state never describes events that are gone.
 * A live list keeps its own copy of its events' text (so it can be served as one array), which
 * every write of an event — append, refresh, fill — keeps equal to the archived event's.
 *
 * Beside the LRU, in plain structures: identities (address → serial) and the fleet's record of
 * each unit (when and where it was seen, its newest info and status) — tiny, one per address or
 * unit, and evicting them would break the rule that every unit seen is listed; the indexes of
 * the archived events and sessions (sorted arrays, oldest first, so a new event is appended),
 * kept in step with the LRU by its dispose hook; and leases (core's ProcessLeases). Nothing
 * outside this process shares the store, so the change feed never has anything to say.
 *
 * Values go in as copies and come out as copies: JSON text for the JSON-shaped kinds (parsed on
 * every read), sliced Int16Arrays for samples. Sizes are charged honestly: JSON text length (and
 * the live list's joined array text, which is kept for getEventsJson), samples' byteLength, plus
 * a fixed per-entry overhead for the wrapper objects and index slots.
 *
 * Every method is `async` and does its work without awaiting, so each call is atomic and a
 * failure reaches the caller as a rejection.
 */
import { LRUCache } from 'lru-cache';
import { ProcessLeases, StoreError, checkLimit, checkRetention, checkReview, checkSession, decodeCursor, encodeCursor, refreshedEvent, type Position } from '@sfm/core/cache';
import type { AnalysisSummary, ArchivedEvent, ArchiveStats, DeviceInfo, Event, EventSource, GeoRangeName, MonitorStatus, ProjectText, RecordType, Session, Unit } from '@sfm/core';
import type {
  Archive, ArchiveEventQuery, CacheKind, ChangeListener, EventSyncState, Identity, KindStats, Millis, Page, PendingText, RetentionPolicy, Store, StoreCapabilities, StoredEvent, StoredInfo,
  StoredStatus, StoredWaveform, WaveformDocument,
} from '@sfm/core/cache';
import { EVENT_SOURCES } from '@sfm/core/schema';

export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

export interface MemoryStoreOptions {
  /** The byte budget over every kind (default 256 MiB). */
  maxBytes?: number;
}

/** Bytes charged for an entry's wrapper object and key, and for each event's row object. */
const ENTRY_OVERHEAD = 96;
const EVENT_ROW_OVERHEAD = 48;
/** An archived event's or a session's slots in the indexes (two sorted arrays, a map). */
const INDEX_OVERHEAD = 64;
/** A sync state: five fields in an object. */
const SYNC_BYTES = 40;
/** A session's started_at: UTC ISO 8601 as Date#toISOString writes it (milliseconds optional). */

type EntryKind = CacheKind | 'archived_event' | 'session';
type EventFields = Omit<Event, 'index'>;

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
  /** The contract Event, index included. */
  readonly json: string;
  readonly key: number;
  readonly timestamp: string | null;
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
  /** The contract's waveform bytes: samples and document. */
  readonly payload: number;
}

interface StatusEntry extends EntryBase {
  readonly kind: 'monitor_status';
  readonly json: string;
  readonly fetchedAt: Millis;
}

/** Where an archived event sorts, and what it is: the same object in every index. */
interface EventPosition {
  readonly id: number;
  readonly serial: string;
  readonly key: number;
  readonly timestamp: string | null;
}

interface ArchivedEntry extends EntryBase {
  readonly kind: 'archived_event';
  readonly pos: EventPosition;
  /** The Event fields but index. */
  readonly fieldsJson: string;
  readonly receivedAt: Millis;
  readonly source: EventSource;
  readonly falseTrigger: boolean;
  readonly notes: string | null;
  readonly analysisJson: string | null;
  // What the filters read, taken from the fields once.
  readonly pvs: number | null;
  readonly projectFolded: string | null;
  readonly recordType: RecordType;
}

interface SessionPosition {
  readonly id: number;
  readonly serial: string;
  readonly startedAt: Millis;
}

interface SessionEntry extends EntryBase {
  readonly kind: 'session';
  readonly pos: SessionPosition;
  readonly json: string;
}

type Entry = InfoEntry | EventsEntry | WaveformEntry | StatusEntry | ArchivedEntry | SessionEntry;

const KIND_TAG: Record<EntryKind, string> = { device_info: 'i', events: 'e', waveform: 'w', monitor_status: 's', archived_event: 'a', session: 'c' };

/** What the fleet knows of a unit beyond its archive. Each `at` is the time the value was true. */
interface FleetRecord {
  firstSeen: Millis;
  lastSeen: Millis;
  address?: { connKey: string; at: Millis };
  info?: { json: string; at: Millis };
  status?: { json: string; at: Millis };
}

export class MemoryStore implements Store {
  readonly kind = 'memory';
  readonly capabilities: StoreCapabilities = { persistent: false, evicts: true, shared: false };
  readonly maxBytes: number;
  readonly leases: ProcessLeases = new ProcessLeases(() => this.live());
  readonly archive: Archive;

  private readonly lru: LRUCache<string, Entry>;
  private readonly identities = new Map<string, Identity>();
  private readonly fleet = new Map<string, FleetRecord>();
  /** Archived events by identity (`identityKey`), and in order, all and per unit. */
  private readonly archivedByIdentity = new Map<string, EventPosition>();
  private readonly eventOrder = new SortedList<EventPosition>(olderEventFirst);
  private readonly eventOrderOf = new Map<string, SortedList<EventPosition>>();
  private readonly sessionOrder = new SortedList<SessionPosition>(olderSessionFirst);
  private readonly sessionOrderOf = new Map<string, SortedList<SessionPosition>>();
  private lastEventId = 0;
  private lastSessionId = 0;
  private readonly totals: Record<EntryKind, KindStats> = {
    device_info: { entries: 0, bytes: 0 },
    events: { entries: 0, bytes: 0 },
    waveform: { entries: 0, bytes: 0 },
    monitor_status: { entries: 0, bytes: 0 },
    archived_event: { entries: 0, bytes: 0 },
    session: { entries: 0, bytes: 0 },
  };
  private waveformPayload = 0;
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
      dispose: (e, _key, reason) => {
        const t = this.totals[e.kind];
        t.entries -= e.items;
        t.bytes -= e.size;
        if (e.kind === 'waveform') this.waveformPayload -= e.payload;
        // A replacement keeps its place in the indexes (its position is the same object).
        if (reason === 'set') return;
        if (e.kind === 'archived_event') this.unindexEvent(e.pos);
        else if (e.kind === 'session') this.unindexSession(e.pos);
      },
    });
    this.archive = {
      persistent: false,
      events: async (q) => this.archivedEvents(q),
      event: async (id) => {
        this.live();
        const e = this.lru.get(archiveKey(id)) as ArchivedEntry | undefined;
        return e && this.view(e);
      },
      waveform: async (id) => {
        this.live();
        const e = this.lru.peek(archiveKey(id)) as ArchivedEntry | undefined;
        const w = e && (this.lru.get(waveformKey(e.pos.serial, e.pos.key, e.pos.timestamp)) as WaveformEntry | undefined);
        return w && copyWaveform(w.w);
      },
      review: async (id, changes) => this.review(id, changes),
      setAnalysis: async (id, summary) => this.setAnalysis(id, summary),
      units: async () => {
        this.live();
        return [...this.fleet.keys()].map((serial) => this.unitView(serial)).sort((a, b) => (a.last_seen !== b.last_seen ? (a.last_seen > b.last_seen ? -1 : 1) : a.serial < b.serial ? -1 : 1));
      },
      unit: async (serial) => {
        this.live();
        return this.fleet.has(serial) ? this.unitView(serial) : undefined;
      },
      recordSession: async (s) => this.recordSession(s),
      sessions: async (q) => this.sessions(q),
      stats: async () => this.archiveStats(),
      retain: async (policy) => this.retain(policy),
      // Nothing here outlives the process: there is nothing to wait for.
      durable: async () => this.live(),
    };
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
    this.seen(identity.serial, identity.confirmedAt, connKey);
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
    const f = this.seen(serial, fetchedAt);
    if (f && (!f.info || fetchedAt >= f.info.at)) f.info = { json, at: fetchedAt };
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

  async appendEvents(serial: string, events: readonly StoredEvent[], sync?: EventSyncState, source: EventSource = 'call-up'): Promise<{ archivedNew: number }> {
    this.live();
    if (!EVENT_SOURCES.includes(source)) throw new StoreError(`appendEvents: source must be one of ${EVENT_SOURCES.join(', ')}, got ${JSON.stringify(source)}`);
    const have = (this.lru.peek(lruKey('events', serial)) as EventsEntry | undefined)?.rows.length ?? 0;
    events.forEach((e, i) => {
      if (e.event.index !== have + i) {
        throw new StoreError(`appendEvents: event ${i} of the batch has index ${e.event.index}, expected ${have + i} (the unit has ${have} cached)`);
      }
    });
    if (events.length === 0 && !sync) return { archivedNew: 0 };

    // What each event becomes, worked out (and serialised, which can throw) before anything is
    // written: by identity, the archived event it refreshes (if any) and its fields after the batch.
    interface Planned {
      readonly key: number;
      readonly pos: EventPosition | undefined;
      readonly prior: ArchivedEntry | undefined;
      readonly receivedAt: Millis;
      fields: EventFields;
    }
    const batch = new Map<string, Planned>();
    const merged = events.map((e) => {
      const identity = identityKey(serial, e.key, e.event.timestamp);
      let plan = batch.get(identity);
      if (!plan) {
        const pos = this.archivedByIdentity.get(identity);
        const prior = pos && (this.lru.peek(archiveKey(pos.id)) as ArchivedEntry | undefined);
        plan = { key: e.key, pos, prior, receivedAt: e.fetchedAt, fields: prior ? (JSON.parse(prior.fieldsJson) as EventFields) : withoutIndex(e.event) };
        batch.set(identity, plan);
      }
      const event = refreshedEvent(plan.fields, e.event);
      plan.fields = withoutIndex(event);
      return { identity, event };
    });
    // Each row shows its event's fields after the whole batch (the same event twice shows the last read).
    const added: EventRow[] = merged.map(({ identity, event }, i) => {
      const e = events[i]!;
      return { json: JSON.stringify({ ...event, ...batch.get(identity)!.fields }), key: e.key, timestamp: event.timestamp, geoRange: e.geoRange, fetchedAt: e.fetchedAt };
    });
    const archivedFields = [...batch.values()].map((plan) => JSON.stringify(plan.fields));

    // The live list first: an archive entry written after it may push it out, but only whole.
    // Rows already listed show a refreshed event's new fields too (the list is a view of the archive).
    const refreshes = [...batch.values()].some((plan) => plan.pos);
    this.writeList(serial, added, sync && { ...sync }, refreshes ? (row) => batch.get(identityKey(serial, row.key, row.timestamp))?.fields : undefined);
    let archivedNew = 0;
    [...batch.entries()].forEach(([identity, { key, pos, prior, receivedAt, fields }], i) => {
      const fieldsJson = archivedFields[i]!;
      if (pos) {
        this.putArchived(pos, prior ? { ...prior, fieldsJson } : { fieldsJson, receivedAt, source }, identity);
      } else {
        archivedNew++;
        this.putArchived({ id: ++this.lastEventId, serial, key, timestamp: fields.timestamp }, { fieldsJson, receivedAt, source }, identity);
      }
    });
    for (const e of events) this.seen(serial, e.fetchedAt);
    return { archivedNew };
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
    const e = this.lru.peek(lruKey('events', serial)) as EventsEntry | undefined;
    const row = e?.rows[index];
    if (!e || !row || row.key !== key) return false;
    const { index: _index, ...fields } = { ...(JSON.parse(row.json) as Event), project: { ...text }, project_pending: false };
    const identity = identityKey(serial, row.key, row.timestamp);
    this.writeList(serial, [], undefined, (r) => (identityKey(serial, r.key, r.timestamp) === identity ? fields : undefined));
    const pos = this.archivedByIdentity.get(identity);
    const archived = pos && (this.lru.peek(archiveKey(pos.id)) as ArchivedEntry | undefined);
    if (pos && archived) this.putArchived(pos, { ...archived, fieldsJson: JSON.stringify(fields) }, identity);
    return true;
  }

  async dropEvents(serial: string): Promise<{ events: number }> {
    this.live();
    const key = lruKey('events', serial);
    const events = (this.lru.peek(key) as EventsEntry | undefined)?.rows.length ?? 0;
    this.lru.delete(key);
    return { events };
  }

  async getWaveform(serial: string, key: number, timestamp: string | null): Promise<StoredWaveform | undefined> {
    this.live();
    const e = this.lru.get(waveformKey(serial, key, timestamp)) as WaveformEntry | undefined;
    return e && copyWaveform(e.w);
  }

  async getWaveformDocument(serial: string, key: number, timestamp: string | null): Promise<(WaveformDocument & { fetchedAt: Millis }) | undefined> {
    this.live();
    const e = this.lru.get(waveformKey(serial, key, timestamp)) as WaveformEntry | undefined;
    const d = e?.w.document;
    return d && { index: d.index, gzip: d.gzip.slice(), fetchedAt: e.w.fetchedAt };
  }

  async putWaveform(serial: string, w: StoredWaveform, analysis?: AnalysisSummary): Promise<boolean> {
    this.live();
    const archived = analysis && this.archivedByIdentity.get(identityKey(serial, w.key, w.timestamp));
    if (archived) this.setAnalysis(archived.id, analysis);
    const copy = copyWaveform(w);
    const c = copy.channels;
    const payload = c.Tran.byteLength + c.Vert.byteLength + c.Long.byteLength + c.MicL.byteLength + (copy.document?.gzip.byteLength ?? 0);
    const key = waveformKey(serial, w.key, w.timestamp);
    const isNew = !this.lru.has(key);
    this.put(key, { kind: 'waveform', serial, size: payload + (copy.timestamp?.length ?? 0) + ENTRY_OVERHEAD, items: 1, w: copy, payload });
    return isNew;
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
    const f = this.seen(serial, fetchedAt);
    if (f && (!f.status || fetchedAt >= f.status.at)) f.status = { json, at: fetchedAt };
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
    // The cache's view of the unit; its waveforms are the archive's.
    for (const kind of ['device_info', 'events', 'monitor_status'] as const) {
      const key = lruKey(kind, id.serial);
      const e = this.lru.peek(key);
      if (!e) continue;
      counts[kind] = e.items;
      this.lru.delete(key);
    }
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
    this.fleet.clear();
    this.leases.clear();
  }

  // --- the archive ------------------------------------------------------------------------------

  private archivedEvents(q: ArchiveEventQuery): Page<ArchivedEvent> {
    this.live();
    checkLimit(q.limit);
    const order = q.serial === undefined ? this.eventOrder : this.eventOrderOf.get(q.serial);
    const after = q.cursor === undefined ? undefined : decodeCursor('events', q.cursor);
    if (!order) return { items: [], nextCursor: null };
    const project = q.project === undefined ? undefined : foldAscii(q.project);
    const matches = (e: ArchivedEntry): boolean => {
      const ts = e.pos.timestamp;
      if (q.from !== undefined && (ts === null || ts < q.from)) return false;
      if (q.to !== undefined && (ts === null || ts > q.to)) return false;
      if (q.minPvsIps !== undefined && (e.pvs === null || e.pvs < q.minPvsIps)) return false;
      if (project !== undefined && (e.projectFolded === null || !e.projectFolded.includes(project))) return false;
      if (q.recordType !== undefined && e.recordType !== q.recordType) return false;
      if (q.falseTrigger !== undefined && e.falseTrigger !== q.falseTrigger) return false;
      return true;
    };
    const page: ArchivedEntry[] = [];
    let more = false;
    // Newest first: from the end of the ascending order, or from just before the cursor's position.
    const start = after === undefined ? order.items.length - 1 : order.lowerBound({ id: after[1], timestamp: after[0] as string | null } as EventPosition) - 1;
    for (let i = start; i >= 0; i--) {
      const e = this.lru.peek(archiveKey(order.items[i]!.id)) as ArchivedEntry;
      if (!matches(e)) continue;
      if (page.length === q.limit) {
        more = true;
        break;
      }
      page.push(e);
    }
    const last = page.at(-1);
    return { items: page.map((e) => this.view(e)), nextCursor: more && last ? encodeCursor('events', [last.pos.timestamp, last.pos.id]) : null };
  }

  private review(id: number, changes: { falseTrigger?: boolean; notes?: string | null }): ArchivedEvent | undefined {
    this.live();
    checkReview(changes);
    if (changes.notes !== undefined && changes.notes !== null && typeof changes.notes !== 'string') throw new StoreError('review: notes must be text or null');
    const e = this.lru.peek(archiveKey(id)) as ArchivedEntry | undefined;
    if (!e) return undefined;
    const next = this.putArchived(e.pos, { ...e, falseTrigger: changes.falseTrigger ?? e.falseTrigger, notes: changes.notes === undefined ? e.notes : changes.notes });
    return this.view(next);
  }

  private setAnalysis(id: number, summary: AnalysisSummary | null): boolean {
    this.live();
    const e = this.lru.peek(archiveKey(id)) as ArchivedEntry | undefined;
    if (!e) return false;
    this.putArchived(e.pos, { ...e, analysisJson: summary === null ? null : JSON.stringify(summary) });
    return true;
  }

  /**
   * Writes an archived event's entry (refiltered and resized from its fields) and, when it is new
   * to the LRU, puts it in the indexes. Answers the entry.
   */
  private putArchived(
    pos: EventPosition,
    e: Pick<ArchivedEntry, 'fieldsJson' | 'receivedAt' | 'source'> & Partial<Pick<ArchivedEntry, 'falseTrigger' | 'notes' | 'analysisJson'>>,
    identity = identityKey(pos.serial, pos.key, pos.timestamp),
  ): ArchivedEntry {
    const fields = JSON.parse(e.fieldsJson) as EventFields;
    const notes = e.notes ?? null;
    const analysisJson = e.analysisJson ?? null;
    const entry: ArchivedEntry = {
      kind: 'archived_event',
      serial: pos.serial,
      items: 1,
      size: e.fieldsJson.length + (notes?.length ?? 0) + (analysisJson?.length ?? 0) + ENTRY_OVERHEAD + INDEX_OVERHEAD,
      pos,
      fieldsJson: e.fieldsJson,
      receivedAt: e.receivedAt,
      source: e.source,
      falseTrigger: e.falseTrigger ?? false,
      notes,
      analysisJson,
      pvs: fields.peaks.pvs_ips,
      projectFolded: fields.project.project === null ? null : foldAscii(fields.project.project),
      recordType: fields.record_type,
    };
    const key = archiveKey(pos.id);
    const indexed = this.lru.has(key);
    if (this.put(key, entry) && !indexed) {
      this.archivedByIdentity.set(identity, pos);
      this.eventOrder.insert(pos);
      orderOf(this.eventOrderOf, pos.serial, olderEventFirst).insert(pos);
    }
    return entry;
  }

  private unindexEvent(pos: EventPosition): void {
    const identity = identityKey(pos.serial, pos.key, pos.timestamp);
    if (this.archivedByIdentity.get(identity) === pos) this.archivedByIdentity.delete(identity);
    this.eventOrder.remove(pos);
    const mine = this.eventOrderOf.get(pos.serial);
    mine?.remove(pos);
    if (mine?.items.length === 0) this.eventOrderOf.delete(pos.serial);
  }

  private view(e: ArchivedEntry): ArchivedEvent {
    const { serial, key, timestamp, id } = e.pos;
    return {
      id,
      serial,
      ...(JSON.parse(e.fieldsJson) as EventFields),
      received_at: new Date(e.receivedAt).toISOString(),
      source: e.source,
      has_waveform: this.lru.has(waveformKey(serial, key, timestamp)),
      false_trigger: e.falseTrigger,
      notes: e.notes,
      analysis_summary: e.analysisJson === null ? null : (JSON.parse(e.analysisJson) as AnalysisSummary),
    };
  }

  private recordSession(s: Omit<Session, 'id'>): Session {
    this.live();
    checkSession(s);
    const session: Session = { id: ++this.lastSessionId, ...s };
    const json = JSON.stringify(session);
    const pos: SessionPosition = { id: session.id, serial: s.serial, startedAt: Date.parse(s.started_at) };
    if (this.put(sessionKey(pos.id), { kind: 'session', serial: s.serial, size: json.length + ENTRY_OVERHEAD + INDEX_OVERHEAD, items: 1, pos, json })) {
      this.sessionOrder.insert(pos);
      orderOf(this.sessionOrderOf, pos.serial, olderSessionFirst).insert(pos);
    }
    this.seen(s.serial, pos.startedAt);
    this.seen(s.serial, pos.startedAt + Math.round(s.duration_s * 1000), s.peer);
    return JSON.parse(json) as Session;
  }

  private unindexSession(pos: SessionPosition): void {
    this.sessionOrder.remove(pos);
    const mine = this.sessionOrderOf.get(pos.serial);
    mine?.remove(pos);
    if (mine?.items.length === 0) this.sessionOrderOf.delete(pos.serial);
  }

  private sessions(q: { serial?: string; limit: number; cursor?: string }): Page<Session> {
    this.live();
    checkLimit(q.limit);
    const after = q.cursor === undefined ? undefined : decodeCursor('sessions', q.cursor);
    const order = q.serial === undefined ? this.sessionOrder : this.sessionOrderOf.get(q.serial);
    if (!order) return { items: [], nextCursor: null };
    const start = after === undefined ? order.items.length - 1 : order.lowerBound({ id: after[1], startedAt: after[0] as number } as SessionPosition) - 1;
    const page = order.items.slice(Math.max(0, start - q.limit + 1), start + 1).reverse();
    const last = page.at(-1);
    return {
      items: page.map((pos) => JSON.parse((this.lru.peek(sessionKey(pos.id)) as SessionEntry).json) as Session),
      nextCursor: last && start - q.limit >= 0 ? encodeCursor('sessions', [last.startedAt, last.id]) : null,
    };
  }

  /**
   * The unit was heard from at `at` (and at `connKey`, when given): its fleet record, created on
   * first sight. The empty serial is no serial: it has no record.
   */
  private seen(serial: string, at: Millis, connKey?: string): FleetRecord | undefined {
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
    const events = this.eventOrderOf.get(serial)?.items ?? [];
    const newestEvent = events.at(-1);
    const newestSession = this.sessionOrderOf.get(serial)?.items.at(-1);
    return {
      serial,
      first_seen: new Date(f.firstSeen).toISOString(),
      last_seen: new Date(f.lastSeen).toISOString(),
      last_address: f.address?.connKey ?? null,
      last_session: newestSession ? (JSON.parse((this.lru.peek(sessionKey(newestSession.id)) as SessionEntry).json) as Session) : null,
      event_count: events.length,
      last_event: newestEvent ? this.view(this.lru.peek(archiveKey(newestEvent.id)) as ArchivedEntry) : null,
      last_status: f.status ? (JSON.parse(f.status.json) as MonitorStatus) : null,
      info: f.info ? (JSON.parse(f.info.json) as DeviceInfo) : null,
    };
  }

  private archiveStats(): Omit<ArchiveStats, 'retention_removed'> {
    this.live();
    return {
      persistent: false,
      units: this.fleet.size,
      events: this.totals.archived_event.entries,
      waveforms: this.totals.waveform.entries,
      event_bytes: this.totals.archived_event.bytes,
      waveform_bytes: this.waveformPayload,
      sessions: this.totals.session.entries,
    };
  }

  private retain(policy: RetentionPolicy): { events: number; waveforms: number; bytes: number } {
    this.live();
    const { receivedBefore, waveformBytes: budget } = policy;
    checkRetention(policy);
    // What a live list holds is protected: its events and their waveforms.
    const live = new Set<string>();
    for (const e of this.lru.values()) if (e.kind === 'events') for (const r of e.rows) live.add(identityKey(e.serial, r.key, r.timestamp));
    const removed = { events: 0, waveforms: 0, bytes: 0 };
    const dropWaveform = (key: string): void => {
      const w = this.lru.peek(key) as WaveformEntry | undefined;
      if (!w) return;
      removed.waveforms++;
      removed.bytes += w.payload;
      this.lru.delete(key);
    };
    if (receivedBefore !== undefined) {
      const doomed = this.eventOrder.items.filter((pos) => !live.has(identityKey(pos.serial, pos.key, pos.timestamp)) && (this.lru.peek(archiveKey(pos.id)) as ArchivedEntry).receivedAt < receivedBefore);
      for (const pos of doomed) {
        removed.events++;
        removed.bytes += (this.lru.peek(archiveKey(pos.id)) as ArchivedEntry).size;
        this.lru.delete(archiveKey(pos.id));
        dropWaveform(waveformKey(pos.serial, pos.key, pos.timestamp));
      }
    }
    if (budget !== undefined && this.waveformPayload > budget) {
      const candidates: [string, WaveformEntry][] = [];
      for (const [key, e] of this.lru.entries()) if (e.kind === 'waveform' && !live.has(identityKey(e.serial, e.w.key, e.w.timestamp))) candidates.push([key, e]);
      candidates.sort(([, p], [, q]) => p.w.fetchedAt - q.w.fetchedAt);
      for (const [key] of candidates) {
        if (this.waveformPayload <= budget) break;
        dropWaveform(key);
      }
    }
    return removed;
  }

  // --- the cache's entries -----------------------------------------------------------------------

  /**
   * Replaces the unit's list entry by one with `added` appended and, when given, `sync` as its sync
   * state; every row for which `rewrite` gives fields shows those (with its own index). The rows
   * array is reused when no row is rewritten: rows never change, and the old entry leaves the LRU
   * here, so nobody else sees the longer array.
   */
  private writeList(serial: string, added: readonly EventRow[], sync: EventSyncState | undefined, rewrite?: (row: EventRow) => EventFields | undefined): void {
    const key = lruKey('events', serial);
    const prev = this.lru.peek(key) as EventsEntry | undefined;
    let rows = prev ? prev.rows : [];
    let prevRowBytes = prev ? prev.size - ENTRY_OVERHEAD - (prev.sync ? SYNC_BYTES : 0) : 0;
    let rewritten = false;
    if (rewrite) {
      rows = rows.map((r, index) => {
        const fields = rewrite(r);
        if (!fields) return r;
        const json = JSON.stringify({ index, ...fields });
        if (json === r.json) return r;
        rewritten = true;
        prevRowBytes += 2 * (json.length - r.json.length);
        return { ...r, json };
      });
      if (!rewritten) rows = prev ? prev.rows : rows;
    }
    let addedBytes = 0;
    // Each row's text twice: its own JSON and its share of the joined array text (plus a comma).
    for (const r of added) addedBytes += 2 * r.json.length + 1 + EVENT_ROW_OVERHEAD;
    rows.push(...added);
    const nextSync = sync ?? prev?.sync;
    const size = ENTRY_OVERHEAD + prevRowBytes + addedBytes + (nextSync ? SYNC_BYTES : 0);
    // Only changed rows change the array text; a new sync state alone keeps it.
    const joined = added.length === 0 && !rewritten ? prev?.joined : undefined;
    if (!prev && rows.length === 0 && !nextSync) return;
    this.put(key, { kind: 'events', serial, size, items: rows.length, rows, sync: nextSync, joined });
  }

  /** Stores an entry, or — when it alone exceeds the budget — drops what the key held; whether it was stored. */
  private put(key: string, e: Entry): boolean {
    if (e.size > this.maxBytes) {
      this.lru.delete(key);
      return false;
    }
    this.lru.set(key, e);
    const t = this.totals[e.kind];
    t.entries += e.items;
    t.bytes += e.size;
    if (e.kind === 'waveform') this.waveformPayload += e.payload;
    return true;
  }

  private events(serial: string): EventsEntry | undefined {
    return this.lru.get(lruKey('events', serial)) as EventsEntry | undefined;
  }

  private live(): void {
    if (this.closed) throw new StoreError('the memory store is closed');
  }
}

/** Items kept in ascending order (an array, binary search): appending the newest costs nothing. */
class SortedList<T> {
  readonly items: T[] = [];
  constructor(private readonly compare: (a: T, b: T) => number) {}

  /** The first index whose item does not sort before `probe`. */
  lowerBound(probe: T): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(this.items[mid]!, probe) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(item: T): void {
    this.items.splice(this.lowerBound(item), 0, item);
  }

  remove(item: T): void {
    const i = this.lowerBound(item);
    if (this.items[i] === item) this.items.splice(i, 1);
  }
}

function orderOf<T>(lists: Map<string, SortedList<T>>, serial: string, compare: (a: T, b: T) => number): SortedList<T> {
  let list = lists.get(serial);
  if (!list) lists.set(serial, (list = new SortedList(compare)));
  return list;
}

/** Oldest first: no timestamp, then timestamps as text, then id. */
function olderEventFirst(a: Pick<EventPosition, 'id' | 'timestamp'>, b: Pick<EventPosition, 'id' | 'timestamp'>): number {
  if (a.timestamp !== b.timestamp) {
    if (a.timestamp === null) return -1;
    if (b.timestamp === null) return 1;
    return a.timestamp < b.timestamp ? -1 : 1;
  }
  return a.id - b.id;
}

function olderSessionFirst(a: Pick<SessionPosition, 'id' | 'startedAt'>, b: Pick<SessionPosition, 'id' | 'startedAt'>): number {
  return a.startedAt - b.startedAt || a.id - b.id;
}

function withoutIndex(event: Event): EventFields {
  const { index: _index, ...fields } = event;
  return fields;
}

/** ASCII letters without case; every other character as it is. */
function foldAscii(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** The serial part of a key: length-prefixed, so no serial is a prefix of another's keys. */
function serialPart(serial: string): string {
  return `${serial.length}:${serial}`;
}

function lruKey(kind: CacheKind, serial: string): string {
  return KIND_TAG[kind] + serialPart(serial);
}

/** An event's identity (serial, key, timestamp) as text; a null timestamp is not any string's. */
function identityKey(serial: string, key: number, timestamp: string | null): string {
  return `${serialPart(serial)}#${key}#${timestamp === null ? '-' : `+${timestamp}`}`;
}

function waveformKey(serial: string, key: number, timestamp: string | null): string {
  return KIND_TAG.waveform + identityKey(serial, key, timestamp);
}

function archiveKey(id: number): string {
  return `${KIND_TAG.archived_event}${id}`;
}

function sessionKey(id: number): string {
  return `${KIND_TAG.session}${id}`;
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
