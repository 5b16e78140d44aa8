import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../errors.js';
import { checkComplianceChanges } from '../schema/requests.js';
import fc from 'fast-check';
import { parseHex, toHex, f32be } from './bytes.js';
import { sum8 } from './checksum.js';
import { loadGolden } from '@sfm/test-support';
import { parseCapture } from './frame-parser.js';
import { buildDeviceFrame, echoHeader, params, responseContent, type DeviceFrame } from './frames.js';
import { decodeMonitorStatus, encodeMonitorStatus } from './monitor-status.js';
import { decodeSerialNumber, encodeSerialNumber } from './serial-number.js';
import { decodeFullConfig, encodeFullConfig } from './full-config.js';
import {
  decodeComplianceConfig, encodeComplianceConfig, patchComplianceConfig, type ComplianceSettings,
} from './compliance-config.js';
import { decodeEventIndex, encodeEventIndex } from './event-index.js';
import { decodeStorageRange, encodeStorageRange, storageRangeView } from './storage-range.js';
import { decodeEventKeyReply, encodeEventKeyReply, keyFromHex, keyToHex } from './event-key.js';
import { decodeWaveformHeader, encodeWaveformHeader, headerLengthFromProbe, type WaveformHeader } from './waveform-header.js';
import { decodeWaveformRecord, encodeWaveformRecord, type WaveformRecord } from './waveform-record.js';
import { callHomeWriteData, decodeCallHome, encodeCallHome } from './call-home.js';
import {
  EVENT_MEMORY_OVERHEAD, bodyFromEventMemory, bulkChunkFrame, bulkPageFrame, bulkPlan, bulkProbeFrame, bulkTermFrame,
  classifyBulkRequest, decodeProbeReply, decodeTextPage, decodeUnitPage, encodeEventMemory, encodeTextPage, encodeUnitPage,
} from './bulk-stream.js';
import { decodeTimestamp, encodeTimestamp } from './timestamp.js';
import { describeFrame } from './describe.js';
import { PayloadError } from './errors.js';
import type { CallHomeConfig, MonitorStatus, ProjectText } from '../model.js';
import type { HostFrame } from './frames.js';

const golden = loadGolden();

// Arbitraries ---------------------------------------------------------------------------------
const iso = fc
  .record({ y: fc.integer({ min: 1995, max: 2099 }), mo: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 28 }), h: fc.integer({ min: 0, max: 23 }), mi: fc.integer({ min: 0, max: 59 }), s: fc.integer({ min: 0, max: 59 }) })
  .map(({ y, mo, d, h, mi, s }) => `${y}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}T${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}:${String(s).padStart(2, '0')}`);
const ascii = (max: number) => fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: max }).map((s) => s.replace(/\s+$/, ''));
/** Values as a person types them (≤ 4 significant digits), which survive float32 storage exactly. */
const typed = (min: number, max: number, step: number) => fc.integer({ min: Math.ceil(min / step), max: Math.floor(max / step) }).map((n) => Number((n * step).toPrecision(6)));
const u8 = fc.integer({ min: 0, max: 255 });
const projectText: fc.Arbitrary<ProjectText> = fc.record({ project: ascii(40), client: ascii(40), operator: ascii(32), sensor_location: ascii(40), notes: ascii(128) });

const complianceSettings: fc.Arbitrary<ComplianceSettings> = fc
  .record({
    recording_mode: fc.constantFrom('single_shot', 'continuous', 'histogram', 'histogram_continuous' as const),
    sample_rate: fc.constantFrom(1024, 2048, 4096),
    record_time_s: typed(1, 100, 0.5),
    histogram_interval_s: fc.integer({ min: 1, max: 65535 }),
    geo_range: fc.constantFrom('normal', 'sensitive' as const),
    trigger_level_ips: typed(0.005, 10, 0.005),
    alarm_level_ips: typed(0.005, 10, 0.005),
    mic_trigger_psi: typed(0.0001, 1.2, 0.0001),
    mic_alarm_psi: typed(0.0001, 1.2, 0.0001),
  })
  .chain((r) => projectText.map((t) => ({ ...r, ...t, geo_full_scale_ips: r.geo_range === 'normal' ? 10 : 1.25 }) as ComplianceSettings));

// ---------------------------------------------------------------------------------------------

