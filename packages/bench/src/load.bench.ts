/**
 * Load (loopback only, bounded in time): 10 emulated units (5 events of 1 s each, a 5 ms modem
 * hold, no baud pacing), one sfm HTTP relay (RelayService over transport-tcp, the SQLite cache in
 * a temporary folder, the units registered as unit0..unit9, a queue of 64 per unit with a 5 s
 * wait), and 200 concurrent keep-alive HTTP clients — in a worker thread, so they do not share the
 * relay's event loop — for LOAD_S seconds (default 60), on a mix of routes and random units: info,
 * status, events, event/N, waveform/N, call-home, 1 % with force=true, 0.5 % monitor start/stop.
 *
 * Targets: every response is 2xx, or 503 DEVICE_BUSY (the queue's policy); no unit ever has two
 * sessions at once (the emulator's maxConcurrentSessions stays 1); the process's peak RSS,
 * sampled every second, stays under 1 GiB. Reported: req/s, latency p50/p99, counts per status
 * and code, peak RSS, the sessions of each unit.
 */
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { RelayService } from '@sfm/core/cache';
import { DeviceRegistry, silentLogger } from '@sfm/core/kernel';
import { TransportRegistry, type DeviceTarget } from '@sfm/core/transport';
import { startSimulator, type RunningSimulator } from '@sfm/simulator';
import { SqliteStore } from '@sfm/store-sqlite';
import { tcpTransportFactory } from '@sfm/transport-tcp';
import { defaultHttpSettings, startHttpServer } from '@sfm/adapter-http';
import { report } from './report.js';

export const UNITS = 10;
export const CLIENTS = 200;
export const EVENTS = 5;
export const RSS_LIMIT = 1024 * 1024 * 1024;
/** The emulated units' settings (each its own serial and seed). */
export const UNIT_OPTIONS = { events: EVENTS, recordTimeS: 1, baud: 0, forwardDelayMs: 5, monitorSettleMs: 50, host: '127.0.0.1', port: 0 } as const;

interface ClientJob {
  role: 'sfm-load-clients';
  /** The relays' base URLs: client i asks bases[i % bases.length]. */
  bases: string[];
  clients: number;
  durationMs: number;
  units: number;
}

export interface ClientResult {
  /** "200", "503 DEVICE_BUSY", "404 NOT_FOUND", "error ECONNRESET", … */
  counts: Record<string, number>;
  /** Milliseconds per request, in completion order. */
  latencies: Float64Array;
  /** The first few responses outside policy, for the report. */
  unexpected: string[];
  routes: Record<string, number>;
}

// --- the clients (worker thread) ------------------------------------------------------------------

function pick(units: number): { method: 'GET' | 'POST'; path: string; route: string } {
  const unit = `device=unit${Math.floor(Math.random() * units)}`;
  const n = Math.floor(Math.random() * EVENTS);
  const force = Math.random() < 0.01 ? '&force=true' : '';
  const r = Math.random() * 100;
  if (r < 22) return { method: 'GET', path: `/device/info?${unit}${force}`, route: `info${force && '+force'}` };
  if (r < 44) return { method: 'GET', path: `/device/monitor/status?${unit}${force}`, route: `status${force && '+force'}` };
  if (r < 58) return { method: 'GET', path: `/device/events?${unit}${force}`, route: `events${force && '+force'}` };
  if (r < 78) return { method: 'GET', path: `/device/event/${n}?${unit}${force}`, route: `event${force && '+force'}` };
  if (r < 97.5) return { method: 'GET', path: `/device/event/${n}/waveform?${unit}${force}`, route: `waveform${force && '+force'}` };
  if (r < 99.5) return { method: 'GET', path: `/device/call-home?${unit}`, route: 'call-home' };
  const start = Math.random() < 0.5;
  return { method: 'POST', path: `/device/monitor/${start ? 'start' : 'stop'}?${unit}`, route: start ? 'monitor-start' : 'monitor-stop' };
}

