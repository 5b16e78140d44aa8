/**
 * The cache store: what the relay keeps. Implementations are plugins (store-sqlite, store-memory);
 * every one passes the shared contract suite in @sfm/test-kit.
 *
 * Data is kept per unit, by the serial the unit reports: one unit reached at two addresses (a
 * name and its IP) is one unit. Which serial answers at an address is the *identity* of that
 * address, confirmed at a time (the identity window of the truth rules).
 *
 * One data model, two views. Every event read from a unit is archived once, by (serial,
 * timestamp, key), and kept for good; a unit's *live list* (what it holds now, by index) is a view
 * of archived events. An erase, a refill or another unit at the address changes the live list and
 * never the archive. Waveforms are kept by (serial, key, timestamp): a cached waveform and an
 * archived one are the same row. The archive's reads and the fleet are `store.archive`.
 *
 * The data methods are asynchronous: a networked store cannot answer synchronously. Two things
 * stay synchronous because hits must not wait for them: `pollChanges()` (has another process
 * written since?) and the lease bookkeeping of `UnitLocks` lives in core. Every multi-row write is
 * atomic: a reader sees all of it or none of it.
 */
import { SfmError } from '../errors.js';
import type { AnalysisSummary, ArchivedEvent, ArchiveStats, DeviceInfo, Event, EventSource, GeoRangeName, MonitorStatus, ProjectText, RecordType, Session, Unit } from '../model.js';

/** A cached event whose event-time project text is still to be read. */
export interface PendingText {
  index: number;
  key: number;
  timestamp: string | null;
}

export type CacheKind = 'device_info' | 'events' | 'waveform' | 'monitor_status';
export const CACHE_KINDS: readonly CacheKind[] = ['device_info', 'events', 'waveform', 'monitor_status'];

export interface StoreCapabilities {
  /** Data survives a restart of the process. */
  persistent: boolean;
  /** The store evicts least-recently-used entries to stay under a byte budget. */
  evicts: boolean;
  /** Several processes can share it (their writes reach each other through the change feed). */
  shared: boolean;
}

/** Milliseconds since the epoch. */
export type Millis = number;

/** Which unit answers at an address, and when that was last confirmed against the unit. */
export interface Identity {
  serial: string;
  confirmedAt: Millis;
}

export interface StoredInfo {
  info: DeviceInfo;
  fetchedAt: Millis;
  /** sfm wrote config since: the next read must refetch. */
  dirty: boolean;
}

/** One event of a unit's live list: the contract's Event plus what the relay needs for its waveform. */
export interface StoredEvent {
  event: Event;
  /** The key as a number (event.key in hex). */
  key: number;
  /** The geophone range when recorded (scales the waveform). */
  geoRange: GeoRangeName | null;
  fetchedAt: Millis;
}

/**
 * Where the unit's live list stood at the probe that started the last sync, and when a probe
 * last confirmed it.
 */
export interface EventSyncState {
  /** SUB 06: the first key and the key the next event will get. */
  first: number;
  last: number;
  /** SUB 08: the unit's lifetime record counter (null when the unit gave none). */
  counter: number | null;
  /** The walk reached the end of that range (a cold single event stops after its index). */
  complete: boolean;
  /** The last successful probe that confirmed the list. */
  probedAt: Millis;
}

/** A waveform stored compactly: metadata, then each channel's samples in units (int16). */
export interface StoredWaveform {
  key: number;
  timestamp: string | null;
  index: number;
  sampleRate: number;
  pretriggerSamples: number;
  geoRange: GeoRangeName;
  channels: { Tran: Int16Array; Vert: Int16Array; Long: Int16Array; MicL: Int16Array };
  fetchedAt: Millis;
  /** The contract's Waveform JSON as served, so a read need not rebuild it from the samples. */
  document?: WaveformDocument;
}

/** A waveform's JSON document (the contract's Waveform) as served at `index`, gzip-compressed. */
export interface WaveformDocument {
  /** The event index it was built with (the document names it). */
  index: number;
  gzip: Uint8Array;
}

export interface StoredStatus {
  status: MonitorStatus;
  fetchedAt: Millis;
}

export interface KindStats {
  entries: number;
  bytes: number;
}

/** Another process changed these scopes (`unit:<serial>`, `addr:<connKey>`), or everything. */
export type ChangeListener = (scopes: readonly string[] | 'all') => void;

export function unitScope(serial: string): string {
  return `unit:${serial}`;
}
export function addressScope(connKey: string): string {
  return `addr:${connKey}`;
}

/** The holder of a lease, as other processes see it (for messages and the stale-lease rule). */
export interface LeaseHolder {
  owner: string;
  host: string;
  pid: number;
  expiresAt: Millis;
}