describe('captured frames decode to the documented values', () => {
  it('serial number BE18189, firmware minor 17 (captured)', () => {
    const g = golden.frames.find((f) => f.provenance.startsWith('captured'))!;
    const f = (parseCapture(parseHex(g.wire), 'device-to-host')[0] as { frame: DeviceFrame }).frame;
    expect(decodeSerialNumber(responseContent(f))).toMatchObject(g.expect.decoded!);
    expect(describeFrame(f).decoded).toEqual(g.expect.decoded);
  });

  it('monitor status (protocol.md §14.1, 2026-04-08 idle capture): checksum 0xEF and the documented fields', () => {
    const section = parseHex('00 00 08 04 07 EA 00 01 3B 2D 00 00 00 00 00 00 01 01 07 CB 00 06 00 00 01 01 07 CB 00 15 00 00 00 00 02 A8 00 0E FF F2 00 0E 9E 52');
    const data = Uint8Array.from([0x2c, ...new Uint8Array(10), ...section]);
    const payload = [0x00, 0x10, 0xe3, 0x00, 0x00, ...data];
    expect(sum8(payload)).toBe(0xef);
    const wire = buildDeviceFrame(0xe3, data);
    expect(wire[wire.length - 2]).toBe(0xef);
    // The battery 0x02A8 and month 0x04 come out escaped, as the capture shows (`10 02 a8`).
    expect(toHex(wire)).toContain('10 02 A8');
    const f = (parseCapture(wire, 'device-to-host')[0] as { frame: DeviceFrame }).frame;
    expect(describeFrame(f).decoded).toEqual({ is_monitoring: false, battery_v: 6.8, memory_total: 983026, memory_free: 958034, clock: '2026-04-08T01:59:45' });
    expect(toHex(encodeMonitorStatus(decodeMonitorStatus(section)))).toBe(toHex(section));
  });

  it('float32 vectors of the trigger/alarm/range fields', () => {
    for (const [v, hex] of Object.entries(golden.float32_be)) expect(f32be(parseHex(hex), 0)).toBeCloseTo(Number(v), 6);
  });
});