function send(agent: Agent, base: string, method: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(base + path, { method, agent, headers: method === 'POST' ? { 'content-length': '0' } : undefined }, (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      // Bodies of successes are read and dropped; errors are kept to check their code.
      res.on('data', (d: Buffer) => {
        if (status >= 300) chunks.push(d);
      });
      res.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function runClients(job: ClientJob): Promise<ClientResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.clients });
  const counts: Record<string, number> = {};
  const routes: Record<string, number> = {};
  const unexpected: string[] = [];
  let latencies = new Float64Array(1 << 20);
  let n = 0;
  const deadline = performance.now() + job.durationMs;
  const bump = (bag: Record<string, number>, k: string) => void (bag[k] = (bag[k] ?? 0) + 1);
  const loop = async (base: string) => {
    while (performance.now() < deadline) {
      const { method, path, route } = pick(job.units);
      bump(routes, route);
      const t0 = performance.now();
      let key: string;
      try {
        const { status, body } = await send(agent, base, method, path);
        if (status < 300) key = String(status);
        else {
          let code = '?';
          try {
            code = (JSON.parse(body) as { error: { code: string } }).error.code;
          } catch {
            // not the contract's error body: counted as such
          }
          key = `${status} ${code}`;
          if (!(status === 503 && code === 'DEVICE_BUSY') && unexpected.length < 20) unexpected.push(`${method} ${path} → ${status} ${body.slice(0, 200)}`);
        }
      } catch (e) {
        key = `error ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
        if (unexpected.length < 20) unexpected.push(`${method} ${path} → ${key}`);
      }
      if (n === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[n++] = performance.now() - t0;
      bump(counts, key);
    }
  };
  await Promise.all(Array.from({ length: job.clients }, (_, i) => loop(job.bases[i % job.bases.length]!)));
  agent.destroy();
  return { counts, latencies: latencies.slice(0, n), unexpected, routes };
}

if (!isMainThread && (workerData as ClientJob | undefined)?.role === 'sfm-load-clients') {
  void runClients(workerData as ClientJob).then((r) => parentPort!.postMessage(r, [r.latencies.buffer as ArrayBuffer]));
}

/** CLIENTS keep-alive clients on `bases` for `durationMs`, in a worker thread (not the relays' event loop). */
export async function driveClients(bases: string[], durationMs: number): Promise<ClientResult> {
  const job: ClientJob = { role: 'sfm-load-clients', bases, clients: CLIENTS, durationMs, units: UNITS };
  const worker = new Worker(new URL(import.meta.url), { workerData: job });
  try {
    return await new Promise<ClientResult>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the client worker exited (${code}) before reporting`)));
    });
  } finally {
    await worker.terminate();
  }
}

/** Requests outside the policy: anything but 2xx and 503 DEVICE_BUSY. */
export function outOfPolicy(counts: Record<string, number>): number {
  return Object.entries(counts).filter(([k]) => !/^2\d\d$/.test(k) && k !== '503 DEVICE_BUSY').reduce((a, [, v]) => a + v, 0);
}

// --- the relay and the units (main thread) --------------------------------------------------------

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * (sorted.length - 1)))]!;
}

/** Rounded to 0.1. */
export const r1 = (x: number): number => Math.round(x * 10) / 10;
export const mib = (bytes: number): number => r1(bytes / 1024 / 1024);

/** The latency figures a load run reports, from its sorted latencies (ms). */
export function latencySummary(sorted: Float64Array): Record<'p50' | 'p90' | 'p99' | 'p999' | 'max', number> {
  return { p50: r1(percentile(sorted, 0.5)), p90: r1(percentile(sorted, 0.9)), p99: r1(percentile(sorted, 0.99)), p999: r1(percentile(sorted, 0.999)), max: r1(sorted.at(-1) ?? NaN) };
}

/** LOAD_S: seconds of load (default 60). */
export function loadSeconds(): number {
  const loadS = Number(process.env.LOAD_S ?? '60');
  if (!Number.isFinite(loadS) || loadS <= 0) throw new RangeError(`LOAD_S must be a positive number of seconds, got ${process.env.LOAD_S}`);
  return loadS;
}

