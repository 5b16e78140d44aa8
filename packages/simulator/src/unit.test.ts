import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FIRST_KEY, bodyFromEventMemory, decodeProbeReply, decodeWaveformBody, endOffsetFor, geoUnitsToIps, keyFromHex, micCountsToPsi } from '@sfm/core/protocol';
import { computePeaks, synthesizeEvent } from './signals.js';
import { SimulatedUnit, UnitMemoryFull } from './unit.js';

const T0 = new Date('2026-04-08T01:59:45Z');

function fullRecords(unit: SimulatedUnit) {
  return unit.storedRecords.flatMap((r) => (r.kind === 'full' ? [r] : []));
}

describe('SimulatedUnit', () => {
  it('starts with the documented identity, settings and five events', () => {
    const unit = new SimulatedUnit({ now: () => T0 });
    expect(unit.serial).toBe('BE18189');
    expect(unit.firmwareMinor).toBe(17);
    expect(unit.compliance).toMatchObject({ recording_mode: 'single_shot', sample_rate: 1024, record_time_s: 3, histogram_interval_s: 300, project: 'Quarry North Expansion', notes: '' });
    expect(unit.callHome.num_retries).toBe(3);
    expect(unit.isMonitoring).toBe(false);
    const events = unit.events;
    expect(events).toHaveLength(5);
    expect(events[0]!.key).toBe('01110000');
    for (const [i, e] of events.entries()) {
      expect(e).toMatchObject({ index: i, record_type: 'waveform', sample_rate: 1024, record_time_s: 3, total_samples: 3072, pretrigger_samples: 256 });
      expect(e.timestamp! < '2026-04-08T01:59:45').toBe(true);
      if (i > 0) expect(e.timestamp! > events[i - 1]!.timestamp!).toBe(true);
    }
    expect(unit.batteryV).toBe(6.75);
    expect(unit.memoryFree).toBe(983026 - (unit.storageRange.next - FIRST_KEY));
  });

  it('lays records out from 01110000: each next key is the previous end rounded up to 0x200', () => {
    const unit = new SimulatedUnit({ now: () => T0, events: 6, includeMonitorLog: true });
    const recs = unit.storedRecords;
    expect(recs.map((r) => r.kind)).toEqual(['full', 'full', 'full', 'full', 'full', 'monitor_log', 'full']);
    let key = FIRST_KEY;
    for (const r of recs) {
      expect(r.key).toBe(key);
      expect(r.key % 0x200).toBe(0);
      const end = r.key + (r.kind === 'full' ? r.memory.length : 0x200);
      if (r.kind === 'full') {
        expect(r.endOffset).toBe(endOffsetFor(r.key, r.memory.length));
        expect(decodeProbeReply(r.memory).end_offset).toBe(r.endOffset);
      }
      key = Math.ceil(end / 0x200) * 0x200;
      expect(r.nextKey).toBe(key);
    }
    expect(unit.storageRange).toEqual({ first: FIRST_KEY, next: key });
    const log = unit.events[5]!;
    expect(log).toMatchObject({ record_type: 'monitor_log', sample_rate: null, peaks: { pvs_ips: null } });
    expect(log.timestamp! > unit.events[4]!.timestamp!).toBe(true);
  });

  it('records an event of a given size: the STRT end_offset asked for, the same samples', () => {
    const plain = new SimulatedUnit({ now: () => T0, events: 1 });
    const sized = new SimulatedUnit({ now: () => T0, events: 0 });
    sized.recordEvent({ at: new Date(plain.events[0]!.timestamp + 'Z'), endOffset: 0x21f2 });
    const [a] = fullRecords(plain);
    const [b] = fullRecords(sized);
    expect(b!.endOffset).toBe(0x21f2);
    expect(b!.memory.length).toBe(0x21f2);
    expect(decodeProbeReply(b!.memory).end_offset).toBe(0x21f2);
    expect(decodeWaveformBody(bodyFromEventMemory(b!.memory), { samplesPerChannel: b!.totalSamples }).channels).toEqual(decodeWaveformBody(bodyFromEventMemory(a!.memory), { samplesPerChannel: a!.totalSamples }).channels);
    expect(() => new SimulatedUnit({ now: () => T0, events: 0 }).recordEvent({ endOffset: 0x800 })).toThrow(/needs an end_offset of at least/);
    expect(() => new SimulatedUnit({ now: () => T0, events: 0 }).recordEvent({ endOffset: 0x21f3 })).toThrow(RangeError);
  });

  it('is deterministic from its seed', () => {
    const a = new SimulatedUnit({ now: () => T0, seed: 7, events: 2 });
    const b = new SimulatedUnit({ now: () => T0, seed: 7, events: 2 });
    const c = new SimulatedUnit({ now: () => T0, seed: 8, events: 2 });
    expect(a.events).toEqual(b.events);
    expect(fullRecords(a)[1]!.memory).toEqual(fullRecords(b)[1]!.memory);
    expect(fullRecords(a)[1]!.memory).not.toEqual(fullRecords(c)[1]!.memory);
  });

  it('recordEvent changes the storage range, memory free and battery; erase resets keys and memory', () => {
    const unit = new SimulatedUnit({ now: () => T0, events: 1 });
    const before = { range: unit.storageRange, free: unit.memoryFree, battery: unit.batteryV };
    const e = unit.recordEvent();
    expect(e).toMatchObject({ index: 1, timestamp: '2026-04-08T01:59:45', key: before.range.next.toString(16).padStart(8, '0').toUpperCase() });
    expect(unit.storageRange.first).toBe(before.range.first);
    expect(unit.storageRange.next).toBeGreaterThan(before.range.next);
    expect(unit.memoryFree).toBe(before.free - (unit.storageRange.next - before.range.next));
    expect(unit.batteryV).toBeCloseTo(before.battery - 0.01, 10);
    expect(unit.monitorStatus).toMatchObject({ battery_v: unit.batteryV, memory_free: unit.memoryFree, memory_total: 983026 });
    unit.erase();
    expect(unit.events).toEqual([]);
    expect(unit.storageRange).toEqual({ first: FIRST_KEY, next: FIRST_KEY });
    expect(unit.memoryFree).toBe(983026);
    expect(unit.recordEvent().key).toBe('01110000');
  });

  it('the battery never goes below 5.90 V', () => {
    const unit = new SimulatedUnit({ now: () => T0, events: 0, recordTimeS: 0.25 });
    for (let i = 0; i < 95; i++) unit.recordEvent();
    expect(unit.batteryV).toBe(5.9);
  });

  it('refuses to record when memory would overflow, and changes nothing', () => {
    const unit = new SimulatedUnit({ now: () => T0, events: 2, memoryTotal: 20_000 });
    const range = unit.storageRange;
    expect(() => unit.recordEvent()).toThrow(UnitMemoryFull);
    expect(() => unit.recordEvent()).toThrow(/memory full/);
    expect(unit.storageRange).toEqual(range);
    expect(unit.events).toHaveLength(2);
  });

  it('summaries match the stored samples: peaks in physical units and the vector sum', () => {
    const unit = new SimulatedUnit({ now: () => T0, events: 3 });
    for (const r of fullRecords(unit)) {
      const decoded = decodeWaveformBody(bodyFromEventMemory(r.memory), { samplesPerChannel: r.totalSamples });
      expect(Array.from(decoded.channels.Tran)).toEqual(Array.from(r.channels.Tran));
      const max = (a: Int16Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(r.peaks.tran_ips).toBeCloseTo(geoUnitsToIps(max(r.channels.Tran), 'normal'), 5);
      expect(r.peaks.mic_psi).toBeCloseTo(micCountsToPsi(max(r.channels.MicL)), 8);
      expect(r.peaks.pvs_ips!).toBeGreaterThanOrEqual(Math.max(r.peaks.tran_ips!, r.peaks.vert_ips!, r.peaks.long_ips!) - 1e-6);
      expect(unit.events.find((e) => keyFromHex(e.key) === r.key)!.peaks).toEqual(r.peaks);
    }
  });
});

describe('synthetic signals', () => {
  it('pre-trigger noise of a few units, a 0.05–2 in/s burst after the trigger, an air-blast pulse tens of ms later', () => {
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom(1024, 2048), fc.constantFrom('normal', 'sensitive' as const), (seed, rate, range) => {
        const n = rate * 2;
        const pre = rate / 4;
        const ch = synthesizeEvent({ sampleRate: rate, totalSamples: n, pretriggerSamples: pre, geoRange: range, seed });
        const maxAbs = (a: Int16Array, from = 0, to = a.length) => {
          let m = 0;
          for (let i = from; i < to; i++) m = Math.max(m, Math.abs(a[i]!));
          return m;
        };
        for (const name of ['Tran', 'Vert', 'Long', 'MicL'] as const) {
          expect(ch[name].length).toBe(n);
          expect(maxAbs(ch[name], 0, pre)).toBeLessThanOrEqual(8);
        }
        const peaks = computePeaks(ch, range);
        const loudest = Math.max(peaks.tran_ips!, peaks.vert_ips!, peaks.long_ips!);
        expect(loudest).toBeGreaterThanOrEqual(0.045);
        expect(loudest).toBeLessThanOrEqual(range === 'normal' ? 2.05 : 1.15);
        // The microphone stays near its noise floor for the first 20 ms after the trigger.
        expect(maxAbs(ch.MicL, pre, pre + Math.floor(rate * 0.019))).toBeLessThanOrEqual(8);
        expect(peaks.mic_psi!).toBeGreaterThan(0.0015);
      }),
      { numRuns: 25 },
    );
  });
});
