/**
 * What front ends ask of a unit. The HTTP and CLI adapters depend only on this interface; the
 * caching relay implements it, and so does DirectDeviceAccess (every call goes to the unit).
 */
import { NotFound } from '../errors.js';
import type { ComplianceChanges } from '../protocol/compliance-config.js';
import type { Analysis, CallHomeChanges, CallHomeConfig, ComplianceConfig, DeviceInfo, Event, EventIndexView, EventList, MonitorStatus, StorageRange, Waveform } from '../model.js';
import type { AnalysisOptions } from '../analysis/analyse.js';
import type { DeviceTarget } from '../transport/transport.js';
import type { DownloadProgress } from '../client/minimate-client.js';
import { Body, type ContentEncoding } from './body.js';

/**
 * Where a served value came from: the cache without a fetch (`hit`), the unit because nothing was
 * cached (`miss`) or to replace what was (`refresh`), the cache because the unit could not be
 * reached (`stale`), or the unit with the store failing to keep it (`uncached`).
 */
export type CacheOutcome = 'hit' | 'miss' | 'refresh' | 'stale' | 'uncached';

/** A value and where it came from. */
export interface Served<T> {
  readonly value: T;
  readonly cache: CacheOutcome;
  /** Seconds since the data was last confirmed against the unit. */
  readonly ageS: number;
  /** Why the value may not be what the unit holds now (stale: the unit could not be reached). */
  readonly warning?: string;
  /** The value as JSON text. */
  json(): string;
  /** The value as UTF-8 JSON bytes, ready to send; a hot-tier hit has them already. */
  bytes(): Uint8Array;
  /** Those bytes compressed; a hot-tier hit keeps each form it made for the next one. */
  encoded(encoding: ContentEncoding): Uint8Array;
}

const utf8 = new TextDecoder();

/** Holds whichever form it was made from and derives the others only when asked. */
class ServedValue<T> implements Served<T> {
  private obj: T | undefined;
  private text: string | undefined;
  private body: Body | undefined;
  constructor(
    from: { obj?: T; body?: Body },
    readonly cache: CacheOutcome,
    readonly ageS: number,
    readonly warning?: string,
  ) {
    this.obj = from.obj;
    this.body = from.body;
  }
  get value(): T {
    return (this.obj ??= JSON.parse(this.json()) as T);
  }
  json(): string {
    return (this.text ??= this.body ? utf8.decode(this.body.plain) : JSON.stringify(this.obj));
  }
  bytes(): Uint8Array {
    return this.held().plain;
  }
  encoded(encoding: ContentEncoding): Uint8Array {
    return this.held().encoded(encoding);
  }
  private held(): Body {
    return (this.body ??= new Body(Buffer.from(this.json())));
  }
}

export function served<T>(value: T, cache: CacheOutcome, ageS: number, warning?: string): Served<T> {
  return new ServedValue<T>({ obj: value }, cache, ageS, warning);
}

/** A value known as UTF-8 JSON bytes (with what compressed forms it has): parsed only if someone asks for the object. */
export function servedBytes<T>(bytes: Uint8Array | Body, cache: CacheOutcome, ageS: number, warning?: string): Served<T> {
  return new ServedValue<T>({ body: bytes instanceof Body ? bytes : new Body(bytes) }, cache, ageS, warning);
}

export interface ReadOptions {
  /** Bypass the cache: ask the unit and refresh what is cached. */
  force?: boolean;
  /** Serve what is cached when the unit cannot be reached (default true; RFC 5861 stale-if-error); never with `force`. */
  stale?: boolean;
  /** Events: serve the cached list with no device I/O when it was probed within this many seconds. */
  maxAgeS?: number;
  signal?: AbortSignal;
}

/**
 * How far an event-list sync has got: the relay reads the events it does not hold yet one by one
 * (4 round trips each), which over a modem takes seconds per event.
 */
export interface SyncProgress {
  /** Events of the unit's list in hand (those cached before count as done). */
  done: number;
  /**
   * How many there are to read: exact when the unit's record counter tells, else estimated from
   * the probe's storage range and the keys read so far (`estimated`); null until anything tells.
   */
  total: number | null;
  estimated: boolean;
}

export interface SyncOptions {
  /** Called before the sync reads its first event and after each. */
  onSyncProgress?: (p: SyncProgress) => void;
}

/** Reads of events: whether to answer only once their event-time project text is in. */
export interface EventReadOptions extends ReadOptions, SyncOptions {
  /** Read the pending project text before answering (default: answer with the headers, the text after). */
  waitForText?: boolean;
  onTextProgress?: (p: { done: number; total: number }) => void;
}

export interface WaveformOptions extends ReadOptions, SyncOptions {
  onProgress?: (p: DownloadProgress) => void;
}

/** An analysis: its waveform is read as WaveformOptions say; `analysis` chooses the standards (analysisOptions()). */
export interface AnalysisReadOptions extends WaveformOptions {
  analysis?: AnalysisOptions;
}

export interface EraseOptions extends SyncOptions {
  /**
   * Asks for the number of events the unit holds just before it is erased, counted in the erase's
   * own session (the list is brought up to date first: nothing to read when it is cached and
   * current). Not called when it cannot be known (the cache store failing).
   */
  onCount?: (events: number) => void;
}

export interface DeviceAccess {
  info(target: DeviceTarget, opts?: ReadOptions): Promise<Served<DeviceInfo>>;
  events(target: DeviceTarget, opts?: EventReadOptions): Promise<Served<EventList>>;
  event(target: DeviceTarget, index: number, opts?: EventReadOptions): Promise<Served<Event>>;
  waveform(target: DeviceTarget, index: number, opts?: WaveformOptions): Promise<Served<Waveform>>;
  /** The analysis of the event's waveform (analyse()); served as its waveform was (cache outcome, Age). */
  analysis(target: DeviceTarget, index: number, opts?: AnalysisReadOptions): Promise<Served<Analysis>>;
  status(target: DeviceTarget, opts?: ReadOptions): Promise<Served<MonitorStatus>>;
  storageRange(target: DeviceTarget): Promise<StorageRange>;
  /** SUB 08: the unit's lifetime record counter. Not cached. */
  eventIndex(target: DeviceTarget): Promise<EventIndexView>;
  startMonitoring(target: DeviceTarget): Promise<MonitorStatus>;
  stopMonitoring(target: DeviceTarget): Promise<MonitorStatus>;
  writeConfig(target: DeviceTarget, changes: ComplianceChanges): Promise<ComplianceConfig>;
  readCallHome(target: DeviceTarget): Promise<CallHomeConfig>;
  writeCallHome(target: DeviceTarget, changes: CallHomeChanges): Promise<CallHomeConfig>;
  erase(target: DeviceTarget, opts?: EraseOptions): Promise<StorageRange>;
}

/** An event index beyond the unit's events. */
export class EventNotFound extends NotFound {
  override name = 'EventNotFound';
  constructor(
    readonly index: number,
    readonly count: number,
  ) {
    super(`event ${index} does not exist: the unit holds ${count} event${count === 1 ? '' : 's'}`);
  }
}
