/**
 * Load on two relays as one (`pnpm bench load_postgres`, loopback only, bounded in time): the 10
 * emulated units of the load run, two real `sfm serve` processes (packages/app/dist/main.js, built
 * by `pnpm bench`) sharing one PostgreSQL database (a fresh database on a local server:
 * postgres.ts) with the units registered as unit0..unit9 in both, a queue of 64 per unit with a
 * 5 s wait, and the same 200 keep-alive clients for LOAD_S seconds (default 60) — client i asks
 * relay i mod 2, so every unit is asked through both at once.
 *
 * Targets: every response is 2xx, or 503 DEVICE_BUSY (the queue's policy); no unit ever has two
 * sessions at once although two processes serve it (the emulator's maxConcurrentSessions stays
 * 1); each relay's peak RSS, sampled every second, stays under 1 GiB.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSimulator, type RunningSimulator } from '@sfm/simulator';
import { CLIENTS, RSS_LIMIT, UNITS, UNIT_OPTIONS, driveClients, latencySummary, loadSeconds, mib, outOfPolicy, percentile, r1, type ClientResult } from './load.bench.js';
import { POSTGRES_SETTINGS, freshPostgres } from './postgres.js';
import { report } from './report.js';

const RELAYS = 2;
const MAIN = fileURLToPath(new URL('../../app/dist/main.js', import.meta.url));

interface Relay {
  child: ChildProcess;
  url: string;
  peakRss: number;
  err: string;
}

/** `sfm serve` with `config`, resolved once it listens. */
function startRelay(config: string): Promise<Relay> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--listen', '127.0.0.1:0', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]!.replace(/\/$/, ''), peakRss: 0, get err() { return err; } });
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`sfm serve exited (${code}) before listening: ${err.trim().slice(0, 500)}`)));
  });
}

/** A process's resident set, in bytes (0 once it is gone). */
function rssOf(pid: number | undefined): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) * 1024 : 0;
  } catch {
    return 0;
  }
}

export async function runLoadPostgresBench(): Promise<{ ok: boolean }> {
  const loadS = loadSeconds();
  const sims: RunningSimulator[] = [];
  const relays: Relay[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'sfm-load-pg-'));
  let result: ClientResult;
  let elapsedS: number;
  let sampler: NodeJS.Timeout | undefined;
  try {
    for (let i = 0; i < UNITS; i++) sims.push(await startSimulator({ serial: `BE2000${i}`, seed: i + 1, ...UNIT_OPTIONS }));
    const config = join(dir, 'sfm.json');
    writeFileSync(config, JSON.stringify({
      plugins: ['transport-tcp', 'store-postgres', 'adapter-http'],
      store: await freshPostgres(),
      devices: Object.fromEntries(sims.map((s, i) => [`unit${i}`, { host: '127.0.0.1', tcp_port: s.address.port }])),
      simulate: false,
      frame_timeout_s: 5,
      chunk_timeout_s: 5,
      queue_max: 64,
      queue_wait_s: 5,
      log_level: 'error',
    }));
    for (let i = 0; i < RELAYS; i++) relays.push(await startRelay(config));
    sampler = setInterval(() => {
      for (const r of relays) r.peakRss = Math.max(r.peakRss, rssOf(r.child.pid));
    }, 1000);
    const t0 = performance.now();
    result = await driveClients(relays.map((r) => r.url), loadS * 1000);
    elapsedS = (performance.now() - t0) / 1000;
  } finally {
    clearInterval(sampler);
    for (const r of relays) r.peakRss = Math.max(r.peakRss, rssOf(r.child.pid));
    await Promise.all(relays.map((r) => new Promise((resolve) => {
      r.child.once('exit', resolve);
      r.child.kill('SIGTERM');
    })));
    rmSync(dir, { recursive: true, force: true });
  }
  const sessions = Object.fromEntries(sims.map((s, i) => [`unit${i}`, { max_concurrent: s.server.stats.maxConcurrentSessions, sessions: s.server.stats.connectionsTotal }]));
  await Promise.all(sims.map((s) => s.close()));

  const lat = result.latencies.sort();
  const total = lat.length;
  const outside = outOfPolicy(result.counts);
  const maxSessions = Math.max(...Object.values(sessions).map((s) => s.max_concurrent));
  const peakRss = Math.max(...relays.map((r) => r.peakRss));
  const checks = {
    only_2xx_or_device_busy: outside === 0 && total > 0,
    one_session_per_unit_across_both_relays: maxSessions === 1,
    peak_rss_under_1_gib_each: peakRss < RSS_LIMIT,
  };
  const ok = Object.values(checks).every(Boolean);
  report({
    group: 'load_postgres',
    store: `postgres (${POSTGRES_SETTINGS})`,
    relays: RELAYS,
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
    peak_rss_mib_per_relay: relays.map((r) => mib(r.peakRss)),
    max_concurrent_sessions: maxSessions,
    sessions_per_unit: sessions,
    checks,
    ok,
  }, [
    ['load, two relays on PostgreSQL', 'value', 'target'],
    ['duration', `${r1(elapsedS)} s`, `LOAD_S=${loadS}`],
    ['clients / units / relays', `${CLIENTS} / ${UNITS} / ${RELAYS}`, ''],
    ['requests', total.toLocaleString('en'), ''],
    ['req/s', Math.round(total / elapsedS).toLocaleString('en'), ''],
    ['latency p50', `${r1(percentile(lat, 0.5))} ms`, ''],
    ['latency p99', `${r1(percentile(lat, 0.99))} ms`, ''],
    ...Object.entries(result.counts).sort().map(([k, v]) => [`status ${k}`, v.toLocaleString('en'), /^2\d\d$|^503 DEVICE_BUSY$/.test(k) ? 'by policy' : 'NOT ALLOWED']),
    ...relays.map((r, i) => [`peak RSS, relay ${i + 1}`, `${mib(r.peakRss)} MiB`, '< 1024 MiB']),
    ['max sessions at once, any unit', String(maxSessions), '1'],
    ...Object.entries(sessions).map(([u, s]) => [`  ${u}`, `max ${s.max_concurrent}, ${s.sessions} sessions`, '1']),
  ]);
  return { ok };
}
