import { describe, expect, it } from 'vitest';
import { BULK_PAGE_TEXT, BULK_PAGE_UNIT, FIRST_KEY, SUB, TOKEN_FE, bodyFromEventMemory, buildReadFrame, buildWriteFrame, bulkChunkFrame, bulkPageFrame, bulkProbeFrame, bulkTermFrame, buildBulkFrame, callHomeWriteData, bulkPlan, complianceParams, concatBytes, conventions, decodeCallHome, decodeComplianceConfig, decodeEventIndex, decodeEventKeyReply, decodeFullConfig, decodeMonitorStatus, decodeProbeReply, decodeSerialNumber, decodeStorageRange, decodeTextPage, decodeUnitPage, decodeWaveformBody, decodeWaveformHeader, decodeWaveformRecord, encodeCallHome, encodeEventIndex, escapeDeviceBytes, headerLengthFromProbe, keyBytes, keyFromHex, keyParams, keyToHex, params, patchComplianceConfig, responseContent, toHex, tokenParams, type DeviceFrame } from '@sfm/core/protocol';
import { SessionHarness } from './harness.js';
import { SimulatedUnit } from './unit.js';

const T0 = new Date('2026-04-08T01:59:45Z');

function fixedClock(start = T0): { now: () => Date; advance(ms: number): void } {
  let t = start.getTime();
  return { now: () => new Date(t), advance: (ms) => (t += ms) };
}

function newUnit(opts: ConstructorParameters<typeof SimulatedUnit>[0] = {}): SimulatedUnit {
  return new SimulatedUnit({ now: () => T0, events: 3, ...opts });
}

/** 0A probe + data for a key; returns the header length and content. */
function readHeader(h: SessionHarness, key: number): { len: number; content: Uint8Array } {
  const probe = h.request(buildReadFrame(SUB.WAVEFORM_HEADER, 0, keyParams(keyBytes(key))));
  const len = headerLengthFromProbe(probe.data);
  const content = responseContent(h.request(buildReadFrame(SUB.WAVEFORM_HEADER, len, keyParams(keyBytes(key)))));
  return { len, content };
}

function key1E(h: SessionHarness, p = params()): number {
  return decodeEventKeyReply(responseContent(h.request(buildReadFrame(SUB.FIRST_EVENT_KEY, 8, p))));
}
function key1F(h: SessionHarness, p = params()): number {
  return decodeEventKeyReply(responseContent(h.request(buildReadFrame(SUB.NEXT_EVENT_KEY, 8, p))));
}

