/**
 * `pnpm fuzz` (bench group `fuzz`): a long seeded fuzz run of the codec, kept out of the unit
 * suite. A seeded stream of hostile input — pure random bytes, bytes biased to the framing bytes,
 * valid frames of every SUB with random content, and mutated frames (bit flips, truncations,
 * inserted 10 02 / 41 02 / 03 / 10, duplicated slices, spliced frames) — is cut into chunks of
 * 1 B … 4 KiB and fed through a device, a host and an auto parser that live for the whole run.
 * Every frame that comes out goes through describeFrame and the payload decoders of its SUB;
 * every decoder also gets random (and near-valid) byte arrays directly.
 *
 * Checked: no exception but the codec's own PayloadError / WaveformBodyError escapes a decoder
 * (those are counted), nothing at all escapes a parser or describeFrame, a frame reported
 * checksumOk recomputes from its fields (and one reported bad does not), frame fields have their
 * fixed values, parsing a chunk whole or cut in pieces gives the same items, decoded samples are
 * int16, no hang (a watchdog on the main thread: no progress for 10 s fails the run and prints
 * the chunk being parsed) and bounded memory (heap sampled every 100k chunks; the live heap after
 * a forced GC must not grow, and no sample may pass 512 MiB).
 *
 * FUZZ_SEED picks the seed (printed either way, so a failure can be replayed); FUZZ_CHUNKS the
 * number of chunks (default 1,000,000).
 */
import { randomInt } from 'node:crypto';
import v8 from 'node:v8';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { BULK_PAGE_TEXT, BULK_PAGE_UNIT, PayloadError, SUB, SUB_TABLE, WaveformBodyError, buildBulkFrame, buildDeviceFrame, buildReadFrame, buildWriteFrame, bulkChunkFrame, bulkPageFrame, bulkProbeFrame, bulkTermFrame, callHomeWriteData, classifyBulkRequest, complianceParams, concatBytes, decodeCallHome, decodeComplianceConfig, decodeEventIndex, decodeEventKeyReply, decodeFullConfig, decodeMonitorStatus, decodeProbeReply, decodeSerialNumber, decodeStorageRange, decodeTextFields, decodeTextPage, decodeUnitPage, decodeWaveformBody, decodeWaveformHeader, decodeWaveformRecord, bodyFromEventMemory, describeFrame, echoHeader, encodeCallHome, encodeComplianceConfig, encodeEventIndex, encodeEventKeyReply, encodeFullConfig, encodeMonitorStatus, encodeEventMemory, encodePollReply, encodeSerialNumber, encodeStorageRange, encodeTextPage, encodeTriggerBlock, encodeUnitPage, encodeWaveformBody, encodeWaveformHeader, encodeWaveformRecord, escapeDeviceBytes, FrameParser, headerLengthFromProbe, keyParams, keyBytes, parseCapture, requestSubFor, storageRangeView, tokenParams, toHex, unescapeDeviceBytes, writeDataLengthFor, type ComplianceSettings, type Frame, type ParsedItem, type ParserDirection } from '@sfm/core/protocol';
import { report } from './report.js';

const DEFAULT_CHUNKS = 1_000_000;
const MAX_CHUNK = 4096;
const SAMPLE_EVERY = 100_000;
const CHUNKING_CHECK_EVERY = 997;
const WATCHDOG_MS = 10_000;
const HEAP_LIMIT_MIB = 512;
/** Live heap (after a forced GC) may not end more than this above where it was at the first sample. */
const LIVE_GROWTH_LIMIT_MIB = 64;
const MAX_EXAMPLES = 20;
const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Seeded PRNG (mulberry32)

