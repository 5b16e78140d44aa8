/**
 * Fixture builders: realistic, deterministic values of the contract's shapes, for the store
 * contract suite and for any package's tests. Every call returns fresh objects.
 */
import { FIRST_KEY, keyToHex } from '@sfm/core/protocol';
import type { GeoRangeName } from '@sfm/core';
import type { EventSyncState, LeaseHolder, StoredEvent, StoredWaveform } from '@sfm/core/cache';
import type { AnalysisSummary, DeviceInfo, Event, MonitorStatus, Session } from '@sfm/core';

/** 2026-04-09T07:00:00Z: the default `fetchedAt` of the builders. */
export const SAMPLE_FETCHED_AT = Date.UTC(2026, 3, 9, 7, 0, 0);

/** The key of the event at `index` as a fresh unit numbers them (one 0x400-byte block each). */
export function sampleKey(index: number): number {
  return (FIRST_KEY + index * 0x400) >>> 0;
}

/** The unit's timestamp text (`2026-04-09T07:mm:ss`) of the event at `index`. */
export function sampleTimestamp(index: number): string {
  const minute = Math.floor(index / 60) % 60;
  const second = index % 60;
  const hour = 7 + (Math.floor(index / 3600) % 17);
  return `2026-04-09T${pad2(hour)}:${pad2(minute)}:${pad2(second)}`;
}

/** A unit's identity and compliance setup as `/device/info` serves it. */
export function sampleInfo(serial: string, overrides: Partial<DeviceInfo> = {}): DeviceInfo {
  return {
    serial,
    firmware: 'S338.17',
    firmware_minor: 17,
    dsp_version: '10.72',
    calibration_date: '2025-11-03',
    event_count: 12,
    compliance: {
      recording_mode: 'single_shot',
      sample_rate: 1024,
      record_time_s: 10,
      histogram_interval_s: null,
      geo_range: 'normal',
      geo_full_scale_ips: 10,
      trigger_level_ips: 0.5,
      alarm_level_ips: 1,
      mic_trigger_psi: null,
      mic_alarm_psi: 0.0145,
      project: 'Quarry North Expansion',
      client: 'Acme Aggregates',
      operator: 'J. Smith',
      sensor_location: 'House 14 foundation',
      notes: 'shot 2026-117',
    },
    ...overrides,
  };
}

/** A recorded waveform event with peaks and event-time project text (about 700 bytes as JSON). */
export function sampleEvent(index: number, key: number = sampleKey(index)): Event {
  const f = 1 + (index % 7) / 10;
  return {
    index,
    key: keyToHex(key),
    timestamp: sampleTimestamp(index),
    end_timestamp: null,
    record_type: 'waveform',
    sample_rate: 1024,
    record_time_s: 10,
    total_samples: 10240,
    pretrigger_samples: 256,
    trigger_level_ips: null,
    peaks: {
      tran_ips: round(0.1234 * f),
      vert_ips: round(0.2345 * f),
      long_ips: round(0.0345 * f),
      mic_psi: round(0.0021 * f),
      pvs_ips: round(0.2612 * f),
    },
    project: {
      project: 'Quarry North Expansion — Phase 2 blasting programme',
      client: 'Acme Aggregates Ltd., Northern Region Operations',
      operator: 'J. Smith (licensed shotfirer #4471)',
      sensor_location: `House 14 foundation, NE corner, geophone spiked, mic at 1.2 m (shot ${index})`,
      notes: 'shot 2026-117; bench 3 west face; 42 holes, 89 mm, 5 ms delays; weather clear, light wind from SW',
    },
    project_pending: false,
  };
}

/** A monitor-log record at `index`: an interval of monitoring with its trigger level, no peaks or text. */
export function sampleMonitorLog(index: number, key: number = sampleKey(index)): Event {
  const start = sampleTimestamp(index);
  return {
    ...sampleEvent(index, key),
    end_timestamp: `${start.slice(0, 11)}23:59:59`,
    record_type: 'monitor_log',
    sample_rate: null,
    record_time_s: null,
    total_samples: null,
    pretrigger_samples: null,
    trigger_level_ips: 0.5,
    peaks: { tran_ips: null, vert_ips: null, long_ips: null, mic_psi: null, pvs_ips: null },
    project: { project: null, client: null, operator: null, sensor_location: null, notes: null },
  };
}

/** `sampleEvent` as a headers-first read leaves it: its project text still to be read. */
export function pendingEvent(index: number, key: number = sampleKey(index)): Event {
  return { ...sampleEvent(index, key), project: { project: null, client: null, operator: null, sensor_location: null, notes: null }, project_pending: true };
}

