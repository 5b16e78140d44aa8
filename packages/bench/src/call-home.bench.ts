/**
 * CH: HTTP cache hits while units call home. One process serves HTTP (a pre-warmed unit, as in
 * the `http` group) and takes calls (the call-home listener: every call syncs the new event,
 * downloads its waveform, archives it durably and erases the unit), on one SQLite file. CH_UNITS
 * emulated units (default 100, in a worker thread: their work is not sfm's) call again and
 * again, each at CH_BAUD (default 38400, the modem's line), so about CH_UNITS calls are in
 * progress at every moment. Per round and route: wrk on the hit route with no call in progress,
 * then with the calls going (wrk -t2 -c16, CH_DURATION_S seconds, default 5), interleaved over
 * ROUNDS rounds. Medians with min–max of req/s and p50/p99.
 *
 * Target: the calls must not slow the hits — the median p99 with calls in progress at most
 * P99_X × the median p99 without (and no non-2xx, no device round trip for the hit).
 */
import { Worker } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallHomeServer, callHomeSettings } from '@sfm/call-home';
import { RelayService } from '@sfm/core/cache';
import { DeviceRegistry, silentLogger } from '@sfm/core/kernel';
import { TransportRegistry, type DeviceTarget } from '@sfm/core/transport';
import { SimulatedUnit, startSimulator } from '@sfm/simulator';
import { SqliteStore } from '@sfm/store-sqlite';
import { tcpTransportFactory } from '@sfm/transport-tcp';
import { defaultHttpSettings, startHttpServer } from '@sfm/adapter-http';
import { ensureWrk, wrk } from './http.bench.js';
import { idle } from './link.js';
import { report } from './report.js';
import { fmtNum, fmtSpread, interleave, seriesOf, spread, type Metrics, type Spread } from './compare.js';

const UNITS = Math.max(1, Math.floor(Number(process.env.CH_UNITS ?? '100')));
const BAUD = Math.max(0, Math.floor(Number(process.env.CH_BAUD ?? '38400')));
/**
 * The modem's hold before it forwards a burst. A real one holds ~1 s, so a call lasts a minute and
 * few would end within a run; 200 ms keeps a hundred calls in progress that also end (archive,
 * durable commit, erase) several times a second. CH_FORWARD_MS=0: calls as fast as the line allows.
 */
const FORWARD_MS = Math.max(0, Number(process.env.CH_FORWARD_MS ?? '200'));
/** The units' first calls are spread over this. */
const STAGGER_MS = 3000;
const DURATION_S = Number(process.env.CH_DURATION_S ?? '5');
const HOUR_MS = 3_600_000;
/** The target: p99 with calls in progress ≤ this × p99 without. */
const P99_X = 2;

const ROUTES = [
  { id: '/device/info', path: '/device/info?device=demo' },
  { id: '/device/event/0/waveform', path: '/device/event/0/waveform?device=demo' },
];

interface Row {
  route: string;
  /** The fewest calls in progress at any moment of the runs with calls. */
  in_progress_min: number | null;
  rps: { quiet: Spread; calling: Spread };
  p50_ms: { quiet: Spread; calling: Spread };
  p99_ms: { quiet: Spread; calling: Spread };
  /** Median p99 calling ÷ quiet. */
  p99_ratio: number | null;
  target: number;
  met: boolean;
  non2xx: number;
  device_round_trips: number;
}