describe('encode ∘ decode is the identity for every payload type', () => {
  it('timestamp', () => fc.assert(fc.property(iso, (t) => { const b = new Uint8Array(8); encodeTimestamp(t, b, 0); expect(decodeTimestamp(b, 0)).toBe(t); })));
  it('serial number', () => fc.assert(fc.property(fc.record({ serial: ascii(8).filter((s) => s.length > 0 && !s.includes('\0')), firmware_minor: u8, unit_byte: u8 }), (s) => void expect(decodeSerialNumber(encodeSerialNumber(s))).toEqual(s))));
  it('full config', () => fc.assert(fc.property(fc.record({ firmware: ascii(16).map((s) => s || null), dsp_version: ascii(8).map((s) => s || null), calibration_date: fc.option(iso.map((t) => t.slice(0, 10)), { nil: null }) }), (c) => void expect(decodeFullConfig(encodeFullConfig(c))).toEqual(c))));
  it('compliance config', () => fc.assert(fc.property(complianceSettings, (s) => void expect(decodeComplianceConfig(encodeComplianceConfig(s))).toEqual(s))));
  it('event index', () => fc.assert(fc.property(fc.record({ lifetime_event_count: fc.integer({ min: 0, max: 0xffffffff }), backlight: u8, power_save: u8 }), (x) => void expect(decodeEventIndex(encodeEventIndex(x))).toEqual(x))));
  it('storage range', () => fc.assert(fc.property(fc.record({ first: fc.integer({ min: 0, max: 0xffffffff }), next: fc.integer({ min: 0, max: 0xffffffff }) }), (x) => void expect(decodeStorageRange(encodeStorageRange(x))).toEqual(x))));
  it('event key replies and key text', () => fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (k) => { expect(decodeEventKeyReply(encodeEventKeyReply(k))).toBe(k); expect(keyFromHex(keyToHex(k))).toBe(k); })));
  it('monitor status', () => fc.assert(fc.property(fc.record({ is_monitoring: fc.boolean(), battery_v: fc.integer({ min: 0, max: 65535 }).map((n) => n / 100), memory_total: fc.integer({ min: 0, max: 0xffffffff }), memory_free: fc.integer({ min: 0, max: 0xffffffff }), clock: fc.option(iso, { nil: null }) }), (s: MonitorStatus) => void expect(decodeMonitorStatus(encodeMonitorStatus(s))).toEqual(s))));
  it('waveform header, full and monitor-log', () => {
    const full = fc.record({ kind: fc.constant('full' as const), timestamp: fc.option(iso, { nil: null }), record_type: fc.constantFrom('waveform', 'histogram' as const), sample_rate: fc.constantFrom(1024, 2048, 4096), total_samples: fc.integer({ min: 0, max: 0xffffffff }), pretrigger_samples: fc.integer({ min: 0, max: 0xffffffff }), record_time_s: typed(0.5, 100, 0.5), geo_range: fc.constantFrom('normal', 'sensitive' as const), serial: ascii(8) });
    const serial = fc.option(fc.stringMatching(/^BE[0-9]{1,6}$/), { nil: null });
    const log = fc.record({ kind: fc.constant('monitor_log' as const), start_time: fc.option(iso, { nil: null }), stop_time: fc.option(iso, { nil: null }), serial, trigger_level_ips: fc.option(typed(0.005, 10, 0.005), { nil: null }) });
    fc.assert(fc.property(fc.oneof(full, log), (h: WaveformHeader) => void expect(decodeWaveformHeader(encodeWaveformHeader(h), h.kind === 'full' ? 0x46 : 0x2c)).toEqual(h)));
  });
  it('waveform record (0C)', () => {
    const peak = fc.option(typed(0, 10, 0.0005), { nil: null });
    fc.assert(fc.property(fc.record({ timestamp: fc.option(iso, { nil: null }), record_type: fc.constantFrom('waveform', 'histogram' as const), peaks: fc.record({ tran_ips: peak, vert_ips: peak, long_ips: peak, mic_psi: peak, pvs_ips: peak }) }), (r: WaveformRecord) => void expect(decodeWaveformRecord(encodeWaveformRecord(r))).toEqual(r)));
  });
  it('call-home config, and its write data is the wire form plus 00 00', () => {
    const time = fc.record({ enabled: fc.boolean(), hour: fc.integer({ min: 0, max: 23 }), minute: fc.integer({ min: 0, max: 59 }) });
    const cfg = fc.record({ enabled: fc.boolean(), dial_string: ascii(40), after_event_recorded: fc.boolean(), at_specified_times: fc.boolean(), time1: time, time2: time, num_retries: u8, retry_interval_s: u8, wait_for_connection_s: u8, warm_up_time_s: u8 });
    fc.assert(fc.property(cfg, (c: CallHomeConfig) => void expect(decodeCallHome(encodeCallHome(c))).toEqual(c)));
    const block = encodeCallHome({ enabled: true, dial_string: '', after_event_recorded: true, at_specified_times: false, time1: { enabled: false, hour: 0, minute: 0 }, time2: { enabled: false, hour: 0, minute: 0 }, num_retries: 3, retry_interval_s: 60, wait_for_connection_s: 30, warm_up_time_s: 10 });
    const write = callHomeWriteData(block);
    // num_retries 3 travels as `10 03`: 124 logical bytes become 125 on the wire, 127 with the trailer (offset 0x7E).
    expect(write.length).toBe(127);
  });
  it('5A event memory (its STRT record is the probe reply\'s start), text page, unit page', () => {
    const strt = fc.record({ sample_rate: fc.constantFrom(1024, 2048, 4096), total_samples: fc.integer({ min: 0, max: 65535 }), record_time_s: fc.integer({ min: 0, max: 600 }), pretrigger_samples: fc.integer({ min: 0, max: 65535 }) });
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), strt, fc.uint8Array({ maxLength: 3000 }), (key, s, body) => {
      const memory = encodeEventMemory(key, s, body);
      expect(decodeProbeReply(memory.subarray(0, 0x600))).toEqual({ ...s, end_offset: (key & 0xffff) + EVENT_MEMORY_OVERHEAD + body.length });
      expect(toHex(bodyFromEventMemory(memory))).toBe(toHex(body));
    }));
    fc.assert(fc.property(projectText, (t) => void expect(decodeTextPage(encodeTextPage(t))).toEqual(t)));
    fc.assert(fc.property(fc.record({ serial: ascii(8), firmware: ascii(16) }), (u) => void expect(decodeUnitPage(encodeUnitPage(u))).toEqual(u)));
  });
});