describe('reads: every SUB decodes to the unit state', () => {
  it('POLL, serial, full config, event index, 09, monitor status, storage range, call home', () => {
    const unit = newUnit();
    const h = new SessionHarness(unit);
    expect(toHex(h.read(SUB.POLL, 0x0a).subarray(0, 2))).toBe('53 33');
    expect(decodeSerialNumber(h.read(SUB.SERIAL_NUMBER, 0x0a))).toEqual({ serial: 'BE18189', unit_byte: 0x79, firmware_minor: 17 });
    expect(decodeFullConfig(h.read(SUB.FULL_CONFIG, 0x98))).toEqual({ firmware: 'S338.17', dsp_version: '10.72', calibration_date: '2025-11-03' });
    expect(decodeEventIndex(h.read(SUB.EVENT_INDEX, 0x58))).toEqual({ lifetime_event_count: 3, backlight: 100, power_save: 30 });
    expect(h.read(SUB.WAVEFORM_DATA_BLOCK, 0xca)).toEqual(unit.block09);
    expect(decodeMonitorStatus(h.read(SUB.MONITOR_STATUS, 0x2c))).toEqual({
      is_monitoring: false, battery_v: 6.77, memory_total: 983026, memory_free: unit.memoryFree, clock: '2026-04-08T01:59:45',
    });
    const range = decodeStorageRange(h.read(SUB.STORAGE_RANGE, 0x24, tokenParams()));
    expect(range).toEqual({ first: FIRST_KEY, next: unit.storageRange.next });
    expect(range.next).toBeGreaterThan(range.first);
    const ch = h.read(SUB.CALL_HOME_CONFIG, 0x7c);
    expect(decodeCallHome(ch)).toEqual(unit.callHome);
    expect(unit.callHome.num_retries).toBe(3);
  });

  it('a new event shows in the storage range (06), the monitor status (1C) and the event index (08)', () => {
    const unit = newUnit();
    const h = new SessionHarness(unit);
    const range = decodeStorageRange(h.read(SUB.STORAGE_RANGE, 0x24, tokenParams()));
    const status = decodeMonitorStatus(h.read(SUB.MONITOR_STATUS, 0x2c));
    const e = unit.recordEvent();
    expect(keyFromHex(e.key)).toBe(range.next);
    const range2 = decodeStorageRange(h.read(SUB.STORAGE_RANGE, 0x24, tokenParams()));
    expect(range2.first).toBe(range.first);
    expect(range2.next).toBeGreaterThan(range.next);
    const status2 = decodeMonitorStatus(h.read(SUB.MONITOR_STATUS, 0x2c));
    expect(status2.memory_free).toBe(status.memory_free - (range2.next - range.next));
    expect(status2.battery_v).toBe(6.76);
    expect(status.battery_v).toBe(6.77);
    expect(decodeEventIndex(h.read(SUB.EVENT_INDEX, 0x58)).lifetime_event_count).toBe(4);
  });

  it('the 1C reply is 44 logical bytes in both states; in seismo-relay\'s raw view 46–49, idle and monitoring alike (protocol.md §24)', () => {
    const clock = fixedClock();
    const unit = newUnit({ now: clock.now, monitorSettleMs: 0 });
    const h = new SessionHarness(unit);
    /** The section as seismo-relay measures it: only `10 10` un-escaped, `10 02/03/04` kept as two bytes. */
    const rawSectionLength = (raw: Uint8Array): number => {
      const body = raw.subarray(raw.indexOf(0x02) + 1, raw.lastIndexOf(0x03));
      const view: number[] = [];
      for (let i = 0; i < body.length; i++) {
        if (body[i] === 0x10 && body[i + 1] === 0x10) i++;
        view.push(body[i]!);
      }
      return view.length - 5 - 1 - 11; // header, checksum, echo
    };
    const status = () => {
      h.request(buildReadFrame(SUB.MONITOR_STATUS, 0));
      const { raw, items } = h.exchange(buildReadFrame(SUB.MONITOR_STATUS, 0x2c));
      const f = (items.find((i) => i.kind === 'frame') as { frame: DeviceFrame }).frame;
      return { content: responseContent(f), rawLength: rawSectionLength(raw) };
    };
    const idle = status();
    h.request(buildReadFrame(SUB.START_MONITORING, 0, tokenParams()));
    const monitoring = status();
    expect(decodeMonitorStatus(idle.content).is_monitoring).toBe(false);
    expect(decodeMonitorStatus(monitoring.content).is_monitoring).toBe(true);
    expect([idle.content.length, monitoring.content.length]).toEqual([44, 44]);
    for (const n of [idle.rawLength, monitoring.rawLength]) expect(n).toBeGreaterThanOrEqual(46), expect(n).toBeLessThanOrEqual(49);
  });

  it('the call-home reply shows num_retries 3 escaped as 10 03 on the wire', () => {
    const h = new SessionHarness(newUnit());
    h.request(buildReadFrame(SUB.CALL_HOME_CONFIG, 0));
    const { raw } = h.exchange(buildReadFrame(SUB.CALL_HOME_CONFIG, 0x7c));
    expect(toHex(raw)).toContain('10 03');
  });

  it('probes answer with the 11-byte echo only, data requests with echo + content', () => {
    const h = new SessionHarness(newUnit());
    const probe = h.request(buildReadFrame(SUB.SERIAL_NUMBER, 0));
    expect(probe.sub).toBe(0xea);
    expect(toHex(probe.data)).toBe(toHex(new Uint8Array(11)));
    const data = h.request(buildReadFrame(SUB.SERIAL_NUMBER, 0x0a));
    expect(data.data.length).toBe(21);
    expect(data.data[0]).toBe(0x0a);
    // A data request alone (no probe first) is answered too.
    const h2 = new SessionHarness(newUnit());
    expect(responseContent(h2.request(buildReadFrame(SUB.FULL_CONFIG, 0x98))).length).toBe(0x98);
  });

  it('1A compliance: three pages concatenate to the 2090-byte block that decodes to the settings', () => {
    const unit = newUnit();
    const h = new SessionHarness(unit);
    const probe = h.request(buildReadFrame(SUB.COMPLIANCE_CONFIG, 0, complianceParams(0)));
    expect(probe.data.length).toBe(11);
    const pages = conventions.COMPLIANCE_PAGES.map((pg) =>
      responseContent(h.request(buildReadFrame(SUB.COMPLIANCE_CONFIG, pg.length, complianceParams(pg.page)))),
    );
    const block = concatBytes(pages);
    expect(block.length).toBe(2090);
    expect(block).toEqual(unit.complianceBlock);
    expect(decodeComplianceConfig(block)).toEqual({
      recording_mode: 'single_shot', sample_rate: 1024, record_time_s: 3, histogram_interval_s: 300, geo_range: 'normal',
      geo_full_scale_ips: 10, trigger_level_ips: 0.5, alarm_level_ips: 1, mic_trigger_psi: 0.045, mic_alarm_psi: 0.021,
      project: 'Quarry North Expansion', client: 'Acme Aggregates', operator: 'J. Smith', sensor_location: 'House 14 foundation', notes: '',
    });
    // Past the end of the block, or without the 0x64 marker: silence.
    expect(h.silent(buildReadFrame(SUB.COMPLIANCE_CONFIG, 0x400, complianceParams(0x08)))).toBe(true);
    expect(h.silent(buildReadFrame(SUB.COMPLIANCE_CONFIG, 0x400, params({ 2: 0 })))).toBe(true);
  });

  it('wrong data lengths, missing tokens and unknown SUBs get no answer (and are counted)', () => {
    const h = new SessionHarness(newUnit());
    expect(h.silent(buildReadFrame(SUB.SERIAL_NUMBER, 0x0b))).toBe(true);
    expect(h.silent(buildReadFrame(SUB.STORAGE_RANGE, 0x24))).toBe(true); // no FE token
    expect(h.silent(buildReadFrame(0x2e, 0x1a))).toBe(true);
    expect(h.silent(buildReadFrame(0x42, 0))).toBe(true);
    expect(h.stats.snapshot().unanswered).toBe(4);
  });
});

