/**
 * The emulated unit's state: identity, settings blocks, stored records, monitoring, battery,
 * memory and clock. Sessions (session.ts) read and change it through the methods here; every
 * block is produced by the codec's encoders from @sfm/core, never laid out by hand.
 */
import { checkComplianceChanges, longestRecordS } from '@sfm/core/schema';
import { SfmError } from '@sfm/core';
import { type GeoRangeName } from '@sfm/core';
import { CALL_HOME_LENGTH, COMPLIANCE_LENGTH, EVENT_INDEX_LENGTH, FIRST_KEY, NULL_KEY, SAMPLE_RATES, SUB, conventions, subInfoForRequest, decodeCallHome, decodeComplianceConfig, decodeEventIndex, decodeMonitorStatus, encodeCallHome, encodeComplianceConfig, encodeEventIndex, encodeFullConfig, encodeMonitorStatus, encodeSerialNumber, encodeStorageRange, encodeEventMemory, encodeWaveformBody, geoFullScaleIps, padWaveformBody, EVENT_MEMORY_OVERHEAD, isoFromDate, keyToHex, patchComplianceConfig, tidyFloat32, type ComplianceSettings, type StorageRangeKeys } from '@sfm/core/protocol';
import type { CallHomeConfig, ComplianceConfig, Event, EventPeaks, MonitorStatus, ProjectText } from '@sfm/core';
import type { ComplianceChanges } from '@sfm/core/protocol';
import { mixSeed, Prng } from './prng.js';
import { computePeaks, synthesizeEvent, type EventChannels } from './signals.js';

/** Where one record's memory ends is rounded up to this, so chunk counters never hit the pages 0x1002/0x1004. */
export const KEY_ALIGN = 0x200;
/** A monitor-log (partial) record occupies one aligned slot. */
export const MONITOR_LOG_BYTES = 0x200;
export const DEFAULT_MEMORY_TOTAL = 983026;
export const DEFAULT_SERIAL = 'BE18189';
export const DEFAULT_FIRMWARE = 'S338.17';
export const DEFAULT_DSP_VERSION = '10.72';
export const DEFAULT_CALIBRATION_DATE = '2025-11-03';
export const DEFAULT_UNIT_BYTE = 0x79;
export const DEFAULT_MONITOR_SETTLE_MS = 40_000;
const BATTERY_START_CV = 680; // centivolts
const BATTERY_FLOOR_CV = 590;
/** The 09/69 block (its length is the SUB table's DATA_LEN of SUB 09) and the 82 trigger block. */
const BLOCK_09_LENGTH = subInfoForRequest(SUB.WAVEFORM_DATA_BLOCK)!.dataLength as number;
const TRIGGER_BLOCK_LENGTH = conventions.TRIGGER_BLOCK.length;

export const DEFAULT_COMPLIANCE: ComplianceSettings = {
  recording_mode: 'single_shot',
  sample_rate: 1024,
  record_time_s: 3,
  histogram_interval_s: 300,
  geo_range: 'normal',
  geo_full_scale_ips: 10,
  trigger_level_ips: 0.5,
  alarm_level_ips: 1.0,
  mic_trigger_psi: 0.045,
  mic_alarm_psi: 0.021,
  project: 'Quarry North Expansion',
  client: 'Acme Aggregates',
  operator: 'J. Smith',
  sensor_location: 'House 14 foundation',
  notes: '',
};

export const DEFAULT_CALL_HOME: CallHomeConfig = {
  enabled: false,
  dial_string: '',
  after_event_recorded: false,
  at_specified_times: false,
  time1: { enabled: false, hour: 6, minute: 0 },
  time2: { enabled: false, hour: 18, minute: 0 },
  num_retries: 3, // goes out as `10 03` on the wire, as on real units
  retry_interval_s: 60,
  wait_for_connection_s: 60,
  warm_up_time_s: 10,
};