describe('compliance config: partial writes change only the named fields', () => {
  it('patched fields read back changed, everything else byte-identical', () => {
    fc.assert(
      fc.property(complianceSettings, complianceSettings, fc.subarray(['recording_mode', 'sample_rate', 'record_time_s', 'histogram_interval_s', 'geo_range', 'trigger_level_ips', 'alarm_level_ips', 'mic_trigger_psi', 'mic_alarm_psi', 'project', 'client', 'operator', 'sensor_location', 'notes'] as const), (base, target, fields) => {
        const raw = encodeComplianceConfig(base);
        const changes = Object.fromEntries(fields.map((f) => [f, target[f]]));
        const patched = patchComplianceConfig(raw, changes);
        const expected = { ...base, ...changes };
        expected.geo_full_scale_ips = expected.geo_range === 'normal' ? 10 : 1.25;
        expect(decodeComplianceConfig(patched)).toEqual(expected);
        if (fields.length === 0) expect(toHex(patched)).toBe(toHex(raw));
        expect(patched).not.toBe(raw);
      }),
    );
  });

  it('never touches the hardware constant 6.206053 or the 0x10 before the sample rate', () => {
    const s = fc.sample(complianceSettings, 1)[0]!;
    const raw = encodeComplianceConfig(s);
    const patched = patchComplianceConfig(raw, { trigger_level_ips: 0.5, geo_range: 'sensitive', sample_rate: 4096 });
    const diff = [...raw].flatMap((b, i) => (b !== patched[i] ? [i] : []));
    const tranLabel = 0x80 + 26;
    expect(diff).not.toContain(tranLabel + 28);
    expect(f32be(patched, tranLabel + 28)).toBeCloseTo(6.206053, 5);
  });

  it('bad values are refused with the field and the reason', () => {
    const check = (v: unknown) => () => checkComplianceChanges(v, '');
    expect(check({ sample_rate: 1000 })).toThrow(/sample_rate: must be one of 1024, 2048, 4096/);
    expect(check({ trigger_level_ips: -1 })).toThrow(/trigger_level_ips: must be a number from 0.005 to 10, got -1/);
    expect(check({ trigger_level_ips: '0.5' })).toThrow(/trigger_level_ips/);
    expect(check({ colour: 'red' })).toThrow(/colour: not a known field/);
    expect(check({ project: 'Été' })).toThrow(/project: must be printable ASCII/);
    expect(check({ project: 'x'.repeat(41) })).toThrow(/project: must be at most 40 characters long, got 41/);
    // Text the unit's own block has less room for is refused while the block is built.
    const raw = encodeComplianceConfig(fc.sample(complianceSettings, 1)[0]!);
    expect(() => patchComplianceConfig(raw, { project: 'é' })).toThrow(InvalidInput);
  });

  it('a block without the anchor or labels decodes to nulls, never invented values', () => {
    const cfg = decodeComplianceConfig(new Uint8Array(2090));
    expect(Object.values(cfg).every((v) => v === null)).toBe(true);
    expect(() => patchComplianceConfig(new Uint8Array(2090), { sample_rate: 1024 })).toThrow(PayloadError);
  });

  it('the label search skips "Tran2"', () => {
    const s = fc.sample(complianceSettings, 1)[0]!;
    const raw = encodeComplianceConfig(s);
    const withDecoy = raw.slice();
    withDecoy.set(new TextEncoder().encode('Tran2'), 0x30 + 26); // a decoy before the real block
    expect(decodeComplianceConfig(withDecoy).trigger_level_ips).toBe(s.trigger_level_ips);
  });
});

describe('decoders reject short or foreign content with PayloadError', () => {
  const decoders: [string, (b: Uint8Array) => unknown][] = [
    ['serial', decodeSerialNumber], ['full config', decodeFullConfig], ['event index', decodeEventIndex],
    ['storage range', decodeStorageRange], ['monitor status', decodeMonitorStatus], ['call home', decodeCallHome],
    ['waveform record', decodeWaveformRecord], ['probe reply', decodeProbeReply], ['unit page', decodeUnitPage],
    ['header', (b) => decodeWaveformHeader(b, 0x46)], ['event memory', bodyFromEventMemory],
  ];
  for (const [name, decode] of decoders) {
    it(`${name}: random bytes decode or throw PayloadError, nothing else`, () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        try {
          decode(b);
        } catch (e) {
          expect(e).toBeInstanceOf(PayloadError);
        }
      }), { numRuns: 200 });
    });
  }
  it('compliance: random bytes never throw', () => fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 3000 }), (b) => { decodeComplianceConfig(b); })));
  it('0A probe length must be 0x46 or 0x2C', () => {
    expect(headerLengthFromProbe(Uint8Array.of(0, 0, 0, 0, 0x46))).toBe(0x46);
    expect(() => headerLengthFromProbe(Uint8Array.of(0, 0, 0, 0, 0x30))).toThrow(/0x30/);
  });
});