describe('events: the 1E / 0A / 0C / 1F walk', () => {
  it('walks every record with the context rule and ends on the null key', () => {
    const unit = newUnit({ events: 6, includeMonitorLog: true });
    const h = new SessionHarness(unit);
    const summaries = unit.events;
    expect(summaries.map((e) => e.record_type)).toEqual(['waveform', 'waveform', 'waveform', 'waveform', 'waveform', 'monitor_log', 'waveform']);

    // 1F without a 0A context: the null key.
    expect(key1F(h)).toBe(0);

    const keys: number[] = [];
    let key = key1E(h);
    while (key !== 0) {
      keys.push(key);
      const { len, content } = readHeader(h, key);
      const e = summaries[keys.length - 1]!;
      const header = decodeWaveformHeader(content, len);
      if (e.record_type === 'monitor_log') {
        expect(len).toBe(0x2c);
        expect(header).toEqual({ kind: 'monitor_log', start_time: e.timestamp, stop_time: e.end_timestamp, serial: 'BE18189', trigger_level_ips: 0.5 });
      } else {
        expect(len).toBe(0x46);
        expect(header).toEqual({
          kind: 'full', timestamp: e.timestamp, record_type: 'waveform', sample_rate: e.sample_rate, total_samples: e.total_samples,
          pretrigger_samples: e.pretrigger_samples, record_time_s: e.record_time_s, geo_range: 'normal', serial: 'BE18189',
        });
      }
      key = key1F(h);
      // The browse 1F used the context up: another 1F is "not valid".
      if (key !== 0) expect(key1F(h)).toBe(0);
    }
    expect(keys.map(keyToHex)).toEqual(summaries.map((e) => e.key));
    expect(keys[0]).toBe(FIRST_KEY);
  });

  it('a monitor-log header on the wire: 9- and 10-byte timestamps (escaped day/month), the gap when start and stop share mm:ss', () => {
    const clock = fixedClock(new Date('2026-04-08T12:00:00Z'));
    const unit = new SimulatedUnit({ now: clock.now, events: 0, compliance: { trigger_level_ips: 1.25, geo_range: 'sensitive' } });
    // April 3 (day and month are bytes the unit escapes), one hour: same mm:ss, so a gap byte.
    unit.recordMonitorLog({ start: new Date('2026-04-03T05:15:20Z'), stop: new Date('2026-04-03T06:15:20Z') });
    // April 8 (only the month escaped), stop at another minute: no gap.
    unit.recordMonitorLog({ start: new Date('2026-04-08T01:00:00Z'), stop: new Date('2026-04-08T01:59:45Z') });
    const h = new SessionHarness(unit);
    const [gapKey, plainKey] = unit.storedRecords.map((r) => r.key) as [number, number];

    const wireOf = (key: number) => {
      h.request(buildReadFrame(SUB.WAVEFORM_HEADER, 0, keyParams(keyBytes(key))));
      const { raw, items } = h.exchange(buildReadFrame(SUB.WAVEFORM_HEADER, 0x2c, keyParams(keyBytes(key))));
      const frame = (items.find((i) => i.kind === 'frame') as { frame: DeviceFrame }).frame;
      return { wire: toHex(raw), header: decodeWaveformHeader(responseContent(frame), 0x2c) };
    };
    const gap = wireOf(gapKey);
    // start "10 03 10 04 07 EA 00 05 0F 14" (10 bytes), the gap byte 00, stop "10 03 10 04 07 EA 00 06 0F 14", then "BE".
    expect(gap.wire).toContain('10 03 10 04 07 EA 00 05 0F 14 00 10 03 10 04 07 EA 00 06 0F 14 42 45');
    expect(gap.header).toEqual({ kind: 'monitor_log', start_time: '2026-04-03T05:15:20', stop_time: '2026-04-03T06:15:20', serial: 'BE18189', trigger_level_ips: 1.25 });
    const plain = wireOf(plainKey);
    // start "08 10 04 07 EA 00 01 00 00" (9 bytes), stop right after it.
    expect(plain.wire).toContain('08 10 04 07 EA 00 01 00 00 08 10 04 07 EA 00 01 3B 2D 42 45');
    expect(plain.header).toEqual({ kind: 'monitor_log', start_time: '2026-04-08T01:00:00', stop_time: '2026-04-08T01:59:45', serial: 'BE18189', trigger_level_ips: 1.25 });
    // The level is text after "Geo: ".
    expect(plain.wire).toContain(toHex(new TextEncoder().encode('Geo: 1.25 in/s')));
  });

  it('0A probe carries the header length at data[4]; unknown keys and kind mismatches are silent', () => {
    const unit = newUnit({ events: 5, includeMonitorLog: true });
    const h = new SessionHarness(unit);
    const full = keyFromHex(unit.events[0]!.key);
    const log = keyFromHex(unit.events[5]!.key);
    expect(h.request(buildReadFrame(SUB.WAVEFORM_HEADER, 0, keyParams(keyBytes(full)))).data[4]).toBe(0x46);
    expect(h.request(buildReadFrame(SUB.WAVEFORM_HEADER, 0, keyParams(keyBytes(log)))).data[4]).toBe(0x2c);
    expect(h.silent(buildReadFrame(SUB.WAVEFORM_HEADER, 0, keyParams(keyBytes(0x01234000))))).toBe(true);
    expect(h.silent(buildReadFrame(SUB.WAVEFORM_HEADER, 0x2c, keyParams(keyBytes(full))))).toBe(true);
    expect(h.silent(buildReadFrame(SUB.WAVEFORM_RECORD, 0xd2, keyParams(keyBytes(log))))).toBe(true);
  });

  it('0C record: timestamp and peaks equal the summary; 0C sets the context too', () => {
    const unit = newUnit();
    const h = new SessionHarness(unit);
    for (const e of unit.events) {
      const k = keyParams(keyBytes(keyFromHex(e.key)));
      h.request(buildReadFrame(SUB.WAVEFORM_RECORD, 0, k));
      const rec = decodeWaveformRecord(responseContent(h.request(buildReadFrame(SUB.WAVEFORM_RECORD, 0xd2, k))));
      expect(rec).toEqual({ timestamp: e.timestamp, record_type: 'waveform', peaks: e.peaks });
    }
    // Context = the last record: 1F says "no more".
    expect(key1F(h)).toBe(0);
    const k0 = keyParams(keyBytes(FIRST_KEY));
    h.request(buildReadFrame(SUB.WAVEFORM_RECORD, 0xd2, k0));
    expect(keyToHex(key1F(h))).toBe(unit.events[1]!.key);
  });

  it('1E with the FE token returns the context key; 1F with FE keeps the context', () => {
    const unit = newUnit();
    const h = new SessionHarness(unit);
    expect(key1E(h, tokenParams())).toBe(0); // no context yet
    const second = keyFromHex(unit.events[1]!.key);
    readHeader(h, second);
    expect(key1E(h, tokenParams())).toBe(second);
    expect(h.session.state.armed1E).toBe(true);
    const third = keyFromHex(unit.events[2]!.key);
    expect(key1F(h, tokenParams())).toBe(third);
    expect(key1F(h, tokenParams())).toBe(third);
    expect(h.session.state).toMatchObject({ contextKey: second, armed5A: true });
    expect(key1F(h)).toBe(third);
    expect(h.session.state.contextKey).toBeNull();
  });

  it('an empty unit: 1E gives the null key, storage range first == last == 01110000', () => {
    const h = new SessionHarness(newUnit({ events: 0 }));
    expect(key1E(h)).toBe(0);
    expect(decodeStorageRange(h.read(SUB.STORAGE_RANGE, 0x24, tokenParams()))).toEqual({ first: FIRST_KEY, next: FIRST_KEY });
  });
});

