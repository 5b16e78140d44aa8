/**
 * What front ends ask of a unit. The HTTP and CLI adapters depend only on this interface; the
 * caching relay implements it, and so does DirectDeviceAccess (every call goes to the unit).
 */
import type { ComplianceChanges } from '../protocol/compliance-config.js';
import type { CallHomeConfig, ComplianceConfig, DeviceInfo, Event, EventList, MonitorStatus, StorageRange, Waveform } from '../model.js';
import type { DeviceTarget } from '../transport/transport.js';
import type { DownloadProgress } from '../client/minimate-client.js';

export type CacheOutcome = 'hit' | 'miss' | 'refresh';

/** A value and where it came from. */
export interface Served<T> {
  value: T;
  cache: CacheOutcome;
  /** Seconds since the data left the unit. */
  ageS: number;
}

export interface ReadOptions {
  force?: boolean;
  signal?: AbortSignal;
}

export interface WaveformOptions extends ReadOptions {
  onProgress?: (p: DownloadProgress) => void;
}

export interface DeviceAccess {
  info(target: DeviceTarget, opts?: ReadOptions): Promise<Served<DeviceInfo>>;
  events(target: DeviceTarget, opts?: ReadOptions): Promise<Served<EventList>>;
  event(target: DeviceTarget, index: number, opts?: ReadOptions): Promise<Served<Event>>;
  waveform(target: DeviceTarget, index: number, opts?: WaveformOptions): Promise<Served<Waveform>>;
  status(target: DeviceTarget, opts?: ReadOptions): Promise<Served<MonitorStatus>>;
  storageRange(target: DeviceTarget): Promise<StorageRange>;
  startMonitoring(target: DeviceTarget): Promise<MonitorStatus>;
  stopMonitoring(target: DeviceTarget): Promise<MonitorStatus>;
  writeConfig(target: DeviceTarget, changes: ComplianceChanges): Promise<ComplianceConfig>;
  readCallHome(target: DeviceTarget): Promise<CallHomeConfig>;
  writeCallHome(target: DeviceTarget, changes: Partial<CallHomeConfig>): Promise<CallHomeConfig>;
  erase(target: DeviceTarget): Promise<StorageRange>;
}

/** An event index beyond the unit's events. */
export class EventNotFound extends Error {
  override name = 'EventNotFound';
  readonly code = 'NOT_FOUND';
  constructor(
    readonly index: number,
    readonly count: number,
  ) {
    super(`event ${index} does not exist: the unit holds ${count} event${count === 1 ? '' : 's'}`);
  }
}
