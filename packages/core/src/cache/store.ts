/**
 * The cache store: what the relay keeps. Implementations are plugins (store-sqlite, store-memory);
 * every one passes the shared contract suite in @sfm/test-kit.
 *
 * Data is kept per unit, by the serial the unit reports: one unit reached at two addresses (a
 * name and its IP) is one unit. Which serial answers at an address is the *identity* of that
 * address, confirmed at a time (the identity window of the truth rules).
 *
 * The data methods are asynchronous: a networked store cannot answer synchronously. Two things
 * stay synchronous because hits must not wait for them: `pollChanges()` (has another process
 * written since?) and the lease bookkeeping of `UnitLocks` lives in core. Every multi-row write is
 * atomic: a reader sees all of it or none of it.
 */
import { SfmError } from '../errors.js';
import type { DeviceInfo, Event, GeoRangeName, MonitorStatus, ProjectText } from '../model.js';

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

export interface Store {
  readonly kind: string;
  readonly capabilities: StoreCapabilities;
  readonly leases: LeaseStore;

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
   * when `sync` is given, records the sync state — in one transaction.
   */
  appendEvents(serial: string, events: readonly StoredEvent[], sync?: EventSyncState): Promise<void>;
  /** The cached events whose event-time project text is still to be read, in index order. */
  pendingTexts(serial: string): Promise<PendingText[]>;
  /**
   * Fills in the event-time project text of the cached event at `index` (project_pending becomes
   * false) while it still has `key`; false when it does not (the list changed meanwhile).
   */
  fillEventText(serial: string, index: number, key: number, text: ProjectText): Promise<boolean>;
  /**
   * Drops the unit's live list, its sync state and — unless `keepWaveforms` — its waveforms.
   */
  dropEvents(serial: string, opts?: { keepWaveforms?: boolean }): Promise<{ events: number; waveforms: number }>;

  /** A waveform, only while its (key, timestamp) identity matches. */
  getWaveform(serial: string, key: number, timestamp: string | null): Promise<StoredWaveform | undefined>;
  putWaveform(serial: string, w: StoredWaveform): Promise<void>;
  /** The waveform's document alone (no samples decoded), only while (key, timestamp) match and it has one. */
  getWaveformDocument(serial: string, key: number, timestamp: string | null): Promise<(WaveformDocument & { fetchedAt: Millis }) | undefined>;

  getStatus(serial: string): Promise<StoredStatus | undefined>;
  putStatus(serial: string, status: MonitorStatus, fetchedAt: Millis): Promise<void>;
  deleteStatus(serial: string): Promise<boolean>;

  /** Forgets the address's identity and every entry of the unit that answered there; counts per kind. */
  clearConnection(connKey: string): Promise<Record<CacheKind, number>>;
  stats(): Promise<Record<CacheKind, KindStats>>;
  close(): Promise<void>;
}

/** The error a store raises for input its contract forbids (bad index sequence, closed store): a bug. */
export class StoreError extends SfmError {
  override name = 'StoreError';
  constructor(message: string, options?: ErrorOptions, code: 'INTERNAL' | 'STORE_UNAVAILABLE' = 'INTERNAL') {
    super(code, message, options);
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
