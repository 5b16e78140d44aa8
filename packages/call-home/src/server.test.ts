/**
 * The call-home listener against the emulated unit calling in over real TCP, through the relay
 * on a SQLite file: what a call archives (events with source call-home, waveforms by policy, a
 * Session with its capture), that a second call fetches nothing twice, who is refused (an
 * address outside allow_peers, a serial ach.accept does not know) with nothing kept, and what
 * a peer that is not a unit gets (an HTTP request, garbage): no answer of its kind, and the call
 * dropped within its budgets.
 */
import { analyse, analysisOptions, analysisSummary } from '@sfm/core/analysis';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RelayService } from '@sfm/core/cache';
import { readCapture } from '@sfm/core/capture';
import type { ClientOptions } from '@sfm/core/client';
import { SUB } from '@sfm/core/protocol';
import { TransportRegistry } from '@sfm/core/transport';
import { SimulatedUnit, startSimulator, type RunningSimulator, type StartSimulatorOptions } from '@sfm/simulator';
import { SqliteStore } from '@sfm/store-sqlite';
import { FAST, RecordingMetrics, UNIT_DEFAULTS } from '@sfm/test-support';
import { CallHomeServer } from './server.js';
import { callHomeSettings, type AchGiven } from './settings.js';

const dir = mkdtempSync(join(tmpdir(), 'sfm-call-home-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** A short wake window: the emulated unit is awake at once, and garbage needs no 10 s to be judged. */
const CLIENT: ClientOptions = { ...FAST, frameTimeoutMs: 500, wakeWindowMs: 0 };

interface Office {
  relay: RelayService;
  server: CallHomeServer;
  metrics: RecordingMetrics;
  capturesDir: string;
  address: { host: string; port: number };
}

const open: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

/** The office: a relay on a fresh SQLite file and its call-home listener on a free port. */
async function office(ach: AchGiven = {}, accept?: (serial: string) => boolean): Promise<Office> {
  const store = new SqliteStore(join(dir, `c${++n}`, 'cache.db'));
  const relay = new RelayService(new TransportRegistry(), store, { client: CLIENT, textFillMs: 0 });
  const metrics = new RecordingMetrics();
  const capturesDir = join(dir, `captures${n}`);
  const settings = callHomeSettings({ listen: '127.0.0.1:0', allow_peers: ['127.0.0.1'], accept: 'any', captures_dir: capturesDir, ...ach });
  const server = new CallHomeServer({ relay, settings: { ...settings, listen: settings.listen! }, accept, metrics, client: CLIENT, version: '9.9.9' });
  const address = await server.start();
  open.push(async () => {
    await server.stop();
    await relay.drain();
    await store.close();
  });
  return { relay, server, metrics, capturesDir, address };
}

/** An emulated unit that calls `o` after each new record. */
async function unitCalling(o: Office, opts: StartSimulatorOptions = {}): Promise<RunningSimulator> {
  const sim = await startSimulator({ ...UNIT_DEFAULTS, ...opts, host: '127.0.0.1', port: 0, callHome: o.address });
  open.push(() => sim.close());
  return sim;
}

/** Records an event on the unit (it calls home) and waits for the call to end, at both ends. */
async function newEventAndCall(o: Office, sim: RunningSimulator): Promise<void> {
  sim.unit.recordEvent();
  await callEnded(o, sim);
}

/** The unit hung up and the office is done with the call (its Session recorded). */
async function callEnded(o: Office, sim: RunningSimulator): Promise<void> {
  await sim.server.callsDone();
  await until(() => o.server.active === 0, 'the office to finish the call');
}

async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const hex = (sub: number) => sub.toString(16).toUpperCase().padStart(2, '0');
/** The requests a call that finds nothing new makes: the wake-up POLLs and the probe (serial, 06, 08). */
const PROBE_ONLY = new Set([SUB.POLL, SUB.SERIAL_NUMBER, SUB.STORAGE_RANGE, SUB.EVENT_INDEX].map(hex));

describe('a unit calling home', () => {
  it('archives its events (source call-home) and their waveforms, records a Session with its capture; a second call fetches nothing again', async () => {
    const o = await office();
    const sim = await unitCalling(o, { events: 2 });
    await newEventAndCall(o, sim);

    const archive = o.relay.store.archive;
    const events = (await archive.events({ limit: 100 })).items;
    expect(events.map((e) => e.key).sort()).toEqual(sim.unit.events.map((e) => e.key).sort());
    expect(events.every((e) => e.source === 'call-home' && e.has_waveform && e.project.project === 'Quarry North Expansion')).toBe(true);
    // Each waveform was analysed as it was archived: the summary is its analysis under the default standards.
    for (const e of events) {
      const w = (await o.relay.archivedWaveform(e.id))!.value;
      expect(e.analysis_summary).toEqual(analysisSummary(analyse(w, analysisOptions())));
    }
    const [session] = (await archive.sessions({ limit: 10 })).items;
    expect(session).toMatchObject({ serial: sim.unit.serial, kind: 'call-home', events_new: 3, waveforms_new: 3, erased: false, result: 'ok' });
    expect(session!.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(o.metrics.total('sfm_ach_sessions_total', { result: 'ok' })).toBe(1);

    // The capture the Session names holds the call, byte for byte as the unit sent it.
    expect(readdirSync(o.capturesDir)).toEqual([session!.capture]);
    const { records, cut } = readCapture(readFileSync(join(o.capturesDir, session!.capture!)));
    expect(cut).toBeNull();
    const fromUnit = records.flatMap((r) => (r.type === 'device' ? [r.bytes.length] : [])).reduce((a, b) => a + b, 0);
    expect(fromUnit).toBe(sim.server.stats.bytesOut);
    expect(records[0]).toMatchObject({ type: 'capture', header: { recorder: 'sfm 9.9.9 call-home', peer: session!.peer } });

    // Nothing new: the second call asks only for the probe.
    sim.server.resetStats();
    await sim.server.callHome();
    await callEnded(o, sim);
    expect(Object.keys(sim.server.stats.framesBySub).filter((sub) => !PROBE_ONLY.has(sub))).toEqual([]);
    const [second] = (await archive.sessions({ limit: 10 })).items;
    expect(second).toMatchObject({ kind: 'call-home', events_new: 0, waveforms_new: 0, result: 'ok' });
    expect((await archive.events({ limit: 100 })).items).toHaveLength(3);
  });

  it('tolerates the modem\'s RING/CONNECT text and the boot banner after a reboot before the first frame', async () => {
    const o = await office();
    const sim = await unitCalling(o, { events: 1, modemPreamble: true });
    sim.server.rebootNow();
    await newEventAndCall(o, sim);
    expect(sim.server.stats.noiseBytes).toBe(0);
    const [session] = (await o.relay.store.archive.sessions({ limit: 1 })).items;
    expect(session).toMatchObject({ kind: 'call-home', events_new: 2, result: 'ok' });
    const { records } = readCapture(readFileSync(join(o.capturesDir, session!.capture!)));
    const said = Buffer.concat(records.flatMap((r) => (r.type === 'device' ? [r.bytes] : []))).toString('latin1');
    expect(said.indexOf('RING')).toBeLessThan(said.indexOf('Operating System'));
    expect(said.startsWith('\r\nRING\r\n\r\nCONNECT\r\nOperating System')).toBe(true);
  });

  it('downloads no waveform with waveforms "none", and only those of events over a trigger level with "over_trigger"', async () => {
    const none = await office({ waveforms: 'none' });
    const a = await unitCalling(none, { events: 2 });
    await newEventAndCall(none, a);
    expect(a.server.stats.framesBySub[hex(SUB.BULK_WAVEFORM)]).toBeGreaterThan(0); // the project text comes by 5A…
    const noWaveforms = (await none.relay.store.archive.events({ limit: 100 })).items;
    expect(noWaveforms.map((e) => e.has_waveform)).toEqual([false, false, false]); // …but no waveform does

    // A trigger level between the events' peaks: over it, the waveform; under it, none.
    const probe = new SimulatedUnit({ ...UNIT_DEFAULTS, events: 4 });
    const peaks = probe.events.map((e) => Math.max(e.peaks.tran_ips!, e.peaks.vert_ips!, e.peaks.long_ips!)).sort((x, y) => x - y);
    const level = Number(((peaks[1]! + peaks[2]!) / 2).toFixed(3));
    const over = await office({ waveforms: 'over_trigger' });
    const b = await unitCalling(over, { events: 4, compliance: { trigger_level_ips: level, mic_trigger_psi: 1 } });
    await b.server.callHome();
    await callEnded(over, b);
    const got = (await over.relay.store.archive.events({ limit: 100 })).items;
    const wanted = new Set(b.unit.events.filter((e) => Math.max(e.peaks.tran_ips!, e.peaks.vert_ips!, e.peaks.long_ips!) >= level).map((e) => e.key));
    expect(wanted.size).toBe(2);
    expect(new Set(got.filter((e) => e.has_waveform).map((e) => e.key))).toEqual(wanted);
  });

  it('with erase_after_download and restart_monitoring: the unit ends empty and monitoring, the archive holds everything', async () => {
    const o = await office({ erase_after_download: true, restart_monitoring: true });
    const sim = await unitCalling(o, { events: 2, monitorSettleMs: 0 });
    const recorded = sim.unit.events.map((e) => e.key);
    await newEventAndCall(o, sim);
    expect(sim.unit.events).toEqual([]);
    expect(sim.unit.isMonitoring).toBe(true);
    const archived = (await o.relay.store.archive.events({ limit: 100 })).items;
    expect(archived.map((e) => e.key).sort()).toEqual([...recorded, archived.find((e) => !recorded.includes(e.key))!.key].sort());
    expect(archived.every((e) => e.has_waveform)).toBe(true);
    expect((await o.relay.store.archive.sessions({ limit: 1 })).items[0]).toMatchObject({ erased: true, result: 'ok', events_new: 3 });
  });
});

describe('who may call', () => {
  it('refuses a call from an address outside ach.allow_peers at once: nothing is read or kept', async () => {
    const o = await office({ allow_peers: ['10.0.0.0/8'] });
    const sim = await unitCalling(o, { events: 2 });
    await newEventAndCall(o, sim);
    expect(sim.server.stats.framesReceived).toBe(0);
    await expectNothingKept(o);
    expect(o.metrics.total('sfm_ach_sessions_total', { result: 'TARGET_NOT_ALLOWED' })).toBe(1);
  });

  it('refuses a unit whose serial ach.accept "known" does not know, once it said its serial: nothing kept', async () => {
    const o = await office({ accept: 'known' }, (serial) => serial === 'BE99999');
    const sim = await unitCalling(o, { events: 2 });
    await newEventAndCall(o, sim);
    // It was asked who it is, and nothing more.
    expect(Object.keys(sim.server.stats.framesBySub).sort()).toEqual([hex(SUB.SERIAL_NUMBER), hex(SUB.POLL)].sort());
    await expectNothingKept(o);
    expect(sim.unit.events).toHaveLength(3);
    expect(o.metrics.total('sfm_ach_sessions_total', { result: 'TARGET_NOT_ALLOWED' })).toBe(1);

    const known = await office({ accept: 'known' }, (serial) => serial === sim.unit.serial);
    await sim.server.callHome(known.address);
    await callEnded(known, sim);
    expect((await known.relay.store.archive.sessions({ limit: 1 })).items[0]).toMatchObject({ result: 'ok', events_new: 3 });
  });

  it('answers an HTTP request with nothing of HTTP — only the unit\'s protocol — and drops it within the wake window', async () => {
    const o = await office();
    const got = await talk(o, Buffer.from('GET /db/events HTTP/1.1\r\nHost: x\r\n\r\n'));
    expect(got.closed).toBe(true);
    expect(got.bytes.toString('latin1')).not.toMatch(/HTTP|events/);
    // What came back is the host's side of the protocol: session resets and POLL probes.
    expect(got.bytes.subarray(0, 2)).toEqual(Buffer.from([0x41, 0x03]));
    await expectNothingKept(o);
    expect(o.metrics.total('sfm_ach_sessions_total', { result: 'DEVICE_TIMEOUT' })).toBe(1);
  });

  it('drops a peer that sends more garbage than ach.preamble_bytes before any frame, without waiting out the wake window', async () => {
    const o = await office({ preamble_bytes: 1024 });
    const garbage = Buffer.alloc(4096, 0x55);
    const got = await talk(o, garbage);
    expect(got.closed).toBe(true);
    await expectNothingKept(o);
    expect(o.metrics.total('sfm_ach_sessions_total', { result: 'PROTOCOL_ERROR' })).toBe(1);
  });
});

/** Opens a connection to the call-home port, sends `bytes`, and collects what comes back until the server closes it. */
function talk(o: Office, bytes: Buffer): Promise<{ bytes: Buffer; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect(o.address.port, o.address.host, () => s.write(bytes));
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.on('error', () => undefined);
    s.on('close', () => resolve({ bytes: Buffer.concat(got), closed: true }));
    setTimeout(() => reject(new Error('the call-home server did not close the connection')), 10_000).unref();
  });
}

/** No unit, session, event or capture: the archive is as it was before the call. */
async function expectNothingKept(o: Office): Promise<void> {
  await until(() => o.server.active === 0, 'the call to end');
  const a = o.relay.store.archive;
  expect(await a.units()).toEqual([]);
  expect((await a.sessions({ limit: 10 })).items).toEqual([]);
  expect((await a.events({ limit: 10 })).items).toEqual([]);
  expect(readdirSync(o.capturesDir)).toEqual([]);
}