export interface SimulatedUnitOptions {
  serial?: string;
  /** Full events stored at start (default 5). */
  events?: number;
  /** Seed of every synthetic signal (default 1). */
  seed?: number;
  /** Record time of the compliance setup (default 3 s). */
  recordTimeS?: number;
  /** Sample rate of the compliance setup (default 1024 Sa/s). */
  sampleRate?: number;
  /** Other compliance settings to start with. */
  compliance?: ComplianceChanges;
  /** Insert a monitor-log record after every 5th initial event (default false). */
  includeMonitorLog?: boolean;
  /** Sensor check after a start-monitoring command (default 40 000 ms). */
  monitorSettleMs?: number;
  /** The unit clock: its UTC fields are the unit's local time (default: the system clock). */
  now?: () => Date;
  /** Bytes of event memory (default 983 026). */
  memoryTotal?: number;
  firmware?: string;
  /**
   * Memory taken by each record, rounded up to this many bytes (a multiple of 0x200; default
   * 0x200). A large slot makes equal-length events take equal room, so an erase followed by as
   * many events gives back the same storage range — what an outside erase and refill looks like.
   */
  recordSlotBytes?: number;
}

/** A stored full event. */
export interface StoredEvent {
  readonly kind: 'full';
  readonly key: number;
  readonly timestamp: string;
  readonly sampleRate: number;
  readonly recordTimeS: number;
  readonly totalSamples: number;
  readonly pretriggerSamples: number;
  readonly geoRange: GeoRangeName;
  readonly channels: Readonly<EventChannels>;
  readonly peaks: Readonly<EventPeaks>;
  /** The compliance text as it was when the event was recorded (served on 5A page 0x1002). */
  readonly project: Readonly<ProjectText>;
  /** The event's memory as 5A reads it: STRT record, preamble, waveform body, footer. */
  readonly memory: Uint8Array;
  /** STRT end_offset: the key's start offset (key4[2:4]) + memory.length. */
  readonly endOffset: number;
  /** The key the record after this one gets. */
  readonly nextKey: number;
}

/** A stored monitor-log (partial) record: an interval of monitoring without a trigger. */
export interface StoredMonitorLog {
  readonly kind: 'monitor_log';
  readonly key: number;
  readonly startTime: string;
  readonly stopTime: string;
  /** The geophone trigger level in force while it monitored. */
  readonly triggerLevelIps: number;
  readonly nextKey: number;
}

export type StoredRecord = StoredEvent | StoredMonitorLog;

export class UnitMemoryFull extends SfmError {
  override name = 'UnitMemoryFull';
  constructor(message: string) {
    super('MEMORY_FULL', message);
  }
}

export interface RecordEventOptions {
  /** When the event happened (default: the unit clock now). */
  at?: Date;
  /**
   * Make the event's STRT end_offset exactly this (its body padded with empty blocks, the samples
   * unchanged): an emulated copy of a captured event's size. RangeError when its data does not fit.
   */
  endOffset?: number;
}

export interface MonitorLogOptions {
  start: Date;
  stop: Date;
}

function alignUp(n: number, slot: number): number {
  return Math.ceil(n / slot) * slot;
}

function minorOf(firmware: string): number {
  const m = /\.(\d+)\s*$/.exec(firmware);
  return m ? Number(m[1]) & 0xff : 0;
}

export class SimulatedUnit {
  readonly serial: string;
  readonly firmware: string;
  readonly firmwareMinor: number;
  readonly unitByte = DEFAULT_UNIT_BYTE;
  readonly dspVersion = DEFAULT_DSP_VERSION;
  readonly calibrationDate = DEFAULT_CALIBRATION_DATE;
  readonly memoryTotal: number;
  readonly monitorSettleMs: number;
  readonly now: () => Date;

  private readonly seed: number;
  private readonly includeMonitorLog: boolean;
  private readonly slot: number;
  private records: StoredRecord[] = [];
  private nextKey = FIRST_KEY;
  private eventsSynthesized = 0;
  private eventsRecorded = 0;
  /** SUB 08: every record the unit ever made; an erase leaves it (protocol.md §9.1 note). */
  private recordsEver = 0;
  private complianceRaw: Uint8Array;
  private eventIndexRaw: Uint8Array;
  private block09Raw: Uint8Array;
  private triggerBlockRaw: Uint8Array | null = null;
  private callHomeRaw: Uint8Array;
  private monitoringReadyAt: number | null = null;
  private readonly recordListeners = new Set<(e: Event) => void>();