/** The Blastware per-event sequence up to the 5A probe; returns the probe reply. */
function armAndProbe(h: SessionHarness, key: number): DeviceFrame {
  readHeader(h, key);
  key1E(h, tokenParams());
  h.request(buildReadFrame(SUB.WAVEFORM_RECORD, 0xd2, keyParams(keyBytes(key))));
  key1F(h, tokenParams());
  for (let i = 0; i < 3; i++) h.read(SUB.POLL, 0x0a);
  return h.request(bulkProbeFrame(key));
}

describe('5A bulk stream', () => {
  it('probe (needs the 1F arm), pages, every chunk, the stray byte and TERM give back the samples exactly', () => {
    const unit = newUnit();
    const h = new SessionHarness(unit);
    const e = unit.events[1]!;
    const key = keyFromHex(e.key);
    const stored = unit.record(key)!;
    if (stored.kind !== 'full') throw new Error('expected a full event');

    // Without the arm: silence.
    readHeader(h, key);
    expect(h.silent(bulkProbeFrame(key))).toBe(true);

    const probe = armAndProbe(h, key);
    expect(probe.sub).toBe(0xa5);
    expect(probe.page).toBe(0x1004);
    const strt = decodeProbeReply(responseContent(probe));
    expect(strt).toEqual({
      sample_rate: 1024, total_samples: 3072, record_time_s: 3, pretrigger_samples: 256, end_offset: (key & 0xffff) + stored.memory.length,
    });
    const plan = bulkPlan(key, strt.end_offset);
    // The probe carries the event's first 0x600 bytes.
    expect(responseContent(probe)).toEqual(stored.memory.subarray(0, 0x600));

    const text = h.request(bulkPageFrame(key, BULK_PAGE_TEXT));
    expect(text.page).toBe(0x1004);
    expect(decodeTextPage(responseContent(text))).toEqual(e.project);
    expect(decodeUnitPage(responseContent(h.request(bulkPageFrame(key, BULK_PAGE_UNIT))))).toEqual({ serial: 'BE18189', firmware: 'S338.17' });

    const count = plan.chunkCounters.length;
    expect(count).toBe(Math.floor((stored.memory.length - 0x600) / 512));
    const parts: Uint8Array[] = [responseContent(probe)];
    plan.chunkCounters.forEach((counter, i) => {
      const { raw, items } = h.exchange(bulkChunkFrame(key, counter));
      const frames = items.filter((it) => it.kind === 'frame');
      expect(frames).toHaveLength(1);
      const f = (frames[0] as { frame: DeviceFrame }).frame;
      expect(f.checksumOk).toBe(true);
      parts.push(responseContent(f));
      // Exactly one stray byte after the frame of the last chunk, none before.
      const last = i === count - 1;
      expect(raw[raw.length - 1]).toBe(last ? conventions.BULK_STRAY_END_BYTE : 0x03);
      if (last) expect(raw[raw.length - 2]).toBe(0x03);
    });

    // Off-step counters, and counters of the probe's region: silence.
    const p = new Uint8Array(11);
    p.set(keyBytes(key).subarray(0, 2), 1);
    p[3] = 0x01;
    p[4] = 0x23;
    expect(h.silent(buildBulkFrame(0x1004, p))).toBe(true);
    expect(h.silent(bulkChunkFrame(key, (key + 0x200) & 0xffff))).toBe(true);
    // TERM with another counter than the residual's: silence; with it, the residual.
    expect(h.silent(bulkTermFrame(key, (plan.termCounter + 0x200) & 0xffff))).toBe(true);
    const term = h.request(bulkTermFrame(key, plan.termCounter));
    expect(term.sub).toBe(0xa5);
    expect(term.page).toBe(0);
    expect(responseContent(term).length).toBe(plan.residualLength);
    parts.push(responseContent(term));
    expect(h.session.state.bulk).toBeNull();

    const memory = concatBytes(parts);
    expect(memory).toEqual(stored.memory);
    const decoded = decodeWaveformBody(bodyFromEventMemory(memory), { samplesPerChannel: e.total_samples! });
    expect(decoded.truncated).toBe(false);
    for (const name of ['Tran', 'Vert', 'Long', 'MicL'] as const) expect(Array.from(decoded.channels[name])).toEqual(Array.from(stored.channels[name]));

    // After TERM, chunks and pages are out of sequence.
    expect(h.silent(bulkChunkFrame(key, plan.chunkCounters[0]!))).toBe(true);
    expect(h.silent(bulkPageFrame(key, BULK_PAGE_TEXT))).toBe(true);
  });

  it('a probe for another key than the context, or pages without a probe, are silent', () => {
    const unit = newUnit();
    const h = new SessionHarness(unit);
    const k0 = keyFromHex(unit.events[0]!.key);
    const k1 = keyFromHex(unit.events[1]!.key);
    expect(h.silent(bulkPageFrame(k0, BULK_PAGE_UNIT))).toBe(true);
    readHeader(h, k0);
    key1F(h, tokenParams());
    expect(h.silent(bulkProbeFrame(k1))).toBe(true);
    // A new 0A clears the arm.
    readHeader(h, k0);
    expect(h.silent(bulkProbeFrame(k0))).toBe(true);
    key1F(h, tokenParams());
    expect(decodeProbeReply(responseContent(h.request(bulkProbeFrame(k0)))).sample_rate).toBe(1024);
  });

  it('events over 64 KiB: chunk counters wrap and are resolved by sequence (4096 Sa/s, 10 s)', () => {
    const unit = new SimulatedUnit({ now: () => T0, events: 2, sampleRate: 4096, recordTimeS: 10 });
    const h = new SessionHarness(unit);
    const key = keyFromHex(unit.events[1]!.key);
    const stored = unit.record(key)!;
    if (stored.kind !== 'full') throw new Error('expected a full event');
    const probe = responseContent(armAndProbe(h, key));
    const plan = bulkPlan(key, decodeProbeReply(probe).end_offset);
    expect(plan.chunkCounters.length).toBeGreaterThan(128);
    // One chunk has the probe's counter (0x600 + 125·0x200 wraps to 0); in sequence it is served as a chunk.
    const atProbe = plan.chunkCounters.indexOf(key & 0xffff);
    expect(atProbe).toBe(125);
    const parts = [probe, ...plan.chunkCounters.map((c) => responseContent(h.request(bulkChunkFrame(key, c))))];
    parts.push(responseContent(h.request(bulkTermFrame(key, plan.termCounter))));
    expect(concatBytes(parts)).toEqual(stored.memory);
  });

  it('a probe sent again before any chunk is a probe, not the chunk with the same counter', () => {
    const unit = new SimulatedUnit({ now: () => T0, events: 1, sampleRate: 4096, recordTimeS: 10 });
    const h = new SessionHarness(unit);
    const key = keyFromHex(unit.events[0]!.key);
    const first = responseContent(armAndProbe(h, key));
    expect(responseContent(h.request(bulkProbeFrame(key)))).toEqual(first);
  });
});