/** The store's row for `pendingEvent(index, key)`. */
export function storedPendingEvent(index: number, key: number = sampleKey(index), fetchedAt: number = SAMPLE_FETCHED_AT): StoredEvent {
  return { event: pendingEvent(index, key), key, geoRange: 'normal', fetchedAt };
}

/** The store's row for `sampleEvent(index, key)`. */
export function storedEvent(index: number, key: number = sampleKey(index), fetchedAt: number = SAMPLE_FETCHED_AT, geoRange: GeoRangeName | null = 'normal'): StoredEvent {
  return { event: sampleEvent(index, key), key, geoRange, fetchedAt };
}

/** `count` stored events continuing after `from` (indexes from..from+count-1, keys in sequence). */
export function storedEvents(from: number, count: number, fetchedAt: number = SAMPLE_FETCHED_AT): StoredEvent[] {
  return Array.from({ length: count }, (_, i) => storedEvent(from + i, sampleKey(from + i), fetchedAt));
}

export interface SampleWaveformOptions {
  index?: number;
  sampleRate?: number;
  pretriggerSamples?: number;
  geoRange?: GeoRangeName;
  fetchedAt?: number;
  /** Varies the samples, so two waveforms of the same shape differ (default 0). */
  seed?: number;
}

/** A waveform of int16 damped sines (one frequency per channel), full-scale ±8000 units. */
export function sampleWaveform(key: number, timestamp: string | null, samplesPerChannel = 1024, opts: SampleWaveformOptions = {}): StoredWaveform {
  const seed = opts.seed ?? 0;
  const channel = (c: number): Int16Array => {
    const out = new Int16Array(samplesPerChannel);
    const amplitude = 8000 - (seed % 13) * 300;
    for (let k = 0; k < samplesPerChannel; k++) out[k] = Math.trunc(amplitude * Math.exp(-k / 2000) * Math.sin((k + seed) / (7 + c)));
    return out;
  };
  return {
    key,
    timestamp,
    index: opts.index ?? 0,
    sampleRate: opts.sampleRate ?? 1024,
    pretriggerSamples: opts.pretriggerSamples ?? 256,
    geoRange: opts.geoRange ?? 'normal',
    channels: { Tran: channel(0), Vert: channel(1), Long: channel(2), MicL: channel(3) },
    fetchedAt: opts.fetchedAt ?? SAMPLE_FETCHED_AT,
  };
}

/** A monitoring unit's status as `/device/monitor/status` serves it. */
export function sampleStatus(overrides: Partial<MonitorStatus> = {}): MonitorStatus {
  return {
    is_monitoring: true,
    battery_v: 6.8,
    memory_total: 983040,
    memory_free: 512000,
    clock: '2026-04-09T07:12:31',
    ...overrides,
  };
}

/**
 * The sync state of a unit whose live list holds `count` events from a fresh start (first key
 * `sampleKey(0)`, next key `sampleKey(count)`), fully walked, its counter equal to `count`.
 */
export function sampleSync(count: number, overrides: Partial<EventSyncState> = {}): EventSyncState {
  return { first: sampleKey(0), last: sampleKey(count), counter: count, complete: true, probedAt: SAMPLE_FETCHED_AT, ...overrides };
}

/** A lease holder as core's UnitLocks writes one (`<host>:<pid>:<random>#<n>`), on host `relay-1`. */
export function sampleHolder(owner: string, expiresAt: number, overrides: Partial<LeaseHolder> = {}): LeaseHolder {
  return { owner, host: 'relay-1', pid: 4242, expiresAt, ...overrides };
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function round(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

/** A session as the relay records one: a call-up of `serial` at `tcp:10.20.0.7:12345`, 12.5 s, ok. */
export function sampleSession(serial: string, overrides: Partial<Omit<Session, 'id'>> = {}): Omit<Session, 'id'> {
  return {
    serial,
    kind: 'call-up',
    peer: 'tcp:10.20.0.7:12345',
    started_at: new Date(SAMPLE_FETCHED_AT).toISOString(),
    duration_s: 12.5,
    events_new: 3,
    waveforms_new: 1,
    erased: false,
    result: 'ok',
    capture: null,
    ...overrides,
  };
}

/** An analysis summary as the archive keeps one with an event. */
export function sampleAnalysis(overrides: Partial<AnalysisSummary> = {}): AnalysisSummary {
  return { pvs_ips: 0.2612, max_ppv_ips: 0.2345, dominant_freq_hz: 18.5, compliance: 'pass', ...overrides };
}
