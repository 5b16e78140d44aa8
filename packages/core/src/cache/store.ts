/**
 * The cache store: what the relay keeps per unit. Implementations are plugins (store-sqlite,
 * store-memory); every one passes the shared contract suite in @sfm/test-kit.
 *
 * A unit is identified by its connection key AND the serial that answered there, so a different
 * unit answering at a known address never gets the other's data. All methods are synchronous:
 * both stores answer from the process (better-sqlite3, memory), which keeps hits cheap.
 * Every multi-row write is atomic: a reader sees all of it or none of it.
 */
import type { DeviceInfo, Event, GeoRangeName, MonitorStatus } from '../model.js';

export type CacheKind = 'device_info' | 'events' | 'waveform' | 'monitor_status';
export const CACHE_KINDS: readonly CacheKind[] = ['device_info', 'events', 'waveform', 'monitor_status'];

export interface UnitId {
  /** `tcp:<host>:<port>` or `serial:<path>:<baud>`. */
  connKey: string;
  serial: string;
}

export interface StoreCapabilities {
  /** Data survives a restart of the process. */
  persistent: boolean;
  /** The store evicts least-recently-used entries to stay under a byte budget. */
  evicts: boolean;
}

/** Milliseconds since the epoch when the data left the unit. */
export type FetchedAt = number;

export interface StoredInfo {
  info: DeviceInfo;
  fetchedAt: FetchedAt;
  /** sfm wrote config since: the next read must refetch. */
  dirty: boolean;
}

/** One cached event: the contract's Event plus what the relay needs to serve its waveform. */
export interface StoredEvent {
  event: Event;
  /** The key as a number (event.key in hex). */
  key: number;
  /** The geophone range when recorded (scales the waveform). */
  geoRange: GeoRangeName | null;
  fetchedAt: FetchedAt;
}

/** Where the unit's event list stood at the last complete sync (SUB 06). */
export interface EventSyncState {
  first: number;
  last: number;
  syncedAt: FetchedAt;
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
  fetchedAt: FetchedAt;
}

export interface KindStats {
  entries: number;
  bytes: number;
}

export interface Store {
  readonly kind: string;
  readonly capabilities: StoreCapabilities;

  /** The serial that last answered at an address (so hits need no device I/O). */
  lastSerialAt(connKey: string): string | undefined;
  rememberSerial(connKey: string, serial: string): void;

  getInfo(u: UnitId): StoredInfo | undefined;
  putInfo(u: UnitId, info: DeviceInfo, fetchedAt: FetchedAt): void;
  /** Marks cached info dirty; false when nothing was cached. */
  markInfoDirty(u: UnitId): boolean;

  getEventSync(u: UnitId): EventSyncState | undefined;
  /** Events in index order (index = position, from 0). */
  getEvents(u: UnitId): StoredEvent[];
  getEvent(u: UnitId, index: number): StoredEvent | undefined;
  /**
   * The cached events as one JSON array of contract Events, in index order, as UTF-8 bytes ready
   * to send (no parsing, no string conversion); undefined when none are cached.
   */
  getEventsJson(u: UnitId): Uint8Array | undefined;
  eventCount(u: UnitId): number;
  /**
   * Appends events after the cached ones (their `event.index` must continue the sequence) and,
   * when `sync` is given, records the storage range of a now complete sync — in one transaction.
   */
  appendEvents(u: UnitId, events: readonly StoredEvent[], sync?: EventSyncState): void;
  /**
   * Drops the unit's events, its sync state and — unless `keepWaveforms` — its waveforms (an
   * erase or a swapped unit drops all; a forced refresh keeps waveforms, which are served only
   * while their (key, timestamp) identity matches anyway).
   */
  dropEvents(u: UnitId, opts?: { keepWaveforms?: boolean }): { events: number; waveforms: number };

  /** A waveform, only while its (key, timestamp) identity matches. */
  getWaveform(u: UnitId, key: number, timestamp: string | null): StoredWaveform | undefined;
  putWaveform(u: UnitId, w: StoredWaveform): void;

  getStatus(u: UnitId): { status: MonitorStatus; fetchedAt: FetchedAt } | undefined;
  putStatus(u: UnitId, status: MonitorStatus, fetchedAt: FetchedAt): void;
  deleteStatus(u: UnitId): boolean;

  /** Clears every entry of every serial seen at the address; returns the counts per kind. */
  clearConnection(connKey: string): Record<CacheKind, number>;
  stats(): Record<CacheKind, KindStats>;
  close(): void;
}

/** The error a store raises for input it cannot keep (bad index sequence, closed store). */
export class StoreError extends Error {
  override name = 'StoreError';
}