describe('writes', () => {
  function complianceWrite(h: SessionHarness, block: Uint8Array, confirm = true): void {
    for (const pg of conventions.COMPLIANCE_PAGES) {
      const data = escapeDeviceBytes(block.subarray(pg.start, pg.start + pg.length));
      const ack = h.request(buildWriteFrame(SUB.COMPLIANCE_WRITE, data, params({ 2: pg.page })));
      expect(ack.sub).toBe(0x8e);
      expect(ack.data.length).toBe(11);
    }
    if (confirm) expect(h.request(buildWriteFrame(SUB.WRITE_CONFIRM_A)).sub).toBe(0x8d);
  }

  it('the whole config-write sequence commits the compliance block only at 72', () => {
    const unit = newUnit();
    const h = new SessionHarness(unit);
    const before = unit.complianceBlock;
    const changed = patchComplianceConfig(before, { trigger_level_ips: 0.2, sample_rate: 4096, project: 'Dam Wall', geo_range: 'sensitive' });

    const index = encodeEventIndex({ lifetime_event_count: 3, backlight: 50, power_save: 10 });
    expect(h.request(buildWriteFrame(SUB.EVENT_INDEX_WRITE, escapeDeviceBytes(index))).sub).toBe(0x97);
    expect(h.request(buildWriteFrame(SUB.WRITE_CONFIRM_B)).sub).toBe(0x8c);
    complianceWrite(h, changed, false);
    expect(unit.complianceBlock).toEqual(before); // pending until 72
    expect(h.session.state.pendingCompliancePages).toEqual([0, 4, 8]);
    expect(h.request(buildWriteFrame(SUB.WRITE_CONFIRM_A)).sub).toBe(0x8d);
    expect(unit.complianceBlock).toEqual(changed);
    const trigger = new Uint8Array(44).fill(0x03);
    expect(h.request(buildWriteFrame(SUB.TRIGGER_CONFIG_WRITE, escapeDeviceBytes(trigger))).sub).toBe(0x7d);
    expect(h.request(buildWriteFrame(SUB.TRIGGER_CONFIG_CONFIRM)).sub).toBe(0x7c);
    const b09 = Uint8Array.from({ length: 202 }, (_, i) => (i * 7) & 0xff);
    expect(h.request(buildWriteFrame(SUB.WAVEFORM_DATA_WRITE, escapeDeviceBytes(b09))).sub).toBe(0x96);
    expect(h.request(buildWriteFrame(SUB.WRITE_CONFIRM_C)).sub).toBe(0x8b);
    expect(h.request(buildWriteFrame(SUB.WRITE_CONFIRM_A)).sub).toBe(0x8d);

    expect(unit.compliance).toMatchObject({ trigger_level_ips: 0.2, sample_rate: 4096, project: 'Dam Wall', geo_range: 'sensitive', geo_full_scale_ips: 1.25 });
    expect(decodeComplianceConfig(concatBytes(conventions.COMPLIANCE_PAGES.map((pg) => h.read(SUB.COMPLIANCE_CONFIG, pg.length, complianceParams(pg.page))))).trigger_level_ips).toBe(0.2);
    // The unit keeps its own event count in the 08 block.
    expect(decodeEventIndex(h.read(SUB.EVENT_INDEX, 0x58))).toEqual({ lifetime_event_count: 3, backlight: 50, power_save: 10 });
    expect(h.read(SUB.WAVEFORM_DATA_BLOCK, 0xca)).toEqual(b09);
    expect(unit.triggerBlock).toEqual(trigger);
    // Events recorded after the write use the new settings.
    const e = unit.recordEvent();
    expect(e).toMatchObject({ sample_rate: 4096, total_samples: 4096 * 3, pretrigger_samples: 1024, project: { project: 'Dam Wall' } });
    expect(unit.events[0]!.project.project).toBe('Quarry North Expansion');
  });

  it('a session that drops before 72 changes nothing; a partial set of pages is discarded at 72', () => {
    const unit = newUnit();
    const before = unit.complianceBlock;
    const changed = patchComplianceConfig(before, { alarm_level_ips: 2 });
    const h1 = new SessionHarness(unit);
    complianceWrite(h1, changed, false);
    // The connection is gone: a new session confirms without pages.
    const h2 = new SessionHarness(unit);
    expect(h2.request(buildWriteFrame(SUB.WRITE_CONFIRM_A)).sub).toBe(0x8d);
    expect(unit.complianceBlock).toEqual(before);
    // Two pages only, then 72: nothing is committed, and the pending pages are gone.
    const pg0 = conventions.COMPLIANCE_PAGES[0];
    const pg1 = conventions.COMPLIANCE_PAGES[1];
    h2.request(buildWriteFrame(SUB.COMPLIANCE_WRITE, escapeDeviceBytes(changed.subarray(0, pg0.length)), params({ 2: pg0.page })));
    h2.request(buildWriteFrame(SUB.COMPLIANCE_WRITE, escapeDeviceBytes(changed.subarray(pg1.start, pg1.start + pg1.length)), params({ 2: pg1.page })));
    h2.request(buildWriteFrame(SUB.WRITE_CONFIRM_A));
    expect(unit.complianceBlock).toEqual(before);
    expect(h2.session.state.pendingCompliancePages).toEqual([]);
  });

  it('a garbage compliance block is stored as written; later events fall back to sane settings', () => {
    const unit = newUnit({ events: 0 });
    const h = new SessionHarness(unit);
    const garbage = new Uint8Array(2090).fill(0xff);
    for (const pg of conventions.COMPLIANCE_PAGES) {
      h.request(buildWriteFrame(SUB.COMPLIANCE_WRITE, escapeDeviceBytes(garbage.subarray(pg.start, pg.start + pg.length)), params({ 2: pg.page })));
    }
    h.request(buildWriteFrame(SUB.WRITE_CONFIRM_A));
    expect(unit.complianceBlock).toEqual(garbage);
    const e = unit.recordEvent();
    expect(e).toMatchObject({ sample_rate: 1024, record_time_s: 3, project: { project: '', notes: '' } });
    const key = keyFromHex(e.key);
    const strt = decodeProbeReply(responseContent(armAndProbe(h, key)));
    expect(strt.total_samples).toBe(3072);
    expect(decodeTextPage(responseContent(h.request(bulkPageFrame(key, BULK_PAGE_TEXT))))).toEqual(e.project);
  });

  it('wrong write lengths and unescaped data get no ack', () => {
    const unit = newUnit();
    const h = new SessionHarness(unit);
    expect(h.silent(buildWriteFrame(SUB.EVENT_INDEX_WRITE, new Uint8Array(87)))).toBe(true);
    expect(h.silent(buildWriteFrame(SUB.COMPLIANCE_WRITE, new Uint8Array(42), params({ 2: 0x04 })))).toBe(true);
    expect(h.silent(buildWriteFrame(SUB.COMPLIANCE_WRITE, new Uint8Array(42), params({ 2: 0x05 })))).toBe(true);
    // Call-home: without the 00 00 trailer, or with another trailer, no ack.
    expect(h.silent(buildWriteFrame(SUB.CALL_HOME_WRITE, escapeDeviceBytes(unit.callHomeBlock)))).toBe(true);
    expect(h.silent(buildWriteFrame(SUB.CALL_HOME_WRITE, Uint8Array.from([...escapeDeviceBytes(unit.callHomeBlock), 1, 0])))).toBe(true);
    // Confirms carry no data.
    expect(h.silent(buildWriteFrame(SUB.WRITE_CONFIRM_B, new Uint8Array(2)))).toBe(true);
    // A block without 0x10 bytes may go out raw (seismo-relay does; protocol.md §2.3): accepted.
    expect(h.request(buildWriteFrame(SUB.CALL_HOME_WRITE, Uint8Array.from([...unit.callHomeBlock, 0, 0]))).sub).toBe(0x81);
    expect(h.stats.snapshot().unanswered).toBe(6);
  });

  it('call-home round trip: 2C read → 7E write (wire form + 00 00) → 7F commits', () => {
    const unit = newUnit();
    const h = new SessionHarness(unit);
    const block = h.read(SUB.CALL_HOME_CONFIG, 0x7c);
    const cfg = { ...decodeCallHome(block), enabled: true, dial_string: 'ATD166.246.130.1/9034', after_event_recorded: true, num_retries: 3 };
    const data = callHomeWriteData(encodeCallHome(cfg, block));
    const ack = h.request(buildWriteFrame(SUB.CALL_HOME_WRITE, data));
    expect(ack.sub).toBe(0x81);
    expect(ack.data[0]).toBe(0x7e);
    expect(unit.callHome.enabled).toBe(false); // pending until 7F
    expect(h.request(buildWriteFrame(SUB.CALL_HOME_CONFIRM)).sub).toBe(0x80);
    expect(unit.callHome).toEqual(cfg);
    expect(decodeCallHome(h.read(SUB.CALL_HOME_CONFIG, 0x7c))).toEqual(cfg);
  });
});