describe('5A request frames', () => {
  const parse = (w: Uint8Array) => (parseCapture(w, 'host-to-device')[0] as { frame: HostFrame }).frame;
  it('probe matches the golden vectors: its counter is the event\'s start offset itself', () => {
    for (const key of [0x01110000, 0x0111245a]) {
      const g = golden.frames.find((f) => f.name.includes(`5A probe, key ${keyToHex(key)}`))!;
      expect(toHex(bulkProbeFrame(key))).toBe(g.wire);
    }
  });
  it('pages, chunks and TERM classify as what they ask for; a counter 0x1000 goes out stuffed', () => {
    const key = 0x0111_0000;
    expect(classifyBulkRequest(parse(bulkPageFrame(key, 0x1002)))).toEqual({ kind: 'page', keyHigh: 0x0111, page: 0x1002 });
    expect(toHex(bulkChunkFrame(key, 0x1000))).toContain('01 11 10 10 00');
    expect(classifyBulkRequest(parse(bulkChunkFrame(key, 0x1000)))).toEqual({ kind: 'chunk', keyHigh: 0x0111, counter: 0x1000 });
    expect(classifyBulkRequest(parse(bulkTermFrame(key, 0x2000)))).toEqual({ kind: 'term', keyHigh: 0x0111, counter: 0x2000 });
  });
  it('the plan: the probe carries the first 0x600 bytes, whole chunks of 0x200 follow, TERM the residual (protocol.md §24)', () => {
    // The captured 3-s event: 13 chunks 0x0600 … 0x1E00, TERM for 0x2000 … 0x21F2.
    const plan = bulkPlan(0x01110000, 0x21f2);
    expect(plan).toMatchObject({ start: 0, end: 0x21f2, length: 0x21f2, probeLength: 0x600, termCounter: 0x2000, residualLength: 0x1f2 });
    expect(plan.chunkCounters).toEqual(Array.from({ length: 13 }, (_, i) => 0x0600 + i * 0x200));
    // Another event starts at its own offset; an aligned end leaves no residual; counters wrap.
    expect(bulkPlan(0x0111245a, 0x245a + 0x800)).toMatchObject({ chunkCounters: [0x2a5a], termCounter: 0x2c5a, residualLength: 0 });
    expect(bulkPlan(0x0111fe00, 0xfe00 + 0xa00).chunkCounters).toEqual([0x0400, 0x0600]);
    // Short events: the probe carries them whole.
    expect(bulkPlan(0x01110000, 0x400)).toMatchObject({ probeLength: 0x400, chunkCounters: [], termCounter: 0x600, residualLength: 0 });
    expect(() => bulkPlan(0x01110000, 0x10)).toThrow(PayloadError);
    expect(() => bulkPlan(0x01112000, 0x1000)).toThrow(/leaves no room/);
  });
  it('a response echoes the request offset byte and params', () => {
    expect(toHex(echoHeader(0x2c, params()))).toBe('2C 00 00 00 00 00 00 00 00 00 00');
  });
  it('storage range view: SUB 06 gives the first and the next key; the last key is the caller\'s, null when empty', () => {
    expect(storageRangeView({ first: 0x01110000, next: 0x01110000 }, null)).toEqual({ first_key: '01110000', last_key: null, next_key: '01110000', is_empty: true });
    expect(storageRangeView({ first: 0x01110000, next: 0x01110000 }, 0x01110000)).toMatchObject({ last_key: null, is_empty: true });
    expect(storageRangeView({ first: 0x01110000, next: 0x01119600 }, 0x01117800)).toEqual({ first_key: '01110000', last_key: '01117800', next_key: '01119600', is_empty: false });
    expect(storageRangeView({ first: 0x01110000, next: 0x01119600 }, null)).toMatchObject({ last_key: null, is_empty: false });
  });
});