class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.u32() / 4294967296) * n);
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + this.below(max - min + 1);
  }
  /** Log-uniform integer in [min, max]: small values as common as large decades. */
  logInt(min: number, max: number): number {
    return Math.min(max, Math.floor(Math.exp(Math.log(min) + (Math.log(max + 1) - Math.log(min)) * (this.u32() / 4294967296))));
  }
  chance(p: number): boolean {
    return this.u32() < p * 4294967296;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.below(a.length)];
  }
  fill(b: Uint8Array, from = 0, to = b.length): void {
    let i = from;
    for (; i + 4 <= to; i += 4) {
      const v = this.u32();
      b[i] = v;
      b[i + 1] = v >>> 8;
      b[i + 2] = v >>> 16;
      b[i + 3] = v >>> 24;
    }
    if (i < to) {
      const v = this.u32();
      for (let k = 0; i < to; i++, k += 8) b[i] = v >>> k;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Input generators

const SPECIAL = [0x10, 0x02, 0x03, 0x04, 0x41, 0x00, 0xff, 0x5a, 0xa5, 0x46, 0x2c];
const MARKERS: readonly Uint8Array[] = [
  Uint8Array.of(0x10, 0x02), Uint8Array.of(0x41, 0x02), Uint8Array.of(0x03), Uint8Array.of(0x10), Uint8Array.of(0x41, 0x03),
  Uint8Array.of(0x10, 0x10), Uint8Array.of(0x10, 0x03), Uint8Array.of(0x41), Uint8Array.of(0x41, 0x02, 0x10, 0x10, 0x00),
  Uint8Array.of(0x41, 0x10, 0x02, 0x00, 0x10, 0x10),
];
const TEXT_NOISE = ['\r\nRING\r\n', '\r\nCONNECT 38400\r\n', 'Operating System', '\r\nNO CARRIER\r\n', 'AT&F\r', '\r\nOK\r\n'].map((s) => new TextEncoder().encode(s));

function randomBytes(r: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  r.fill(b);
  return b;
}

function biasedBytes(r: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  r.fill(b);
  for (let i = 0; i < n; i++) if ((b[i] & 3) === 0) b[i] = SPECIAL[b[i] % SPECIAL.length];
  return b;
}

/** A few random byte changes (or bit flips) in a copy. */
function tweak(r: Rng, src: Uint8Array, changes: number): Uint8Array {
  const b = src.slice();
  if (b.length === 0) return b;
  for (let k = 0; k < changes; k++) {
    const at = r.below(b.length);
    b[at] = r.chance(0.5) ? b[at] ^ (1 << r.below(8)) : r.chance(0.5) ? r.pick(SPECIAL) : r.below(256);
  }
  return b;
}

/** Content templates: what each reply carries when the unit is well-behaved. */
interface Templates {
  bySub: Map<number, Uint8Array[]>;
  bodies: Uint8Array[];
  fileChunks: Uint8Array[];
  compliancePages: Uint8Array[];
  callHomeWrite: Uint8Array;
  eventIndexBlock: Uint8Array;
  triggerBlock: Uint8Array;
}

const COMPLIANCE: ComplianceSettings = {
  recording_mode: 'single_shot', sample_rate: 1024, record_time_s: 3, histogram_interval_s: 300, geo_range: 'normal',
  geo_full_scale_ips: 10, trigger_level_ips: 0.5, alarm_level_ips: 1.0, mic_trigger_psi: 0.045, mic_alarm_psi: 0.021,
  project: 'Quarry North Expansion', client: 'Acme Aggregates', operator: 'J. Smith', sensor_location: 'House 14 foundation', notes: 'fuzz',
};

function signal(r: Rng, n: number, kind: number): number[] {
  const out: number[] = [];
  let v = r.int(-2000, 2000);
  for (let i = 0; i < n; i++) {
    if (kind === 0) v += r.int(-3, 3); // quiet: nibble blocks
    else if (kind === 1) v = Math.round(900 * Math.sin(i / 7) * Math.exp(-i / 400)) + r.int(-40, 40); // a blast
    else if (kind === 2) v = r.chance(0.05) ? r.int(-32768, 32767) : v; // jumps beyond 12 bits
    else v = r.int(-32768, 32767); // white noise at full scale
    v = Math.max(-32768, Math.min(32767, v));
    out.push(v);
  }
  return out;
}

function buildTemplates(r: Rng): Templates {
  const bySub = new Map<number, Uint8Array[]>();
  const add = (sub: number, ...blocks: Uint8Array[]): void => void bySub.set(sub, [...(bySub.get(sub) ?? []), ...blocks]);
  add(SUB.POLL, encodePollReply());
  add(SUB.SERIAL_NUMBER, encodeSerialNumber({ serial: 'BE18189', unit_byte: 0x79, firmware_minor: 17 }));
  add(SUB.FULL_CONFIG, encodeFullConfig({ firmware: 'S338.17', dsp_version: '10.72', calibration_date: '2025-01-15' }));
  add(SUB.STORAGE_RANGE, encodeStorageRange({ first: 0x01110000, next: 0x01112400 }), encodeStorageRange({ first: 0x01110000, next: 0x01110000 }));
  const eventIndexBlock = encodeEventIndex({ lifetime_event_count: 5, backlight: 100, power_save: 2 });
  add(SUB.EVENT_INDEX, eventIndexBlock);
  add(SUB.WAVEFORM_HEADER,
    encodeWaveformHeader({ kind: 'full', timestamp: '2026-04-08T01:59:45', record_type: 'waveform', sample_rate: 1024, total_samples: 3072, pretrigger_samples: 256, record_time_s: 3, geo_range: 'normal', serial: 'BE18189' }),
    encodeWaveformHeader({ kind: 'monitor_log', start_time: '2026-04-08T01:00:00', stop_time: '2026-04-08T02:00:00', serial: 'BE18189', trigger_level_ips: 0.5 }),
    encodeWaveformHeader({ kind: 'monitor_log', start_time: '2026-04-03T01:00:00', stop_time: '2026-04-03T02:00:00', serial: 'BE18189', trigger_level_ips: 1.25 }));
  add(SUB.WAVEFORM_RECORD, encodeWaveformRecord({ timestamp: '2026-04-08T01:59:45', record_type: 'waveform', peaks: { tran_ips: 0.12, vert_ips: 0.3, long_ips: 0.05, mic_psi: 0.001, pvs_ips: 0.33 } }));
  const compliance = encodeComplianceConfig(COMPLIANCE);
  add(SUB.COMPLIANCE_CONFIG, compliance, encodeComplianceConfig({ ...COMPLIANCE, recording_mode: 'histogram', sample_rate: 4096, geo_range: 'sensitive' }));
  add(SUB.MONITOR_STATUS, encodeMonitorStatus({ is_monitoring: true, battery_v: 6.8, memory_total: 983026, memory_free: 500000, clock: '2026-04-08T01:59:45' }));
  add(SUB.FIRST_EVENT_KEY, encodeEventKeyReply(0x01110000), encodeEventKeyReply(0));
  add(SUB.NEXT_EVENT_KEY, encodeEventKeyReply(0x0111245a), encodeEventKeyReply(0));
  const callHome = encodeCallHome({
    enabled: true, dial_string: 'ATDT5551234', after_event_recorded: true, at_specified_times: false,
    time1: { enabled: true, hour: 6, minute: 30 }, time2: { enabled: false, hour: 18, minute: 0 },
    num_retries: 3, retry_interval_s: 60, wait_for_connection_s: 45, warm_up_time_s: 10,
  });
  add(SUB.CALL_HOME_CONFIG, callHome);
  const bodies = [0, 1, 2, 3].map((kind) => {
    const n = r.int(40, 400);
    return encodeWaveformBody({ Tran: signal(r, n, kind), Vert: signal(r, n, kind), Long: signal(r, n, kind), MicL: signal(r, n, kind) }, { maxSegmentSamples: r.pick([16, 64, 512]) });
  });
  const fileChunks: Uint8Array[] = [];
  for (const body of bodies) {
    const file = eventMemory(body);
    for (let o = 0; o < file.length; o += 512) fileChunks.push(file.slice(o, o + 512));
  }
  add(SUB.BULK_WAVEFORM,
    eventMemory(r.pick(bodies)).subarray(0, 0x600),
    encodeTextPage({ project: 'Quarry', client: 'Acme', operator: 'JS', sensor_location: 'House 14', notes: null }),
    encodeUnitPage({ serial: 'BE18189', firmware: 'S338.17' }));
  const compliancePages = [0, 0x400, 0x800].map((o) => escapeDeviceBytes(compliance.subarray(o, Math.min(o + 0x400, compliance.length))));
  const triggerBlock = encodeTriggerBlock(COMPLIANCE);
  return { bySub, bodies, fileChunks, compliancePages, callHomeWrite: callHomeWriteData(callHome), eventIndexBlock, triggerBlock };
}

/** An event's memory as a unit holds it (STRT, preamble, body, footer) at key 01110000. */
function eventMemory(body: Uint8Array): Uint8Array {
  return encodeEventMemory(0x01110000, { sample_rate: 1024, total_samples: 3072, record_time_s: 3, pretrigger_samples: 256 }, body);
}

const READ_SUBS = SUB_TABLE.filter((row) => row.style === 'read').map((row) => row.request);
const WRITE_SUBS = SUB_TABLE.filter((row) => row.style === 'write').map((row) => row.request);
const ALL_SUBS = SUB_TABLE.map((row) => row.request);
const DATA_LENGTH = new Map(SUB_TABLE.map((row) => [row.request, typeof row.dataLength === 'number' ? row.dataLength : 0]));

/** The content of a reply to `sub`: a template, a damaged template, or random bytes. */
function replyContent(r: Rng, t: Templates, sub: number): Uint8Array {
  const choice = r.below(10);
  if (sub === SUB.BULK_WAVEFORM && choice < 4) return r.pick(t.fileChunks);
  const templates = t.bySub.get(sub);
  if (templates && choice < 6) return templates[r.below(templates.length)];
  if (templates && choice < 8) return tweak(r, r.pick(templates), r.int(1, 8));
  const n = DATA_LENGTH.get(sub) ?? 0;
  if (choice === 8 && n > 0) return randomBytes(r, n);
  return biasedBytes(r, r.chance(0.5) ? r.int(0, Math.max(16, 2 * n)) : r.int(0, 24));
}

function randomParams(r: Rng): Uint8Array {
  switch (r.below(5)) {
    case 0:
      return new Uint8Array(10);
    case 1:
      return tokenParams();
    case 2:
      return keyParams(randomBytes(r, 4));
    case 3:
      return complianceParams(r.pick([0x00, 0x04, 0x08]));
    default:
      return biasedBytes(r, 10);
  }
}

function randomDeviceFrame(r: Rng, t: Templates): Uint8Array {
  const requestSub = r.chance(0.85) ? r.pick(ALL_SUBS) : r.below(256);
  const sub = 0xff - requestSub;
  const params = randomParams(r);
  let offset = r.chance(0.5) ? (DATA_LENGTH.get(requestSub) ?? 0) & 0xff : r.below(256);
  let content = replyContent(r, t, requestSub);
  if (requestSub === SUB.WAVEFORM_HEADER) {
    // data[0] echoes the length asked for; a probe reply announces the length at data[4].
    if (r.chance(0.3)) {
      params[3] = r.pick([0x46, 0x2c, r.below(256)]);
      offset = 0;
      content = new Uint8Array(0);
    } else {
      offset = content.length === 0x2c ? 0x2c : r.chance(0.8) ? 0x46 : r.below(256);
    }
  }
  const data = concatBytes([echoHeader(offset, params), content]);
  const page = requestSub === SUB.BULK_WAVEFORM ? r.pick([0x1004, 0x0000, BULK_PAGE_TEXT, r.below(0x10000)]) : r.chance(0.9) ? 0 : r.below(0x10000);
  return buildDeviceFrame(sub, data, { page, leadingAck: r.chance(0.5) });
}

function writeData(r: Rng, t: Templates, sub: number): Uint8Array {
  const c = r.below(4);
  if (c === 0) return new Uint8Array(0);
  if (c === 1) {
    const n = r.int(2, 600);
    return biasedBytes(r, n);
  }
  switch (sub) {
    case SUB.EVENT_INDEX_WRITE:
      return escapeDeviceBytes(t.eventIndexBlock);
    case SUB.COMPLIANCE_WRITE:
      return r.pick(t.compliancePages);
    case SUB.CALL_HOME_WRITE:
      return t.callHomeWrite;
    case SUB.TRIGGER_CONFIG_WRITE:
      return t.triggerBlock;
    case SUB.WAVEFORM_DATA_WRITE:
      return escapeDeviceBytes(randomBytes(r, 0xca));
    default:
      return new Uint8Array(0);
  }
}

function randomHostFrame(r: Rng, t: Templates): Uint8Array {
  const style = r.below(4);
  if (style <= 1) {
    const sub = r.chance(0.85) ? r.pick(READ_SUBS) : r.below(256);
    const known = DATA_LENGTH.get(sub) ?? 0;
    const offset = r.pick([0, known, r.below(0x10000), r.below(256), 0x0400]);
    try {
      return buildReadFrame(sub, offset & 0xffff, randomParams(r));
    } catch (e) {
      if (e instanceof RangeError) return new Uint8Array(0); // a SUB only the bulk or write style takes
      throw e;
    }
  }
  if (style === 2) {
    const sub = r.pick(WRITE_SUBS);
    return buildWriteFrame(sub, writeData(r, t, sub), randomParams(r));
  }
  const key = r.chance(0.5) ? 0x0111245a : r.u32();
  switch (r.below(5)) {
    case 0:
      return bulkProbeFrame(key);
    case 1:
      return bulkPageFrame(key, r.chance(0.5) ? BULK_PAGE_TEXT : BULK_PAGE_UNIT);
    case 2:
      return bulkChunkFrame(key, r.int(1, 40));
    case 3:
      return bulkTermFrame(key, r.int(0, 40));
    default:
      return buildBulkFrame(r.pick([0x1004, 0x005a, r.below(0x10000)]), biasedBytes(r, r.int(10, 12)));
  }
}

function randomFrame(r: Rng, t: Templates): Uint8Array {
  return r.chance(0.55) ? randomDeviceFrame(r, t) : randomHostFrame(r, t);
}

/** Between frames: nothing, modem text, a stray 41, a session reset, or a few random bytes. */
function interFrameNoise(r: Rng): Uint8Array {
  switch (r.below(6)) {
    case 0:
    case 1:
      return new Uint8Array(0);
    case 2:
      return r.pick(TEXT_NOISE);
    case 3:
      return Uint8Array.of(0x41);
    case 4:
      return Uint8Array.of(0x41, 0x03);
    default:
      return biasedBytes(r, r.int(1, 12));
  }
}

function validSegment(r: Rng, t: Templates): Uint8Array {
  const parts: Uint8Array[] = [];
  const n = r.int(1, 4);
  for (let k = 0; k < n; k++) {
    parts.push(interFrameNoise(r));
    parts.push(randomFrame(r, t));
  }
  return concatBytes(parts);
}

function mutate(r: Rng, t: Templates, src: Uint8Array): Uint8Array {
  let b = src;
  const n = r.int(1, 4);
  for (let k = 0; k < n; k++) {
    const at = r.below(b.length + 1);
    switch (r.below(7)) {
      case 0: // bit flips
        b = tweak(r, b, r.int(1, 3));
        break;
      case 1: // truncate
        b = b.slice(0, at);
        break;
      case 2: { // drop a middle slice
        const len = r.int(1, 16);
        b = concatBytes([b.subarray(0, at), b.subarray(Math.min(b.length, at + len))]);
        break;
      }
      case 3: // insert a framing byte or pair
        b = concatBytes([b.subarray(0, at), r.pick(MARKERS), b.subarray(at)]);
        break;
      case 4: { // duplicate a slice
        const len = r.int(1, 64);
        b = concatBytes([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
        break;
      }
      case 5: { // splice: our prefix, another frame's suffix
        const other = randomFrame(r, t);
        b = concatBytes([b.subarray(0, at), other.subarray(r.below(other.length + 1))]);
        break;
      }
      default: // replace a byte with a special one
        if (b.length > 0) {
          b = b.slice();
          b[r.below(b.length)] = r.pick(SPECIAL);
        }
    }
  }
  return b;
}

type SegmentKind = 'random' | 'biased' | 'valid' | 'mutated';
const SEGMENT_KINDS: readonly SegmentKind[] = ['random', 'biased', 'valid', 'mutated'];

/** The input stream: segments of each kind, cut into chunks at sizes unrelated to them. */
class InputStream {
  private seg: Uint8Array = new Uint8Array(0);
  private pos = 0;
  readonly segments: Record<SegmentKind, number> = { random: 0, biased: 0, valid: 0, mutated: 0 };
  readonly segmentBytes: Record<SegmentKind, number> = { random: 0, biased: 0, valid: 0, mutated: 0 };

  constructor(private readonly r: Rng, private readonly t: Templates) {}

  private next(): void {
    const r = this.r;
    const roll = r.below(100);
    const kind: SegmentKind = roll < 15 ? 'random' : roll < 25 ? 'biased' : roll < 60 ? 'valid' : 'mutated';
    let seg: Uint8Array;
    if (kind === 'random') seg = randomBytes(r, r.logInt(1, MAX_CHUNK));
    else if (kind === 'biased') seg = biasedBytes(r, r.logInt(1, MAX_CHUNK));
    else if (kind === 'valid') seg = validSegment(r, this.t);
    else seg = mutate(r, this.t, validSegment(r, this.t));
    this.segments[kind]++;
    this.segmentBytes[kind] += seg.length;
    this.seg = seg;
    this.pos = 0;
  }

  /** Fills out[0:n] with the next n bytes. */
  take(out: Uint8Array, n: number): void {
    let o = 0;
    while (o < n) {
      if (this.pos >= this.seg.length) this.next();
      const k = Math.min(n - o, this.seg.length - this.pos);
      out.set(this.seg.subarray(this.pos, this.pos + k), o);
      this.pos += k;
      o += k;
    }
  }
}

function chunkSize(r: Rng): number {
  const c = r.below(4);
  if (c === 0) return r.int(1, 16);
  if (c === 3) return r.int(1, MAX_CHUNK);
  return r.logInt(1, MAX_CHUNK);
}

/** A waveform body: valid, damaged, block soup after the magic, or (rarely) a zero-run bomb. */
function randomBody(r: Rng, t: Templates): Uint8Array {
  switch (r.below(6)) {
    case 0:
      return r.pick(t.bodies);
    case 1:
      return mutate(r, t, r.pick(t.bodies));
    case 2:
      return r.pick(t.bodies).subarray(0, r.below(r.pick(t.bodies).length + 1));
    case 3: { // well-formed tags with random data
      const parts: number[] = [0x00, 0x02, 0x00, r.below(256), r.below(256), r.below(256), r.below(256)];
      const target = r.logInt(8, MAX_CHUNK);
      while (parts.length < target) {
        if (r.chance(0.1)) {
          parts.push(0x40, 0x02);
          for (let k = 0; k < 18; k++) parts.push(r.below(256));
          continue;
        }
        const kind = r.below(4);
        const nn = kind === 0 ? r.below(0x1000) : 4 * r.int(0, kind === 3 ? 63 : 1023);
        const tag = (kind << 4) | (nn >> 8);
        parts.push(tag, nn & 0xff);
        const len = kind === 0 ? 0 : kind === 1 ? nn >> 1 : kind === 2 ? nn : (nn >> 2) * 6;
        for (let k = 0; k < Math.min(len, r.chance(0.8) ? len : r.below(len + 1)); k++) parts.push(r.below(256));
      }
      return Uint8Array.from(parts);
    }
    case 4:
      if (r.chance(0.02)) {
        // 0F FC claims 4092 zero deltas per two bytes: the decoder's sample cap must hold.
        const n = r.pick([4096, 16384, 65536]);
        const b = new Uint8Array(n);
        b.set([0x00, 0x02, 0x00], 0);
        for (let i = 7; i + 1 < n; i += 2) {
          b[i] = 0x0f;
          b[i + 1] = 0xfc;
        }
        return b;
      }
      return concatBytes([Uint8Array.of(0x00, 0x02, 0x00), biasedBytes(r, r.logInt(1, MAX_CHUNK))]);
    default:
      return biasedBytes(r, r.logInt(1, MAX_CHUNK));
  }
}

// ---------------------------------------------------------------------------------------------
// The checks

type Counts = Record<string, number>;
const bump = (c: Counts, k: string, n = 1): void => void (c[k] = (c[k] ?? 0) + n);

interface Example {
  chunk: number;
  where: string;
  what: string;
  input_hex?: string;
}

interface FuzzStats {
  seed: number;
  chunks: number;
  bytes: number;
  segments: Counts;
  segment_bytes: Counts;
  frames: Counts;
  frames_bad_checksum: Counts;
  frames_by_style: Counts;
  parser_errors: Counts;
  noise_bytes: number;
  session_resets: number;
  described: number;
  decoder_calls: number;
  direct_decoder_calls: number;
  /** Codec errors (expected): kind → count, and kind/where → count. */
  errors: Counts;
  errors_by_source: Counts;
  /** Violations: every one fails the run. */
  violations: Counts;
  examples: Example[];
  nonfinite_decoded_numbers: Counts;
  chunking_checks: number;
  samples: { chunks: number; heap_used_mib: number; rss_mib: number; array_buffers_mib: number; live_heap_mib: number | null }[];
  seconds: number;
}

function hexOf(b: Uint8Array, max = 256): string {
  return b.length > max ? `${toHex(b.subarray(0, max))} … (${b.length} bytes)` : toHex(b);
}

/** Recomputes a frame's checksum from its reported fields alone (protocol.md §2.4). */
function recomputedChecksum(f: Frame): number {
  let s = 0;
  if (f.direction === 'device-to-host') {
    s = f.cmd + f.flags + f.sub + (f.page >> 8) + (f.page & 0xff);
    for (const b of f.data) s += b;
    return s & 0xff;
  }
  const hi = f.offset >> 8;
  const lo = f.offset & 0xff;
  if (f.style === 'write') {
    // 0x10 for the CMD, then every byte from the SUB on that is not 0x10 (the zero byte is 0).
    s = 0x10;
    for (const b of [f.sub, 0, hi, lo, ...f.params, ...f.data]) if (b !== 0x10) s += b;
    return s & 0xff;
  }
  s = f.cmd + f.flags + f.sub + 0 + (f.style === 'bulk' && hi === 0x10 ? lo : hi + lo);
  for (const b of f.params) s += b;
  for (const b of f.data) s += b;
  return s & 0xff;
}

function structureProblem(f: Frame): string | null {
  if (f.direction === 'device-to-host') {
    if (f.cmd !== 0x00 || f.flags !== 0x10) return `device frame header ${f.cmd} ${f.flags}`;
    if (!(f.page >= 0 && f.page <= 0xffff)) return `device page ${f.page}`;
    return null;
  }
  if (f.cmd !== 0x10 || f.flags !== 0x00) return `host frame header ${f.cmd} ${f.flags}`;
  if (!(f.offset >= 0 && f.offset <= 0xffff)) return `host offset ${f.offset}`;
  if (f.style === 'bulk') {
    if (f.params.length < 10 || f.params.length > 12 || f.data.length !== 0) return `5A frame with ${f.params.length} params, ${f.data.length} data`;
  } else if (f.params.length !== 10) {
    return `${f.style} frame with ${f.params.length} params`;
  } else if (f.style === 'write' && f.data.length !== writeDataLengthFor(f.offset)) {
    return `write frame offset ${f.offset} with ${f.data.length} data bytes`;
  } else if (f.style === 'read' && f.data.length !== 0) {
    return `read frame with ${f.data.length} data bytes`;
  }
  return null;
}

class Fuzzer {
  readonly stats: FuzzStats;
  chunkIndex = 0;
  /** What is running now, for the watchdog: 0–2 parser, 3 describe, 4 decoders, 5 direct decoder, 6 chunking check. */
  stage = 0;

  constructor(seed: number, private readonly r: Rng, private readonly t: Templates) {
    this.stats = {
      seed, chunks: 0, bytes: 0, segments: {}, segment_bytes: {}, frames: {}, frames_bad_checksum: {}, frames_by_style: {},
      parser_errors: {}, noise_bytes: 0, session_resets: 0, described: 0, decoder_calls: 0, direct_decoder_calls: 0,
      errors: {}, errors_by_source: {}, violations: {}, examples: [], nonfinite_decoded_numbers: {}, chunking_checks: 0, samples: [], seconds: 0,
    };
  }

  violation(kind: string, where: string, what: string, input?: Uint8Array): void {
    bump(this.stats.violations, kind);
    if (this.stats.examples.length < MAX_EXAMPLES) {
      this.stats.examples.push({ chunk: this.chunkIndex, where, what, ...(input ? { input_hex: hexOf(input) } : {}) });
    }
  }

  /** Runs a decoder: codec errors are counted, anything else is a violation. */
  decode(where: string, input: Uint8Array, fn: () => unknown): unknown {
    this.stats.decoder_calls++;
    try {
      const out = fn();
      this.scanNumbers(where, out, 0);
      return out;
    } catch (e) {
      if (e instanceof PayloadError || e instanceof WaveformBodyError) {
        bump(this.stats.errors, e.name);
        bump(this.stats.errors_by_source, `${where}: ${e.name}`);
        return undefined;
      }
      this.violation('unexpected-exception', where, e instanceof Error ? `${e.name}: ${e.message} ${e.stack?.split('\n').slice(1, 4).join(' | ') ?? ''}` : String(e), input);
      return undefined;
    }
  }

  /** Counts NaN/Infinity in decoded values (they become null in JSON): informational. */
  private scanNumbers(where: string, v: unknown, depth: number): void {
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) bump(this.stats.nonfinite_decoded_numbers, where);
    } else if (v && typeof v === 'object' && depth < 4 && !ArrayBuffer.isView(v)) {
      for (const x of Object.values(v)) this.scanNumbers(where, x, depth + 1);
    }
  }

  checkBody(where: string, body: Uint8Array, samplesPerChannel?: number): void {
    const out = this.decode(where, body, () => decodeWaveformBody(body, samplesPerChannel === undefined ? {} : { samplesPerChannel })) as ReturnType<typeof decodeWaveformBody> | undefined;
    if (!out) return;
    for (const [name, ch] of Object.entries(out.channels)) {
      if (samplesPerChannel !== undefined && ch.length > samplesPerChannel) this.violation('body-length', where, `${name} has ${ch.length} > ${samplesPerChannel} samples`, body);
      for (let i = 0; i < ch.length; i++) {
        if (ch[i] < -32768 || ch[i] > 32767) {
          this.violation('body-sample-range', where, `${name}[${i}] = ${ch[i]}`, body);
          break;
        }
      }
    }
  }

  /** The decoders of a frame's SUB, called on its content with no length guard. */
  decodeFrame(f: Frame): void {
    if (f.direction === 'host-to-device') {
      if (f.sub === SUB.BULK_WAVEFORM) this.decode('classifyBulkRequest', f.params, () => classifyBulkRequest(f));
      if (f.style === 'write' && f.data.length > 0) {
        const block = unescapeDeviceBytes(f.data);
        if (f.sub === SUB.EVENT_INDEX_WRITE) this.decode('decodeEventIndex(68)', block, () => decodeEventIndex(block));
        if (f.sub === SUB.COMPLIANCE_WRITE) this.decode('decodeComplianceConfig(71)', block, () => decodeComplianceConfig(block));
        if (f.sub === SUB.CALL_HOME_WRITE) this.decode('decodeCallHome(7E)', block, () => decodeCallHome(block));
      }
      return;
    }
    const c = f.data.subarray(Math.min(11, f.data.length));
    switch (requestSubFor(f.sub)) {
      case SUB.SERIAL_NUMBER:
        this.decode('decodeSerialNumber', c, () => decodeSerialNumber(c));
        break;
      case SUB.FULL_CONFIG:
        this.decode('decodeFullConfig', c, () => decodeFullConfig(c));
        break;
      case SUB.COMPLIANCE_CONFIG:
        this.decode('decodeComplianceConfig', c, () => decodeComplianceConfig(c));
        break;
      case SUB.EVENT_INDEX:
        this.decode('decodeEventIndex', c, () => decodeEventIndex(c));
        break;
      case SUB.STORAGE_RANGE:
        this.decode('decodeStorageRange', c, () => storageRangeView(decodeStorageRange(c), null));
        break;
      case SUB.FIRST_EVENT_KEY:
      case SUB.NEXT_EVENT_KEY:
        this.decode('decodeEventKeyReply', c, () => decodeEventKeyReply(c));
        break;
      case SUB.WAVEFORM_HEADER:
        this.decode('headerLengthFromProbe', f.data, () => headerLengthFromProbe(f.data));
        this.decode('decodeWaveformHeader(46)', c, () => decodeWaveformHeader(c, 0x46));
        this.decode('decodeWaveformHeader(2C)', c, () => decodeWaveformHeader(c, 0x2c));
        break;
      case SUB.WAVEFORM_RECORD:
        this.decode('decodeWaveformRecord', c, () => decodeWaveformRecord(c));
        break;
      case SUB.MONITOR_STATUS:
        this.decode('decodeMonitorStatus', c, () => decodeMonitorStatus(c));
        break;
      case SUB.CALL_HOME_CONFIG:
        this.decode('decodeCallHome', c, () => decodeCallHome(c));
        break;
      case SUB.BULK_WAVEFORM: {
        this.decode('decodeProbeReply', c, () => decodeProbeReply(c));
        this.decode('decodeTextPage', c, () => decodeTextPage(c));
        this.decode('decodeUnitPage', c, () => decodeUnitPage(c));
        const body = this.decode('bodyFromEventMemory', c, () => bodyFromEventMemory(c)) as Uint8Array | undefined;
        this.checkBody('decodeWaveformBody(chunk)', body ?? c);
        break;
      }
      default:
        break;
    }
  }

  handle(parser: string, items: ParsedItem[]): void {
    const s = this.stats;
    for (const item of items) {
      switch (item.kind) {
        case 'noise':
          s.noise_bytes += item.bytes.length;
          break;
        case 'session-reset':
          s.session_resets++;
          break;
        case 'error':
          bump(s.parser_errors, item.reason);
          if (!(item.byteCount >= 0) || typeof item.message !== 'string' || item.message.length === 0) this.violation('parser-error-shape', parser, JSON.stringify(item));
          break;
        case 'frame': {
          const f = item.frame;
          bump(s.frames, parser);
          bump(s.frames_by_style, f.direction === 'device-to-host' ? 'device' : f.style);
          if (!f.checksumOk) bump(s.frames_bad_checksum, parser);
          const expected = recomputedChecksum(f);
          if ((expected === f.checksum) !== f.checksumOk) {
            this.violation('checksum', parser, `checksumOk=${f.checksumOk} but the fields give ${expected} for checksum ${f.checksum}: ${JSON.stringify(describeSafe(f))}`);
          }
          const problem = structureProblem(f);
          if (problem) this.violation('frame-structure', parser, problem);
          if (parser === 'device' && f.direction !== 'device-to-host') this.violation('direction', parser, 'a host frame from the device parser');
          if (parser === 'host' && f.direction !== 'host-to-device') this.violation('direction', parser, 'a device frame from the host parser');
          this.stage = 3;
          try {
            const d = describeFrame(f);
            JSON.stringify(d);
            s.described++;
            if (d.checksum_ok !== f.checksumOk) this.violation('describe', parser, 'checksum_ok differs from the frame');
          } catch (e) {
            this.violation('describe-throws', 'describeFrame', e instanceof Error ? `${e.name}: ${e.message}` : String(e), f.direction === 'device-to-host' ? f.data : f.params);
          }
          this.stage = 4;
          this.decodeFrame(f);
          break;
        }
      }
    }
  }

  /** The same bytes parsed whole and in random pieces give the same items. */
  chunkingCheck(chunk: Uint8Array): void {
    const r = this.r;
    const dir: ParserDirection = r.pick(['device-to-host', 'host-to-device', 'auto'] as const);
    const whole = parseCapture(chunk, dir).map(itemKey);
    const p = new FrameParser(dir);
    const pieces: string[] = [];
    for (let o = 0; o < chunk.length; ) {
      const n = r.chance(0.5) ? 1 : r.int(1, 64);
      pieces.push(...p.push(chunk.subarray(o, o + n)).map(itemKey));
      o += n;
    }
    pieces.push(...p.end().map(itemKey));
    this.stats.chunking_checks++;
    // Noise runs may be reported in different pieces; compare them joined.
    if (joinNoise(whole) !== joinNoise(pieces)) this.violation('chunking', dir, 'parsing in pieces differs from parsing whole', chunk);
  }

  /** One decoder, called directly on random or near-valid bytes. */
  directDecoder(k: number): void {
    const r = this.r;
    const t = this.t;
    this.stats.direct_decoder_calls++;
    const sized = (n: number, template?: Uint8Array): Uint8Array => {
      const c = r.below(6);
      if (template && c === 0) return tweak(r, template, r.int(1, 6));
      if (c === 1) return randomBytes(r, n);
      if (c === 2) return biasedBytes(r, Math.max(0, n - 1));
      if (c === 3) return biasedBytes(r, n + r.int(0, 64));
      return biasedBytes(r, r.logInt(1, MAX_CHUNK + 1) - 1);
    };
    const tpl = (sub: number, i = 0): Uint8Array | undefined => t.bySub.get(sub)?.[i];
    switch (k % 21) {
      case 0: { const b = sized(10, tpl(SUB.SERIAL_NUMBER)); this.decode('direct decodeSerialNumber', b, () => decodeSerialNumber(b)); break; }
      case 1: { const b = sized(0x98, tpl(SUB.FULL_CONFIG)); this.decode('direct decodeFullConfig', b, () => decodeFullConfig(b)); break; }
      case 2: { const b = sized(0x82a, tpl(SUB.COMPLIANCE_CONFIG, r.below(2))); this.decode('direct decodeComplianceConfig', b, () => decodeComplianceConfig(b)); break; }
      case 3: { const b = sized(0x58, tpl(SUB.EVENT_INDEX)); this.decode('direct decodeEventIndex', b, () => decodeEventIndex(b)); break; }
      case 4: { const b = sized(0x24, tpl(SUB.STORAGE_RANGE)); this.decode('direct decodeStorageRange', b, () => storageRangeView(decodeStorageRange(b), null)); break; }
      case 5: { const b = sized(8, tpl(SUB.FIRST_EVENT_KEY)); this.decode('direct decodeEventKeyReply', b, () => decodeEventKeyReply(b)); break; }
      case 6: { const b = sized(0x46, tpl(SUB.WAVEFORM_HEADER, 0)); this.decode('direct decodeWaveformHeader(46)', b, () => decodeWaveformHeader(b, 0x46)); break; }
      case 7: { const b = sized(0x2c, tpl(SUB.WAVEFORM_HEADER, 1)); this.decode('direct decodeWaveformHeader(2C)', b, () => decodeWaveformHeader(b, 0x2c)); break; }
      case 8: { const b = sized(5); this.decode('direct headerLengthFromProbe', b, () => headerLengthFromProbe(b)); break; }
      case 9: { const b = sized(0xd2, tpl(SUB.WAVEFORM_RECORD)); this.decode('direct decodeWaveformRecord', b, () => decodeWaveformRecord(b)); break; }
      case 10: { const b = sized(0x2c, tpl(SUB.MONITOR_STATUS)); this.decode('direct decodeMonitorStatus', b, () => decodeMonitorStatus(b)); break; }
      case 11: { const b = sized(0x7c, tpl(SUB.CALL_HOME_CONFIG)); this.decode('direct decodeCallHome', b, () => decodeCallHome(b)); break; }
      case 12: { const b = sized(27, tpl(SUB.BULK_WAVEFORM, 0)); this.decode('direct decodeProbeReply', b, () => decodeProbeReply(b)); break; }
      case 13: { const b = sized(0x200, tpl(SUB.BULK_WAVEFORM, 1)); this.decode('direct decodeTextPage', b, () => decodeTextPage(b)); break; }
      case 14: { const b = sized(24, tpl(SUB.BULK_WAVEFORM, 2)); this.decode('direct decodeUnitPage', b, () => decodeUnitPage(b)); break; }
      case 15: {
        const body = r.chance(0.5) ? eventMemory(randomBody(r, t)) : sized(60, eventMemory(r.pick(t.bodies)));
        const out = this.decode('direct bodyFromEventMemory', body, () => bodyFromEventMemory(body)) as Uint8Array | undefined;
        if (out) this.checkBody('decodeWaveformBody(file)', out);
        break;
      }
      case 16:
      case 17:
        this.checkBody('direct decodeWaveformBody', randomBody(r, t));
        break;
      case 18:
        this.checkBody('direct decodeWaveformBody(samplesPerChannel)', randomBody(r, t), r.pick([0, 1, 4, 100, 1000, r.below(100000)]));
        break;
      case 19: { const b = sized(0x200, tpl(SUB.COMPLIANCE_CONFIG)); this.decode('direct decodeTextFields', b, () => decodeTextFields(b)); break; }
      default: {
        // Encoded keys and the device's escaping round-trip on any bytes.
        const b = biasedBytes(r, r.logInt(1, 512));
        const back = unescapeDeviceBytes(escapeDeviceBytes(b));
        if (toHex(back) !== toHex(b)) this.violation('escape-roundtrip', 'escapeDeviceBytes', 'unescape(escape(b)) !== b', b);
        const key = keyBytes(r.u32());
        if (key.length !== 4) this.violation('key', 'keyBytes', `length ${key.length}`);
      }
    }
  }
}

function describeSafe(f: Frame): unknown {
  try {
    return describeFrame(f);
  } catch {
    return { sub: f.sub };
  }
}

function itemKey(item: ParsedItem): string {
  switch (item.kind) {
    case 'frame': {
      const f = item.frame;
      return f.direction === 'device-to-host'
        ? `F d ${f.sub} ${f.page} ${toHex(f.data)} ${f.checksum} ${f.checksumOk}`
        : `F h ${f.style} ${f.sub} ${f.offset} ${toHex(f.params)} ${toHex(f.data)} ${f.checksum} ${f.checksumOk}`;
    }
    case 'noise':
      return `N ${toHex(item.bytes)}`;
    case 'session-reset':
      return 'R';
    case 'error':
      return `E ${item.reason}`;
  }
}

/** Item keys with adjacent noise runs merged into one. */
function joinNoise(keys: string[]): string {
  const out: string[] = [];
  for (const k of keys) {
    const last = out[out.length - 1];
    if (k.startsWith('N ') && last?.startsWith('N ')) out[out.length - 1] = `${last} ${k.slice(2)}`;
    else out.push(k);
  }
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Worker: the run itself

interface WorkerInput {
  kind: 'sfm-fuzz';
  seed: number;
  chunks: number;
  /** [chunks done, chunk length, stage] */
  progress: SharedArrayBuffer;
  /** The chunk being parsed (for the watchdog's report). */
  chunk: SharedArrayBuffer;
}

type WorkerMessage = { type: 'sample'; sample: FuzzStats['samples'][number]; seconds: number; bytes: number } | { type: 'done'; stats: FuzzStats };

function memorySample(chunks: number): FuzzStats['samples'][number] {
  const m = process.memoryUsage();
  const gc = (globalThis as { gc?: () => void }).gc;
  let live: number | null = null;
  if (gc) {
    gc();
    live = process.memoryUsage().heapUsed / MiB;
  }
  const round = (x: number) => Math.round(x * 10) / 10;
  return { chunks, heap_used_mib: round(m.heapUsed / MiB), rss_mib: round(m.rss / MiB), array_buffers_mib: round(m.arrayBuffers / MiB), live_heap_mib: live === null ? null : round(live) };
}

function runWorker(input: WorkerInput): void {
  const progress = new Int32Array(input.progress);
  const chunk = new Uint8Array(input.chunk);
  const r = new Rng(input.seed);
  const t = buildTemplates(new Rng(input.seed ^ 0x5eed));
  const fz = new Fuzzer(input.seed, r, t);
  const stream = new InputStream(r, t);
  const parsers: [string, FrameParser][] = [
    ['device', new FrameParser('device-to-host')],
    ['host', new FrameParser('host-to-device')],
    ['auto', new FrameParser('auto')],
  ];
  const s = fz.stats;
  const t0 = performance.now();
  const setStage = (stage: number): void => {
    fz.stage = stage;
    Atomics.store(progress, 2, stage);
  };
  for (let i = 0; i < input.chunks; i++) {
    fz.chunkIndex = i;
    const n = chunkSize(r);
    stream.take(chunk, n);
    const view = chunk.subarray(0, n);
    Atomics.store(progress, 1, n);
    Atomics.store(progress, 0, i + 1);
    s.chunks++;
    s.bytes += n;
    for (let p = 0; p < parsers.length; p++) {
      setStage(p);
      const [name, parser] = parsers[p];
      let items: ParsedItem[];
      try {
        items = parser.push(view);
      } catch (e) {
        fz.violation('parser-throws', name, e instanceof Error ? `${e.name}: ${e.message}` : String(e), view);
        parser.reset();
        continue;
      }
      fz.handle(name, items);
    }
    setStage(5);
    fz.directDecoder(i);
    if (i % CHUNKING_CHECK_EVERY === 0) {
      setStage(6);
      fz.chunkingCheck(view.slice());
    }
    if ((i + 1) % SAMPLE_EVERY === 0) {
      const sample = memorySample(i + 1);
      s.samples.push(sample);
      parentPort!.postMessage({ type: 'sample', sample, seconds: (performance.now() - t0) / 1000, bytes: s.bytes } satisfies WorkerMessage);
    }
  }
  for (const [name, parser] of parsers) fz.handle(name, parser.end());
  if (s.samples.length === 0 || s.samples[s.samples.length - 1].chunks !== s.chunks) s.samples.push(memorySample(s.chunks));
  s.seconds = (performance.now() - t0) / 1000;
  s.segments = { ...stream.segments };
  s.segment_bytes = { ...stream.segmentBytes };
  parentPort!.postMessage({ type: 'done', stats: s } satisfies WorkerMessage);
}

if (!isMainThread && (workerData as WorkerInput | undefined)?.kind === 'sfm-fuzz') runWorker(workerData as WorkerInput);

// ---------------------------------------------------------------------------------------------
// Main thread: seed, watchdog, memory verdict, report

const STAGES = ['device parser', 'host parser', 'auto parser', 'describeFrame', 'frame decoders', 'direct decoder', 'chunking check'];

function parseSeed(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return randomInt(0, 2 ** 32);
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`FUZZ_SEED must be an integer 0–4294967295, got ${JSON.stringify(text)}`);
  return n;
}

function parseChunks(text: string | undefined): number {
  if (text === undefined || text.trim() === '') return DEFAULT_CHUNKS;
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`FUZZ_CHUNKS must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

interface Outcome {
  stats?: FuzzStats;
  hang?: { chunk: number; stage: string; chunk_hex: string };
  worker_error?: string;
}

function runInWorker(seed: number, chunks: number): Promise<Outcome> {
  // A forced GC before each live-heap sample: V8 flags are per process, set before the worker starts.
  v8.setFlagsFromString('--expose-gc');
  const progressBuf = new SharedArrayBuffer(12);
  const chunkBuf = new SharedArrayBuffer(MAX_CHUNK);
  const progress = new Int32Array(progressBuf);
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { kind: 'sfm-fuzz', seed, chunks, progress: progressBuf, chunk: chunkBuf } satisfies WorkerInput,
    // Unbounded growth ends the worker (ERR_WORKER_OUT_OF_MEMORY) instead of the machine.
    resourceLimits: { maxOldGenerationSizeMb: 1024 },
  });
  return new Promise((resolve) => {
    let done = false;
    let last = -1;
    let lastChange = Date.now();
    const finish = (o: Outcome): void => {
      if (done) return;
      done = true;
      clearInterval(watchdog);
      resolve(o);
    };
    const watchdog = setInterval(() => {
      const now = Date.now();
      const at = Atomics.load(progress, 0);
      if (at !== last) {
        last = at;
        lastChange = now;
        return;
      }
      if (now - lastChange < WATCHDOG_MS) return;
      const n = Atomics.load(progress, 1);
      const hang = { chunk: at - 1, stage: STAGES[Atomics.load(progress, 2)] ?? '?', chunk_hex: hexOf(new Uint8Array(chunkBuf).slice(0, n), MAX_CHUNK) };
      process.stderr.write(`fuzz: no progress for ${WATCHDOG_MS / 1000} s at chunk ${hang.chunk} (${hang.stage}); stopping the worker\n`);
      void worker.terminate();
      finish({ hang });
    }, 500);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'sample') {
        const { sample } = m;
        process.stderr.write(
          `fuzz: ${sample.chunks.toLocaleString('en')} chunks, ${(m.bytes / 1e6).toFixed(0)} MB in ${m.seconds.toFixed(1)} s; heap ${sample.heap_used_mib} MiB (live ${sample.live_heap_mib}), rss ${sample.rss_mib} MiB\n`,
        );
      } else {
        finish({ stats: m.stats });
      }
    });
    worker.on('error', (e: Error & { code?: string }) => finish({ worker_error: `${e.code ?? e.name}: ${e.message}` }));
    worker.on('exit', (code) => finish({ worker_error: `worker exited (code ${code}) before reporting` }));
  });
}

export async function runFuzz(): Promise<{ ok: boolean }> {
  const seed = parseSeed(process.env.FUZZ_SEED);
  const chunks = parseChunks(process.env.FUZZ_CHUNKS);
  process.stderr.write(`fuzz: seed ${seed}, ${chunks.toLocaleString('en')} chunks (replay with FUZZ_SEED=${seed})\n`);
  const t0 = performance.now();
  const outcome = await runInWorker(seed, chunks);
  const wall = (performance.now() - t0) / 1000;
  const s = outcome.stats;
  const samples = s?.samples ?? [];
  const peakHeap = Math.max(0, ...samples.map((x) => x.heap_used_mib));
  const peakRss = Math.max(0, ...samples.map((x) => x.rss_mib));
  const lives = samples.map((x) => x.live_heap_mib).filter((x): x is number => x !== null);
  const liveGrowth = lives.length >= 2 ? lives[lives.length - 1] - lives[0] : 0;
  const memoryOk = peakHeap <= HEAP_LIMIT_MIB && liveGrowth <= LIVE_GROWTH_LIMIT_MIB;
  const violations = s ? Object.values(s.violations).reduce((a, b) => a + b, 0) : 0;
  const ok = !!s && s.chunks === chunks && violations === 0 && memoryOk && !outcome.hang && !outcome.worker_error;
  const errorsByKind: Counts = { ...(s?.errors ?? {}), unexpected: s?.violations['unexpected-exception'] ?? 0 };
  const framesFound = s ? Object.values(s.frames).reduce((a, b) => a + b, 0) : 0;
  const badChecksums = s ? Object.values(s.frames_bad_checksum).reduce((a, b) => a + b, 0) : 0;
  const mbps = s ? s.bytes / 1e6 / s.seconds : 0;
  report(
    {
      group: 'fuzz',
      seed,
      chunks: s?.chunks ?? (outcome.hang ? outcome.hang.chunk : 0),
      bytes: s?.bytes ?? 0,
      frames_found: framesFound,
      frames_by_parser: s?.frames ?? {},
      frames_by_style: s?.frames_by_style ?? {},
      frames_bad_checksum: badChecksums,
      frames_bad_checksum_by_parser: s?.frames_bad_checksum ?? {},
      parser_errors: s?.parser_errors ?? {},
      noise_bytes: s?.noise_bytes ?? 0,
      session_resets: s?.session_resets ?? 0,
      segments: s?.segments ?? {},
      described: s?.described ?? 0,
      decoder_calls: s?.decoder_calls ?? 0,
      direct_decoder_calls: s?.direct_decoder_calls ?? 0,
      chunking_checks: s?.chunking_checks ?? 0,
      errors_by_kind: errorsByKind,
      errors_by_source: s?.errors_by_source ?? {},
      nonfinite_decoded_numbers: s?.nonfinite_decoded_numbers ?? {},
      violations: s?.violations ?? {},
      examples: s?.examples ?? [],
      peak_rss_mib: peakRss,
      peak_heap_used_mib: peakHeap,
      max_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
      live_heap_mib: lives,
      live_heap_growth_mib: Math.round(liveGrowth * 10) / 10,
      heap_limit_mib: HEAP_LIMIT_MIB,
      mb_per_s: +mbps.toFixed(2),
      seconds: +(s?.seconds ?? wall).toFixed(1),
      ...(outcome.hang ? { hang: outcome.hang } : {}),
      ...(outcome.worker_error ? { worker_error: outcome.worker_error } : {}),
      ok,
    },
    [
      ['fuzz', 'value'],
      ['seed', String(seed)],
      ['chunks', (s?.chunks ?? 0).toLocaleString('en')],
      ['bytes', (s?.bytes ?? 0).toLocaleString('en')],
      ['frames found (3 parsers)', framesFound.toLocaleString('en')],
      ['  with a bad checksum', badChecksums.toLocaleString('en')],
      ['decoder calls', (s?.decoder_calls ?? 0).toLocaleString('en')],
      ['PayloadError / WaveformBodyError', `${errorsByKind.PayloadError ?? 0} / ${errorsByKind.WaveformBodyError ?? 0}`],
      ['violations', String(violations)],
      ['peak heap / rss (MiB)', `${peakHeap} / ${peakRss}`],
      ['live heap growth (MiB)', liveGrowth.toFixed(1)],
      ['MB/s', mbps.toFixed(2)],
      ['seconds', (s?.seconds ?? wall).toFixed(1)],
      ['result', ok ? 'ok' : `FAILED${outcome.hang ? ' (hang)' : ''}${outcome.worker_error ? ` (${outcome.worker_error})` : ''}`],
    ],
  );
  return { ok };
}