/**
 * Leases that hold across every process sharing the store (the hardware takes one session at a
 * time). core's UnitLocks layers in-process waiting on top; a store only arbitrates between
 * processes. A lease whose holder stopped renewing expires; a holder on this host whose process
 * is gone may be taken over at once.
 */
export interface LeaseStore {
  /**
   * Takes the lease when it is free, expired at `now`, ours, or held by `takeOverFrom` (a holder
   * core found dead); otherwise answers who holds it. Atomic across processes.
   */
  tryAcquire(key: string, holder: LeaseHolder, opts: { now: Millis; takeOverFrom?: string }): Promise<{ acquired: true } | { acquired: false; heldBy: LeaseHolder }>;
  /** Extends a lease we hold; false when it is no longer ours (it expired and was taken). */
  renew(key: string, owner: string, expiresAt: Millis): Promise<boolean>;
  release(key: string, owner: string): Promise<void>;
  /**
   * Whether someone failed to take the lease while `owner` held it (a tryAcquire that answered
   * `acquired: false`), so the holder can finish optional work early; false when not `owner`'s.
   */
  wanted(key: string, owner: string): Promise<boolean>;
}

/** GET /db/events: filters (all optional, combined with AND) and a page. */
export interface ArchiveEventQuery {
  serial?: string;
  /** Unit-local ISO times (YYYY-MM-DDTHH:MM:SS), inclusive; an event with no timestamp matches neither. */
  from?: string;
  to?: string;
  /** The unit's own peak vector sum at least this, in/s. */
  minPvsIps?: number;
  /** The event-time project name contains this (case-insensitive). */
  project?: string;
  recordType?: RecordType;
  falseTrigger?: boolean;
  /** Events per page (1 or more). */
  limit: number;
  /** A previous page's nextCursor: the page after it. A cursor this store did not make is a BadCursor. */
  cursor?: string;
}

/** A page, newest first; nextCursor is null on the last one. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** What retention may remove: events received before `receivedBefore`, waveforms beyond a byte budget (oldest first). */
export interface RetentionPolicy {
  receivedBefore?: Millis;
  waveformBytes?: number;
}

/**
 * The archive's reads, the operator's review, sessions and the fleet. Events reach the archive
 * through Store.appendEvents and waveforms through Store.putWaveform — every path in (call-up,
 * call-home, import) writes through those two.
 *
 * Rules: an archived event is never removed except by `retain`, and never while it is in a live
 * list; `events()` pages newest first by (timestamp, id) — no timestamp sorts oldest — and is
 * complete and free of duplicates under concurrent inserts (an event inserted during paging with
 * a position after the cursor is on a later page; none appears twice); a Unit exists for every
 * serial with an identity, info, status, event or session, and never without a serial.
 */
export interface Archive {
  /** Survives a restart (false for the memory store, which also evicts to keep its byte bound). */
  readonly persistent: boolean;
  events(q: ArchiveEventQuery): Promise<Page<ArchivedEvent>>;
  event(id: number): Promise<ArchivedEvent | undefined>;
  /** The archived event's waveform, when it was downloaded. */
  waveform(id: number): Promise<StoredWaveform | undefined>;
  /** The operator's review; undefined when no such event. */
  review(id: number, changes: { falseTrigger?: boolean; notes?: string | null }): Promise<ArchivedEvent | undefined>;
  /** Keeps (or clears) the event's analysis summary; false when no such event. */
  setAnalysis(id: number, summary: AnalysisSummary | null): Promise<boolean>;
  /** Every unit, newest activity (last_seen) first. */
  units(): Promise<Unit[]>;
  unit(serial: string): Promise<Unit | undefined>;
  /** Records a session (its serial's unit is seen then); answers it with its id. */
  recordSession(session: Omit<Session, 'id'>): Promise<Session>;
  /** Sessions newest first, optionally of one serial. */
  sessions(q: { serial?: string; limit: number; cursor?: string }): Promise<Page<Session>>;
  stats(): Promise<Omit<ArchiveStats, 'retention_removed'>>;
  /** Removes what the policy allows (never an event in a live list, nor its waveform); what it removed. */
  retain(policy: RetentionPolicy): Promise<{ events: number; waveforms: number; bytes: number }>;
  /** Resolves once everything committed so far survives a crash of the machine (before an erase). */
  durable(): Promise<void>;
}

export interface Store {
  readonly kind: string;
  readonly capabilities: StoreCapabilities;
  readonly leases: LeaseStore;
  readonly archive: Archive;

  /**
   * Synchronous and cheap (it runs before every hit): learns what other processes wrote since
   * the last call and tells the listeners. A store whose changes arrive by push does nothing here.
   */
  pollChanges(): void;
  onChange(listener: ChangeListener): void;