  constructor(opts: SimulatedUnitOptions = {}) {
    this.serial = opts.serial ?? DEFAULT_SERIAL;
    this.firmware = opts.firmware ?? DEFAULT_FIRMWARE;
    this.firmwareMinor = minorOf(this.firmware);
    this.seed = opts.seed ?? 1;
    this.includeMonitorLog = opts.includeMonitorLog ?? false;
    this.monitorSettleMs = opts.monitorSettleMs ?? DEFAULT_MONITOR_SETTLE_MS;
    this.now = opts.now ?? (() => new Date());
    this.memoryTotal = opts.memoryTotal ?? DEFAULT_MEMORY_TOTAL;
    this.slot = opts.recordSlotBytes ?? KEY_ALIGN;
    if (!Number.isInteger(this.slot) || this.slot < KEY_ALIGN || this.slot % KEY_ALIGN !== 0) {
      throw new RangeError(`recordSlotBytes must be a multiple of ${KEY_ALIGN}, got ${this.slot}`);
    }
    // Validates the identity fields the encoders will need later.
    encodeSerialNumber({ serial: this.serial, unit_byte: this.unitByte, firmware_minor: this.firmwareMinor });

    const settings: ComplianceSettings = { ...DEFAULT_COMPLIANCE, ...(opts.compliance ? checkComplianceChanges(opts.compliance, 'compliance') : {}) } as ComplianceSettings;
    if (opts.sampleRate !== undefined) settings.sample_rate = opts.sampleRate;
    if (opts.recordTimeS !== undefined) settings.record_time_s = opts.recordTimeS;
    settings.geo_full_scale_ips = geoFullScaleIps(settings.geo_range);
    this.complianceRaw = encodeComplianceConfig(settings);
    this.eventIndexRaw = encodeEventIndex({ lifetime_event_count: 0, backlight: 100, power_save: 30 });
    this.block09Raw = Uint8Array.from({ length: BLOCK_09_LENGTH }, (_, i) => (i * 29 + 7) & 0xff);
    this.callHomeRaw = encodeCallHome(DEFAULT_CALL_HOME);
    this.populate(opts.events ?? 5);
  }

  // --- initial records -------------------------------------------------------------------------