describe('erase', () => {
  it('needs A3 then A2 (Blastware reads 1C and 06 between them); keys restart at 01110000', () => {
    const unit = newUnit();
    const h = new SessionHarness(unit);
    expect(h.silent(buildReadFrame(SUB.ERASE_CONFIRM, 0, tokenParams()))).toBe(true);
    expect(unit.events).toHaveLength(3);
    expect(h.silent(buildReadFrame(SUB.ERASE_BEGIN, 0))).toBe(true); // no token
    expect(h.request(buildReadFrame(SUB.ERASE_BEGIN, 0, tokenParams())).sub).toBe(0x5c);
    h.read(SUB.MONITOR_STATUS, 0x2c);
    h.read(SUB.STORAGE_RANGE, 0x24, tokenParams());
    const ack = h.request(buildReadFrame(SUB.ERASE_CONFIRM, 0, tokenParams()));
    expect(ack.sub).toBe(0x5d);
    expect(ack.data.length).toBe(11);
    expect(unit.events).toHaveLength(0);
    expect(decodeStorageRange(h.read(SUB.STORAGE_RANGE, 0x24, tokenParams()))).toEqual({ first: FIRST_KEY, next: FIRST_KEY });
    expect(decodeMonitorStatus(h.read(SUB.MONITOR_STATUS, 0x2c)).memory_free).toBe(983026);
    expect(key1E(h)).toBe(0);
    expect(unit.recordEvent().key).toBe('01110000');
    // The erase arm was used up.
    expect(h.silent(buildReadFrame(SUB.ERASE_CONFIRM, 0, tokenParams()))).toBe(true);
  });
});

