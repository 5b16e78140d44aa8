/**
 * The device client against the emulated unit, for every operation, over TCP and over a real
 * serial device node: whatever the emulator encodes, the client decodes to the same values.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toEvent, type DownloadProgress } from '@sfm/core/client';
import { FIRST_KEY, keyToHex } from '@sfm/core/protocol';
import { buildWaveform } from '@sfm/core/service';
import type { StoredEvent } from '@sfm/simulator';
import { headersOnly, serialUnit, session, tcpUnit, type UnitFixture } from '@sfm/test-support';

describe.each([
  ['tcp', tcpUnit],
  ['serial pty', serialUnit],
] as const)('client ↔ emulated unit over %s', (_name, makeUnit) => {
  let u: UnitFixture;
  beforeEach(async () => {
    u = await makeUnit({ includeMonitorLog: true, events: 6 });
  });
  afterEach(async () => {
    await u.close();
  });

  it('reads identity and configuration as the unit holds them', async () => {
    const info = await session(u, (c) => c.readDeviceInfo());
    expect(info).toEqual({
      serial: 'BE18189', firmware: 'S338.17', firmware_minor: 17, dsp_version: '10.72', calibration_date: '2025-11-03',
      event_count: u.sim.unit.lifetimeRecords, compliance: u.sim.unit.compliance,
    });
  });

  it('walks the keys and reads every event: headers, peaks, event-time project text', async () => {
    const unitEvents = u.sim.unit.events;
    const { keys, events, range } = await session(u, async (c) => ({ keys: await c.listKeys(), events: await c.readEvents({ mode: 'vendor' }), range: await c.readStorageRange() }));
    expect(keys.map((k) => keyToHex(k.key))).toEqual(unitEvents.map((e) => e.key));
    expect(keys.some((k) => k.kind === 'monitor_log')).toBe(true);
    expect(events.map((e, i) => toEvent(i, e))).toEqual(unitEvents);
    expect(range).toEqual(u.sim.unit.storageRange);
    expect(range.first).toBe(FIRST_KEY);
  });

  it('headers first and the vendor sequence read the same list; headers first leaves only the project text, read after', async () => {
    const unitEvents = u.sim.unit.events;
    const vendor = await session(u, (c) => c.readEvents({ mode: 'vendor' }));
    expect(vendor.map((e, i) => toEvent(i, e))).toEqual(unitEvents);
    const headers = await session(u, (c) => c.readEvents());
    expect(headers.map((e, i) => toEvent(i, e))).toEqual(headersOnly(unitEvents));
    const texts = await session(u, async (c) => {
      const out = [];
      for (const e of headers) if (e.projectPending) out.push({ key: keyToHex(e.key), ...(await c.readEventText(e.key)) });
      return out;
    });
    expect(texts).toEqual(unitEvents.filter((e) => e.record_type !== 'monitor_log').map((e) => ({ key: e.key, text: e.project, timestamp: e.timestamp })));
  });

  it('headers first costs at most 5 round trips an event; the vendor sequence about 13', async () => {
    const roundTrips = async (mode: 'headers-first' | 'vendor'): Promise<number> => {
      u.sim.server.resetStats();
      await session(u, (c) => c.readEvents({ mode }));
      return u.sim.server.stats.roundTrips;
    };
    const before = { hf: await roundTrips('headers-first'), vendor: await roundTrips('vendor') };
    for (let i = 0; i < 4; i++) u.sim.unit.recordEvent();
    const perEvent = { hf: ((await roundTrips('headers-first')) - before.hf) / 4, vendor: ((await roundTrips('vendor')) - before.vendor) / 4 };
    expect(perEvent.hf).toBeLessThanOrEqual(5);
    expect(perEvent.vendor).toBeGreaterThanOrEqual(12);
  });

  it('reads only the events after a given key', async () => {
    const all = u.sim.unit.events;
    const after = await session(u, (c) => c.readEvents({ afterKey: parseInt(all[2]!.key, 16) }));
    expect(after.map((e) => keyToHex(e.key))).toEqual(all.slice(3).map((e) => e.key));
    const none = await session(u, (c) => c.readEvents({ afterKey: parseInt(all.at(-1)!.key, 16) }));
    expect(none).toEqual([]);
  });

  it('downloads a waveform: samples to the count, progress reported chunk by chunk', async () => {
    const ev = u.sim.unit.events.find((e) => e.record_type === 'waveform')!;
    const key = parseInt(ev.key, 16);
    const stored = u.sim.unit.record(key) as StoredEvent;
    const progress: DownloadProgress[] = [];
    const w = await session(u, (c) => c.downloadWaveform(key, { onProgress: (p) => progress.push(p) }));
    for (const ch of ['Tran', 'Vert', 'Long', 'MicL'] as const) expect(Array.from(w.body.channels[ch])).toEqual(Array.from(stored.channels[ch]));
    const last = progress.at(-1)!;
    // After the probe (the event's first 0x600 bytes), after each chunk, after TERM's residual.
    expect(progress[0]).toEqual({ chunksDone: 0, chunksTotal: last.chunksTotal, bytesDone: 0x600, bytesTotal: last.bytesTotal });
    expect([last.chunksDone, last.bytesDone]).toEqual([last.chunksTotal, last.bytesTotal]);
    expect(last.bytesTotal).toBe(w.dataBytes);
    expect(w.dataBytes).toBe(stored.memory.length);
    expect(progress.length).toBe(progress.at(-1)!.chunksTotal + 2);
    expect(w.text).toEqual(stored.project);
    // In physical units, the peak of each channel is the event's recorded peak.
    const wf = buildWaveform({ serial: 'BE18189', index: ev.index, key: ev.key, timestamp: ev.timestamp, sample_rate: w.header.sample_rate, pretrigger_samples: w.header.pretrigger_samples, geo_range: w.header.geo_range, body: w.body });
    expect(wf.channels[0]!.peak.value).toBeCloseTo(ev.peaks.tran_ips!, 5);
    expect(wf.channels[3]!.peak.value).toBeCloseTo(ev.peaks.mic_psi!, 6);
    expect(wf.channels[0]!.samples).toHaveLength(ev.total_samples!);
  });

  it('refuses to download a monitor-log record', async () => {
    const log = u.sim.unit.events.find((e) => e.record_type === 'monitor_log')!;
    await expect(session(u, (c) => c.downloadWaveform(parseInt(log.key, 16)))).rejects.toThrow(/monitor-log/);
  });

  it('monitor status, start (waits for the sensor check) and stop', async () => {
    const before = await session(u, (c) => c.readMonitorStatus());
    expect(before).toMatchObject({ is_monitoring: false, memory_total: 983026 });
    expect(before.battery_v).toBeCloseTo(u.sim.unit.monitorStatus.battery_v, 2);
    const started = await session(u, (c) => c.startMonitoring());
    expect(started.is_monitoring).toBe(true);
    expect(u.sim.unit.isMonitoring).toBe(true);
    const stopped = await session(u, (c) => c.stopMonitoring());
    expect(stopped.is_monitoring).toBe(false);
  });

  it('start monitoring gives DeviceTimeout when the unit never reports it within the limit', async () => {
    await u.close();
    u = await makeUnit({ monitorSettleMs: 60_000 });
    await expect(session(u, (c) => c.startMonitoring(), { frameTimeoutMs: 2000, monitorPollMs: 5, monitorStartTimeoutMs: 60 })).rejects.toMatchObject({ code: 'DEVICE_TIMEOUT' });
  });

  it('a partial compliance write changes only the given fields, on the unit', async () => {
    const before = u.sim.unit.compliance;
    const after = await session(u, (c) => c.writeCompliance({ trigger_level_ips: 0.25, project: 'Bridge 7 retrofit', sample_rate: 2048 }));
    expect(after).toEqual({ ...before, trigger_level_ips: 0.25, project: 'Bridge 7 retrofit', sample_rate: 2048 });
    expect(u.sim.unit.compliance).toEqual(after);
  });

  it('refuses bad config values before touching the unit', async () => {
    const frames = () => u.sim.server.stats.framesReceived;
    const c0 = frames();
    await expect(session(u, (c) => c.writeCompliance({ sample_rate: 1000 } as never))).rejects.toThrow(/sample_rate/);
    expect(frames() - c0).toBe(2); // only the session start (POLL probe + data)
  });

  it('call-home settings round trip', async () => {
    const before = await session(u, (c) => c.readCallHome());
    expect(before).toEqual(u.sim.unit.callHome);
    const after = await session(u, (c) => c.writeCallHome({ enabled: true, dial_string: 'ATDT5551234', time1: { enabled: true, hour: 6, minute: 30 } }));
    expect(after).toMatchObject({ enabled: true, dial_string: 'ATDT5551234', time1: { enabled: true, hour: 6, minute: 30 }, num_retries: before.num_retries });
    expect(u.sim.unit.callHome).toEqual(after);
  });

  it('erase empties the unit; new events reuse the first keys', async () => {
    const oldFirst = u.sim.unit.events[0]!;
    const range = await session(u, (c) => c.eraseAll());
    expect(range).toEqual({ first: FIRST_KEY, next: FIRST_KEY });
    expect(await session(u, (c) => c.readEvents())).toEqual([]);
    u.sim.unit.recordEvent();
    const [fresh] = await session(u, (c) => c.readEvents());
    expect(keyToHex(fresh!.key)).toBe(oldFirst.key);
    expect(fresh!.timestamp).not.toBe(oldFirst.timestamp);
  });

  it('a newly recorded event shows up after the previous last key', async () => {
    const last = parseInt(u.sim.unit.events.at(-1)!.key, 16);
    const ev = u.sim.unit.recordEvent();
    const after = await session(u, (c) => c.readEvents({ afterKey: last }));
    expect(after.map((e) => keyToHex(e.key))).toEqual([ev.key]);
  });
});