export async function runLoadBench(): Promise<{ ok: boolean }> {
  const loadS = loadSeconds();
  const sims: RunningSimulator[] = [];
  for (let i = 0; i < UNITS; i++) {
    sims.push(await startSimulator({ serial: `BE2000${i}`, seed: i + 1, ...UNIT_OPTIONS }));
  }
  const dir = mkdtempSync(join(tmpdir(), 'sfm-load-'));
  const relay = new RelayService(new TransportRegistry().register(tcpTransportFactory), new SqliteStore(join(dir, 'cache.db')), {
    client: { frameTimeoutMs: 5000, chunkTimeoutMs: 5000, monitorPollMs: 20, monitorStartTimeoutMs: 5000 },
    queue: { maxQueued: 64, maxWaitMs: 5000 },
  });
  const devices = new DeviceRegistry(Object.fromEntries(sims.map((s, i): [string, DeviceTarget] => [`unit${i}`, { kind: 'tcp', host: '127.0.0.1', port: s.address.port }])));
  const http = await startHttpServer({ relay, devices, settings: defaultHttpSettings({ port: 0, bodyLimitBytes: 65536 }), logger: silentLogger, version: 'bench' });

  let peakRss = process.memoryUsage.rss();
  const rssSamples: number[] = [];
  const sampler = setInterval(() => {
    const rss = process.memoryUsage.rss();
    rssSamples.push(rss);
    peakRss = Math.max(peakRss, rss);
  }, 1000);
  const t0 = performance.now();
  let result: ClientResult;
  let elapsedS: number;
  try {
    result = await driveClients([http.url.replace(/\/$/, '')], loadS * 1000);
    elapsedS = (performance.now() - t0) / 1000;
  } finally {
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    await http.close();
  }
  const cache = await relay.cacheStats();
  relay.store.close();
  const sessions = Object.fromEntries(sims.map((s, i) => [`unit${i}`, { max_concurrent: s.server.stats.maxConcurrentSessions, sessions: s.server.stats.connectionsTotal }]));
  await Promise.all(sims.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });

  const lat = result.latencies.sort();
  const total = lat.length;
  const outside = outOfPolicy(result.counts);
  const maxSessions = Math.max(...Object.values(sessions).map((s) => s.max_concurrent));
  const checks = {
    only_2xx_or_device_busy: outside === 0 && total > 0,
    one_session_per_unit: maxSessions === 1,
    peak_rss_under_1_gib: peakRss < RSS_LIMIT,
  };
  const ok = Object.values(checks).every(Boolean);
  report({
    group: 'load',
    load_s: loadS,
    elapsed_s: r1(elapsedS),
    units: UNITS,
    clients: CLIENTS,
    requests: total,
    rps: Math.round(total / elapsedS),
    latency_ms: latencySummary(lat),
    status_counts: result.counts,
    out_of_policy: outside,
    unexpected: result.unexpected,
    routes: result.routes,
    peak_rss_mib: mib(peakRss),
    rss_mib_first_last: [mib(rssSamples[0] ?? peakRss), mib(rssSamples.at(-1) ?? peakRss)],
    max_concurrent_sessions: maxSessions,
    sessions_per_unit: sessions,
    cache: Object.fromEntries(Object.entries(cache.kinds).map(([k, v]) => [k, { hits: v.hits, misses: v.misses, refreshes: v.refreshes }])),
    checks,
    ok,
  }, [
    ['load', 'value', 'target'],
    ['duration', `${r1(elapsedS)} s`, `LOAD_S=${loadS}`],
    ['clients / units', `${CLIENTS} / ${UNITS}`, ''],
    ['requests', total.toLocaleString('en'), ''],
    ['req/s', Math.round(total / elapsedS).toLocaleString('en'), ''],
    ['latency p50', `${r1(percentile(lat, 0.5))} ms`, ''],
    ['latency p99', `${r1(percentile(lat, 0.99))} ms`, ''],
    ...Object.entries(result.counts).sort().map(([k, v]) => [`status ${k}`, v.toLocaleString('en'), /^2\d\d$|^503 DEVICE_BUSY$/.test(k) ? 'by policy' : 'NOT ALLOWED']),
    ['peak RSS', `${mib(peakRss)} MiB`, '< 1024 MiB'],
    ['max sessions at once, any unit', String(maxSessions), '1'],
    ...Object.entries(sessions).map(([u, s]) => [`  ${u}`, `max ${s.max_concurrent}, ${s.sessions} sessions`, '1']),
  ]);
  return { ok };
}