  getIdentity(connKey: string): Promise<Identity | undefined>;
  /** Records who answered at the address and when. */
  putIdentity(connKey: string, identity: Identity): Promise<void>;

  getInfo(serial: string): Promise<StoredInfo | undefined>;
  putInfo(serial: string, info: DeviceInfo, fetchedAt: Millis): Promise<void>;
  /** Marks cached info dirty; false when nothing was cached. */
  markInfoDirty(serial: string): Promise<boolean>;

  getEventSync(serial: string): Promise<EventSyncState | undefined>;
  /** Records a probe that confirmed the list (or a new sync state) without changing events. */
  putEventSync(serial: string, sync: EventSyncState): Promise<void>;
  /** The live list in index order (index = position, from 0). */
  getEvents(serial: string): Promise<StoredEvent[]>;
  getEvent(serial: string, index: number): Promise<StoredEvent | undefined>;
  /**
   * The live list as one JSON array of contract Events, in index order, as UTF-8 bytes ready to
   * send; undefined when none are cached.
   */
  getEventsJson(serial: string): Promise<Uint8Array | undefined>;
  eventCount(serial: string): Promise<number>;
  /**
   * Appends events after the cached ones (their `event.index` must continue the sequence) and,
   * when `sync` is given, records the sync state — in one transaction. Each event is archived:
   * one already archived with the same (timestamp, key) is refreshed in place (its fields, not its
   * id, received time, source or review). Answers how many were new to the archive.
   */
  appendEvents(serial: string, events: readonly StoredEvent[], sync?: EventSyncState, source?: EventSource): Promise<{ archivedNew: number }>;
  /** The cached events whose event-time project text is still to be read, in index order. */
  pendingTexts(serial: string): Promise<PendingText[]>;
  /**
   * Fills in the event-time project text of the cached event at `index` (project_pending becomes
   * false) while it still has `key`; false when it does not (the list changed meanwhile).
   */
  fillEventText(serial: string, index: number, key: number, text: ProjectText): Promise<boolean>;
  /** Drops the unit's live list and its sync state (the archive keeps the events); how many were live. */
  dropEvents(serial: string): Promise<{ events: number }>;

  /** The waveform of the event (serial, key, timestamp). */
  getWaveform(serial: string, key: number, timestamp: string | null): Promise<StoredWaveform | undefined>;
  /**
   * Keeps a waveform by its identity (replacing one of the same identity); true when it was new.
   * With `analysis`, the archived event of that identity (when there is one) gets it as its
   * analysis_summary in the same write, so an archived waveform is never without its summary.
   */
  putWaveform(serial: string, w: StoredWaveform, analysis?: AnalysisSummary): Promise<boolean>;
  /** The waveform's document alone (no samples decoded), only while (key, timestamp) match and it has one. */
  getWaveformDocument(serial: string, key: number, timestamp: string | null): Promise<(WaveformDocument & { fetchedAt: Millis }) | undefined>;

  getStatus(serial: string): Promise<StoredStatus | undefined>;
  putStatus(serial: string, status: MonitorStatus, fetchedAt: Millis): Promise<void>;
  deleteStatus(serial: string): Promise<boolean>;

  /**
   * Forgets the address's identity and the cache's view of the unit that answered there (its
   * info, status, live list and sync state; the archive and its waveforms stay); counts per kind.
   */
  clearConnection(connKey: string): Promise<Record<CacheKind, number>>;
  stats(): Promise<Record<CacheKind, KindStats>>;
  close(): Promise<void>;
}

/** The error a store raises for input its contract forbids (bad index sequence, closed store): a bug. */
export class StoreError extends SfmError {
  override name = 'StoreError';
  constructor(message: string, options?: ErrorOptions, code: 'INTERNAL' | 'STORE_UNAVAILABLE' | 'INVALID_REQUEST' = 'INTERNAL') {
    super(code, message, options);
  }
}

/** A page cursor the store did not make (a client's mistake, not a bug): 400 INVALID_REQUEST. */
export class BadCursor extends StoreError {
  override name = 'BadCursor';
  constructor(cursor: string) {
    super(`cursor: ${JSON.stringify(cursor.length > 40 ? `${cursor.slice(0, 40)}…` : cursor)} is not a cursor of this list (give the next_cursor of a previous page)`, undefined, 'INVALID_REQUEST');
  }
}

/**
 * The store cannot be read or written now (read-only, disk full, database down). The relay still
 * answers finished device work where it can; otherwise this is 503 STORE_UNAVAILABLE.
 */
export class StoreUnavailable extends StoreError {
  override name = 'StoreUnavailable';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options, 'STORE_UNAVAILABLE');
  }
}