describe('monitoring', () => {
  it('the flag turns on only after the settle delay, and off at once on stop', () => {
    const clock = fixedClock();
    const unit = new SimulatedUnit({ now: clock.now, events: 1 });
    const h = new SessionHarness(unit);
    const status = () => decodeMonitorStatus(h.read(SUB.MONITOR_STATUS, 0x2c));
    expect(h.request(buildReadFrame(SUB.START_MONITORING, 0, tokenParams())).sub).toBe(0x69);
    expect(status().is_monitoring).toBe(false);
    clock.advance(39_999);
    expect(status().is_monitoring).toBe(false);
    clock.advance(1);
    expect(status()).toMatchObject({ is_monitoring: true, clock: '2026-04-08T02:00:25' });
    expect(h.request(buildReadFrame(SUB.STOP_MONITORING, 0, tokenParams())).sub).toBe(0x68);
    expect(status().is_monitoring).toBe(false);
    expect(h.silent(buildReadFrame(SUB.START_MONITORING, 0x2c, tokenParams()))).toBe(true);
  });
});

describe('the link layer inside a session', () => {
  it('bad checksums and 41 03 resets are never answered, but counted', () => {
    const h = new SessionHarness(newUnit());
    const f = buildReadFrame(SUB.SERIAL_NUMBER, 0x0a);
    f[f.length - 2] ^= 0x01;
    expect(h.silent(f)).toBe(true);
    expect(h.silent(Uint8Array.of(0x41, 0x03))).toBe(true);
    // A reset does not disturb the session: a request right after it is answered.
    const both = concatBytes([Uint8Array.of(0x41, 0x03), buildReadFrame(SUB.POLL, 0)]);
    expect(h.request(both).sub).toBe(0xa4);
    expect(h.stats.snapshot()).toMatchObject({ badChecksums: 1, sessionResets: 2, roundTrips: 1, framesBySub: { '5B': 1 }, unanswered: 0 });
  });

  it('requests split at any byte boundary are answered the same', () => {
    const h = new SessionHarness(newUnit());
    const f = buildReadFrame(SUB.SERIAL_NUMBER, 0x0a);
    const out: Uint8Array[] = [];
    for (const b of f) out.push(h.exchange(Uint8Array.of(b)).raw);
    const frames = new SessionHarness(newUnit()).exchange(f).raw;
    expect(concatBytes(out)).toEqual(frames);
  });

  it('every reply starts with 41 and carries response SUB 0xFF − SUB', () => {
    const h = new SessionHarness(newUnit());
    const { raw } = h.exchange(buildReadFrame(SUB.MONITOR_STATUS, 0));
    expect(toHex(raw.subarray(0, 3))).toBe('41 10 02');
    expect(h.request(buildReadFrame(SUB.MONITOR_STATUS, 0)).sub).toBe(0xe3);
    expect(TOKEN_FE).toBe(0xfe);
  });
});