export async function runCallHomeBench(): Promise<{ ok: boolean }> {
  if (!ensureWrk('call_home')) return { ok: false };
  const dir = mkdtempSync(join(tmpdir(), 'sfm-chbench-'));
  // The unit the hits are about: its info and one 10-s waveform, read once.
  const sim = await startSimulator({ unit: new SimulatedUnit({ events: 1, recordTimeS: 10 }), baud: 0, forwardDelayMs: 0, host: '127.0.0.1', port: 0 });
  const target: DeviceTarget = { kind: 'tcp', host: '127.0.0.1', port: sim.address.port };
  const relay = new RelayService(new TransportRegistry().register(tcpTransportFactory), new SqliteStore(join(dir, 'cache.db')), { statusTtlMs: HOUR_MS, identityTtlMs: HOUR_MS });
  const http = await startHttpServer({ relay, devices: new DeviceRegistry({ demo: target }), settings: defaultHttpSettings({ port: 0 }), logger: silentLogger, version: 'bench' });
  const settings = callHomeSettings({ listen: '127.0.0.1:0', allow_peers: ['127.0.0.0/8'], accept: 'any', waveforms: 'all', erase_after_download: true, captures_dir: join(dir, 'captures') });
  const office = new CallHomeServer({ relay, settings: { ...settings, listen: settings.listen! }, logger: silentLogger });
  const listen = await office.start();
  const units = new Worker(new URL('./call-home-units.js', import.meta.url), { workerData: { host: listen.host, port: listen.port, count: UNITS, baud: BAUD, forwardDelayMs: FORWARD_MS, staggerMs: STAGGER_MS } });
  const message = () => new Promise<unknown>((resolve, reject) => {
    units.once('message', resolve);
    units.once('error', reject);
  });
  await message();
  const base = http.url.replace(/\/$/, '');
  const sessions = { calls: 0, seconds: 0, results: {} as Record<string, number> };
  let series;
  try {
    for (const r of ROUTES) {
      const res = await fetch(`${base}${r.path}`);
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`pre-warm ${r.id}: HTTP ${res.status}`);
    }
    await idle(sim.server);
    for (const r of ROUTES) await wrk(`${base}${r.path}`, [], 1);

    const hits = (r: (typeof ROUTES)[number]) => async (): Promise<Metrics> => {
      sim.server.resetStats();
      let lowest = office.active;
      const watch = setInterval(() => (lowest = Math.min(lowest, office.active)), 50);
      const w = await wrk(`${base}${r.path}`);
      clearInterval(watch);
      return { ...w, device_round_trips: sim.server.stats.roundTrips, in_progress_min: lowest };
    };
    let startedAt = 0;
    const startCalls = async (): Promise<Metrics> => {
      units.postMessage('start');
      startedAt = performance.now();
      // The hits are measured once (nearly) every unit is in a call.
      while (office.active < UNITS * 0.95 && performance.now() - startedAt < 60_000) await new Promise((x) => setTimeout(x, 20));
      return {};
    };
    const stopCalls = async (): Promise<Metrics> => {
      const stopped = message();
      units.postMessage('stop');
      const made = (await stopped) as { calls: number };
      while (office.active > 0) await new Promise((x) => setTimeout(x, 20));
      sessions.calls += made.calls;
      sessions.seconds += (performance.now() - startedAt) / 1000;
      return {};
    };
    series = await interleave('call_home', [
      ...ROUTES.map((r) => ({ name: `${r.id}|quiet`, run: hits(r) })),
      { name: 'start calls', run: startCalls },
      ...ROUTES.map((r) => ({ name: `${r.id}|calling`, run: hits(r) })),
      { name: 'stop calls', run: stopCalls },
    ]);
    const page = await relay.store.archive.sessions({ limit: 100_000 });
    for (const s of page.items) sessions.results[s.result] = (sessions.results[s.result] ?? 0) + 1;
  } finally {
    const closed = new Promise((resolve) => units.once('exit', resolve));
    units.postMessage('close');
    await closed;
    await office.stop();
    await http.close();
    await relay.drain();
    await relay.store.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const sum = (xs: (number | null)[]) => xs.reduce<number>((a, b) => a + (b ?? 0), 0);
  const rows: Row[] = ROUTES.map((r) => {
    const s = (phase: string, m: string) => seriesOf(series, `${r.id}|${phase}`, m);
    const both = (m: string) => ({ quiet: spread(s('quiet', m)), calling: spread(s('calling', m)) });
    const p99 = both('p99_ms');
    const inProgress = spread(s('calling', 'in_progress_min'));
    const ratio = p99.quiet.median && p99.calling.median !== null ? +(p99.calling.median / p99.quiet.median).toFixed(2) : null;
    const non2xx = sum(s('quiet', 'non2xx')) + sum(s('calling', 'non2xx'));
    const rts = sum(s('quiet', 'device_round_trips')) + sum(s('calling', 'device_round_trips'));
    return {
      route: r.id, in_progress_min: inProgress.min, rps: both('rps'), p50_ms: both('p50_ms'), p99_ms: p99, p99_ratio: ratio, target: P99_X,
      met: ratio !== null && ratio <= P99_X && non2xx === 0 && rts === 0, non2xx, device_round_trips: rts,
    };
  });
  const ok = rows.every((r) => r.met);
  const callRate = sessions.seconds > 0 ? sessions.calls / sessions.seconds : null;
  report(
    {
      group: 'call_home', tool: `wrk -t2 -c16 -d${DURATION_S}s --latency`, rounds: series.rounds, units: UNITS, unit_baud: BAUD,
      target: `p99 of every hit route with ${UNITS} calls in progress ≤ ${P99_X}× its p99 with none (median over rounds); no non-2xx, no device round trip`,
      unit_forward_delay_ms: FORWARD_MS,
      calls: { completed_or_cut: sessions.calls, per_s: callRate === null ? null : +callRate.toFixed(1), session_results: sessions.results },
      rows, errors: Object.fromEntries(Object.entries(series.errors).filter(([, e]) => e.length > 0)), ok,
    },
    [
      ['route', 'calls', 'req/s median (min–max)', 'p50 ms', 'p99 ms', 'p99 × quiet', 'target'],
      ...rows.flatMap((r) => [
        [r.route, 'none', fmtSpread(r.rps.quiet), fmtSpread(r.p50_ms.quiet), fmtSpread(r.p99_ms.quiet), '', ''],
        [r.route, `${fmtNum(r.in_progress_min)}+ in progress`, fmtSpread(r.rps.calling), fmtSpread(r.p50_ms.calling), fmtSpread(r.p99_ms.calling), `${fmtNum(r.p99_ratio)}×`, `≤${r.target}× ${r.met ? 'met' : 'NOT MET'}`],
      ]),
      [`calls ended while the units called: ${sessions.calls} (${callRate === null ? '—' : callRate.toFixed(1)}/s); sessions: ${JSON.stringify(sessions.results)} (DEVICE_UNREACHABLE: cut when the units hung up)`, '', '', '', '', '', ''],
    ],
  );
  return { ok };
}