  private populate(count: number): void {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`events must be a non-negative integer, got ${count}`);
    const rng = new Prng(mixSeed(this.seed, 0x5eed));
    const nowMs = this.now().getTime();
    // Spread the events over the past: one every ~3 h with some jitter, the last a while ago.
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const jitter = Math.floor(rng.range(0, 90 * 60)) * 1000;
      times.push(Math.floor((nowMs - (count - i) * 3 * 3600_000 + jitter) / 1000) * 1000);
    }
    times.forEach((t, i) => {
      const ev = this.recordEvent({ at: new Date(t) });
      if (this.includeMonitorLog && (i + 1) % 5 === 0) {
        const start = Date.parse(`${ev.timestamp}Z`) + (Math.ceil(ev.record_time_s ?? 0) + 1) * 1000;
        const next = times[i + 1] ?? nowMs;
        const stop = Math.max(start, Math.min(next - 1000, start + 2 * 3600_000));
        this.recordMonitorLog({ start: new Date(start), stop: new Date(stop) });
      }
    });
  }

  // --- recording -------------------------------------------------------------------------------

  /** Records one full event (now, unless `at` is given) and returns its summary. Throws UnitMemoryFull. */
  recordEvent(opts: RecordEventOptions = {}): Event {
    const cfg = this.compliance;
    // A block written over the wire may hold values no unit records with: fall back to the defaults.
    const sampleRate = (SAMPLE_RATES as readonly number[]).includes(cfg.sample_rate ?? 0) ? cfg.sample_rate! : DEFAULT_COMPLIANCE.sample_rate;
    const rt = cfg.record_time_s;
    const recordTimeS = rt !== null && rt >= 0.25 && rt <= longestRecordS(sampleRate) ? rt : DEFAULT_COMPLIANCE.record_time_s;
    const geoRange = cfg.geo_range ?? 'normal';
    const totalSamples = Math.max(4, Math.round(sampleRate * recordTimeS));
    const pretriggerSamples = Math.floor(sampleRate / 4);
    const channels = synthesizeEvent({
      sampleRate, totalSamples, pretriggerSamples, geoRange, seed: mixSeed(this.seed, this.eventsSynthesized + 1),
    });
    const key = this.nextKey;
    let body = encodeWaveformBody(channels);
    if (opts.endOffset !== undefined) {
      const length = opts.endOffset - (key & 0xffff) - EVENT_MEMORY_OVERHEAD;
      if (length < body.length) throw new RangeError(`event at ${keyToHex(key)}: its data needs an end_offset of at least 0x${((key & 0xffff) + EVENT_MEMORY_OVERHEAD + body.length).toString(16)}, not 0x${opts.endOffset.toString(16)}`);
      body = padWaveformBody(body, length);
    }
    const strt = { sample_rate: sampleRate, total_samples: totalSamples, record_time_s: recordTimeS, pretrigger_samples: pretriggerSamples };
    const memory = encodeEventMemory(key, strt, body);
    const endOffset = (key & 0xffff) + memory.length;
    const nextKey = alignUp(key + memory.length, this.slot);
    this.ensureRoom(nextKey, 'event');
    this.eventsSynthesized++;
    const rec: StoredEvent = {
      kind: 'full',
      key,
      timestamp: isoFromDate(opts.at ?? this.now()),
      sampleRate,
      recordTimeS,
      totalSamples,
      pretriggerSamples,
      geoRange,
      channels,
      peaks: computePeaks(channels, geoRange),
      // The 5A text page always carries every key, so a missing field reads back as ''.
      project: {
        project: cfg.project ?? '', client: cfg.client ?? '', operator: cfg.operator ?? '',
        sensor_location: cfg.sensor_location ?? '', notes: cfg.notes ?? '',
      },
      memory,
      endOffset,
      nextKey,
    };
    this.records.push(rec);
    this.nextKey = nextKey;
    this.eventsRecorded++;
    this.recordsEver++;
    return this.recorded(this.summaryOf(rec, this.records.length - 1));
  }

  /** Tells `listener` of each record made from now on (what makes a unit call home); returns the unsubscribe. */
  onRecord(listener: (e: Event) => void): () => void {
    this.recordListeners.add(listener);
    return () => this.recordListeners.delete(listener);
  }

  private recorded(e: Event): Event {
    for (const l of this.recordListeners) l(e);
    return e;
  }

  /** Stores a monitor-log record for [start, stop] (default: the last hour up to now). */
  recordMonitorLog(opts?: MonitorLogOptions): Event {
    const stop = opts?.stop ?? this.now();
    const start = opts?.start ?? new Date(stop.getTime() - 3600_000);
    const key = this.nextKey;
    const nextKey = key + MONITOR_LOG_BYTES;
    this.ensureRoom(nextKey, 'monitor-log record');
    const rec: StoredMonitorLog = {
      kind: 'monitor_log',
      key,
      startTime: isoFromDate(start),
      stopTime: isoFromDate(stop),
      triggerLevelIps: this.compliance.trigger_level_ips ?? DEFAULT_COMPLIANCE.trigger_level_ips,
      nextKey,
    };
    this.records.push(rec);
    this.nextKey = nextKey;
    this.recordsEver++;
    return this.recorded(this.summaryOf(rec, this.records.length - 1));
  }

  private ensureRoom(nextKey: number, what: string): void {
    const used = nextKey - FIRST_KEY;
    if (used > this.memoryTotal) {
      throw new UnitMemoryFull(
        `unit ${this.serial}: memory full — the ${what} needs ${nextKey - this.nextKey} bytes, ${this.memoryFree} of ${this.memoryTotal} are free; erase the unit first`,
      );
    }
  }

  /** Records the unit ever made (the SUB 08 counter): grows with each, survives an erase. */
  get lifetimeRecords(): number {
    return this.recordsEver;
  }

  /** Erase-all: every record dropped, keys restart at 01110000, all memory free; the lifetime counter stays. */
  erase(): void {
    this.records = [];
    this.nextKey = FIRST_KEY;
  }

  // --- what sessions read ----------------------------------------------------------------------

  /** Stored records in key order (read-only views). */
  get storedRecords(): readonly StoredRecord[] {
    return this.records.slice();
  }

  record(key: number): StoredRecord | undefined {
    return this.records.find((r) => r.key === key >>> 0);
  }

  /** The key of the record after `key`: NULL_KEY at the end or when `key` is not stored. */
  keyAfter(key: number): number {
    const i = this.records.findIndex((r) => r.key === key >>> 0);
    if (i < 0) return NULL_KEY;
    return this.records[i + 1]?.key ?? NULL_KEY;
  }

  /** The key of the first record, NULL_KEY when empty. */
  get firstKey(): number {
    return this.records[0]?.key ?? NULL_KEY;
  }

  /** SUB 06: the first record's key and the key the next record will get (both 01110000 when empty). */
  get storageRange(): StorageRangeKeys {
    return { first: this.records[0]?.key ?? FIRST_KEY, next: this.nextKey };
  }

  /** The key of the last stored record; null when none is stored. */
  get lastKey(): number | null {
    return this.records.at(-1)?.key ?? null;
  }

  get memoryFree(): number {
    return this.memoryTotal - (this.nextKey - FIRST_KEY);
  }

  /** 6.80 V, −0.01 V per event recorded since power-up (an erase does not recharge it), floor 5.90 V. */
  get batteryV(): number {
    return Math.max(BATTERY_FLOOR_CV, BATTERY_START_CV - this.eventsRecorded) / 100;
  }

  get isMonitoring(): boolean {
    return this.monitoringReadyAt !== null && this.now().getTime() >= this.monitoringReadyAt;
  }

  /** A start command was accepted and monitoring is on or in its sensor check. */
  get monitoringRequested(): boolean {
    return this.monitoringReadyAt !== null;
  }

  get compliance(): ComplianceConfig {
    return decodeComplianceConfig(this.complianceRaw);
  }

  get complianceBlock(): Uint8Array {
    return this.complianceRaw.slice();
  }

  get callHome(): CallHomeConfig {
    return decodeCallHome(this.callHomeRaw);
  }

  get callHomeBlock(): Uint8Array {
    return this.callHomeRaw.slice();
  }

  get block09(): Uint8Array {
    return this.block09Raw.slice();
  }

  get triggerBlock(): Uint8Array | null {
    return this.triggerBlockRaw?.slice() ?? null;
  }

  get monitorStatus(): MonitorStatus {
    return decodeMonitorStatus(this.monitorStatusBlock());
  }

  get eventIndex(): { lifetime_event_count: number; backlight: number; power_save: number } {
    return decodeEventIndex(this.eventIndexBlock());
  }

  /** Read-only summaries in storage order, in the contract's Event shape (index 0-based). */
  get events(): Event[] {
    return this.records.map((r, i) => this.summaryOf(r, i));
  }

  summaryOf(r: StoredRecord, index: number): Event {
    const noPeaks: EventPeaks = { tran_ips: null, vert_ips: null, long_ips: null, mic_psi: null, pvs_ips: null };
    if (r.kind === 'monitor_log') {
      return {
        index, key: keyToHex(r.key), timestamp: r.startTime, end_timestamp: r.stopTime, record_type: 'monitor_log', sample_rate: null,
        record_time_s: null, total_samples: null, pretrigger_samples: null, trigger_level_ips: r.triggerLevelIps, peaks: noPeaks,
        project: { project: null, client: null, operator: null, sensor_location: null, notes: null },
        project_pending: false,
      };
    }
    return {
      index,
      key: keyToHex(r.key),
      timestamp: r.timestamp,
      end_timestamp: null,
      record_type: 'waveform',
      sample_rate: r.sampleRate,
      record_time_s: tidyFloat32(Math.fround(r.recordTimeS)),
      total_samples: r.totalSamples,
      pretrigger_samples: r.pretriggerSamples,
      trigger_level_ips: null, // the 0A and 0C of an event do not carry it
      peaks: { ...r.peaks },
      project: { ...r.project },
      project_pending: false,
    };
  }

  // --- blocks ----------------------------------------------------------------------------------

  serialBlock(): Uint8Array {
    return encodeSerialNumber({ serial: this.serial, unit_byte: this.unitByte, firmware_minor: this.firmwareMinor });
  }

  fullConfigBlock(): Uint8Array {
    return encodeFullConfig({ firmware: this.firmware, dsp_version: this.dspVersion, calibration_date: this.calibrationDate });
  }

  /** The 08 block as last written, with the unit's own lifetime record counter (the unit keeps that field). */
  eventIndexBlock(): Uint8Array {
    const out = this.eventIndexRaw.slice();
    const current = decodeEventIndex(out);
    if (current.lifetime_event_count !== this.recordsEver) {
      // The counter is the u32 at +3 (event-index.ts); only that field is the unit's to change.
      const fresh = encodeEventIndex({ ...current, lifetime_event_count: this.recordsEver });
      out.set(fresh.subarray(3, 7), 3);
    }
    return out;
  }

  storageRangeBlock(): Uint8Array {
    return encodeStorageRange(this.storageRange);
  }

  monitorStatusBlock(): Uint8Array {
    return encodeMonitorStatus({
      is_monitoring: this.isMonitoring,
      battery_v: this.batteryV,
      memory_total: this.memoryTotal,
      memory_free: this.memoryFree,
      clock: isoFromDate(this.now()),
    });
  }

  // --- commands and writes -----------------------------------------------------------------------

  /** Start monitoring: the flag turns on after the sensor check (monitorSettleMs on the unit clock). */
  startMonitoring(): void {
    if (this.monitoringReadyAt === null) this.monitoringReadyAt = this.now().getTime() + this.monitorSettleMs;
  }

  stopMonitoring(): void {
    this.monitoringReadyAt = null;
  }

  /** Replaces the compliance block (a committed 71×3 → 72 write). */
  writeComplianceBlock(block: Uint8Array): void {
    if (block.length !== COMPLIANCE_LENGTH) throw new RangeError(`a compliance block is ${COMPLIANCE_LENGTH} bytes, got ${block.length}`);
    this.complianceRaw = block.slice();
  }

  /** Changes compliance settings directly (test set-up; the wire path is writeComplianceBlock). */
  configure(changes: ComplianceChanges): ComplianceConfig {
    this.complianceRaw = patchComplianceConfig(this.complianceRaw, checkComplianceChanges(changes, 'compliance'));
    return this.compliance;
  }

  writeEventIndexBlock(block: Uint8Array): void {
    if (block.length !== EVENT_INDEX_LENGTH) throw new RangeError(`an event-index block is ${EVENT_INDEX_LENGTH} bytes, got ${block.length}`);
    this.eventIndexRaw = block.slice();
  }

  writeBlock09(block: Uint8Array): void {
    if (block.length !== BLOCK_09_LENGTH) throw new RangeError(`the 09 block is ${BLOCK_09_LENGTH} bytes, got ${block.length}`);
    this.block09Raw = block.slice();
  }

  writeTriggerBlock(block: Uint8Array): void {
    if (block.length !== TRIGGER_BLOCK_LENGTH) throw new RangeError(`the trigger block is ${TRIGGER_BLOCK_LENGTH} bytes, got ${block.length}`);
    this.triggerBlockRaw = block.slice();
  }

  writeCallHomeBlock(block: Uint8Array): void {
    if (block.length !== CALL_HOME_LENGTH) throw new RangeError(`a call-home block is ${CALL_HOME_LENGTH} bytes, got ${block.length}`);
    this.callHomeRaw = block.slice();
  }

  /** Changes call-home settings directly (test set-up). */
  setCallHome(cfg: CallHomeConfig): void {
    this.callHomeRaw = encodeCallHome(cfg, this.callHomeRaw);
  }
}

export const BLOCK_LENGTHS = {
  block09: BLOCK_09_LENGTH,
  triggerBlock: TRIGGER_BLOCK_LENGTH,
} as const;
