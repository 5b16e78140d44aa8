/**
 * H1–H4 (shared/bench/WORKLOADS.md): cache hits over HTTP — /device/info, /device/monitor/status,
 * /device/event/0/waveform, /device/events — for one pre-warmed unit, with wrk (16 connections,
 * 2 threads), sfm and the Python peer (peer_http.py) in the same run. /device/events on sfm is the
 * real route: it probes the unit (4 round trips, shared by concurrent requests) before serving.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { RelayService } from '@sfm/core/cache';
import { DeviceRegistry, silentLogger } from '@sfm/core/kernel';
import { TransportRegistry, type DeviceTarget } from '@sfm/core/transport';
import { SimulatedUnit, startSimulator } from '@sfm/simulator';
import { SqliteStore } from '@sfm/store-sqlite';
import { tcpTransportFactory } from '@sfm/transport-tcp';
import { defaultHttpSettings, startHttpServer } from '@sfm/adapter-http';
import { PEER_PYTHON, ensurePeerDeps, sharedBenchDir } from './peer.js';
import { report } from './report.js';

const DURATION_S = Number(process.env.H_DURATION_S ?? '10');

interface WrkResult {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  non2xx: number;
  errors: number;
}

/** Runs wrk without blocking: the sfm server under test lives in this process. */
async function wrk(url: string): Promise<WrkResult | { error: string }> {
  const child = spawn('wrk', ['-t2', '-c16', `-d${DURATION_S}s`, '--latency', url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((res) => child.on('close', res));
  if (code !== 0) return { error: `wrk failed: ${err.trim()}` };
  const ms = (label: string): number => {
    const m = new RegExp(`\\s${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    if (!m) return NaN;
    const v = Number(m[1]);
    return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const errs = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return { rps, p50_ms: ms('50'), p99_ms: ms('99'), non2xx, errors: errs ? errs.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0 };
}

async function waitForPort(port: number, ms = 20_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((res) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.destroy();
        res(true);
      });
      s.on('error', () => res(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

export async function runHttpBench(): Promise<{ ok: boolean }> {
  if (spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status !== 0) {
    if (process.getuid?.() === 0) spawnSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk'], { stdio: 'inherit' });
    if (spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status !== 0) {
      report({ group: 'http', error: 'wrk is missing (apt-get install wrk)', ok: false }, [['http', 'wrk is missing']]);
      return { ok: false };
    }
  }
  // The unit: one 10-s event at 1024 Sa/s (the peer's waveform is 4 × 10 240 samples), then 999 short ones.
  const unit = new SimulatedUnit({ events: 0, recordTimeS: 10, memoryTotal: 512 * 1024 * 1024 });
  unit.recordEvent();
  unit.configure({ record_time_s: 0.25 });
  for (let i = 0; i < 999; i++) unit.recordEvent();
  const sim = await startSimulator({ unit, baud: 0, forwardDelayMs: 0, host: '127.0.0.1', port: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'sfm-hbench-'));
  const target: DeviceTarget = { kind: 'tcp', host: '127.0.0.1', port: sim.address.port };
  const relay = new RelayService(new TransportRegistry().register(tcpTransportFactory), new SqliteStore(join(dir, 'cache.db')), { statusTtlMs: 3_600_000 });
  const http = await startHttpServer({
    relay, devices: new DeviceRegistry({ demo: target }), settings: defaultHttpSettings({ port: 0, bodyLimitBytes: 65536 }), logger: silentLogger, version: 'bench',
  });
  const base = http.url.replace(/\/$/, '');
  const routes = ['/device/monitor/status', '/device/info', '/device/event/0/waveform', '/device/events'];
  for (const r of routes) {
    const res = await fetch(`${base}${r}?device=demo`);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`pre-warm ${r}: HTTP ${res.status}`);
  }

  // The peer, started now: its status entry lives 30 s, so status is measured first.
  let peer: ChildProcess | undefined;
  let peerError: string | null = ensurePeerDeps();
  const benchDir = sharedBenchDir();
  const peerPort = 18_000 + Math.floor(Math.random() * 1000);
  if (!peerError && benchDir) {
    peer = spawn(PEER_PYTHON, [resolve(benchDir, 'peer_http.py'), String(peerPort)], { cwd: benchDir, stdio: 'ignore' });
    if (!(await waitForPort(peerPort))) peerError = 'peer_http.py did not start';
  } else peerError ??= 'shared/bench not found';

  const rows: { route: string; sfm: WrkResult | { error: string }; peer: WrkResult | { error: string } | null }[] = [];
  try {
    for (const r of routes) {
      const p = peerError ? null : await wrk(`http://127.0.0.1:${peerPort}${r}?host=127.0.0.1&tcp_port=12345`);
      const s = await wrk(`${base}${r}?device=demo`);
      rows.push({ route: r, sfm: s, peer: p });
    }
  } finally {
    peer?.kill('SIGTERM');
    await http.close();
    relay.store.close();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const ok = rows.every((row) => {
    if ('error' in row.sfm || !row.peer || 'error' in row.peer) return false;
    return row.sfm.non2xx === 0 && row.sfm.rps >= 10 * row.peer.rps && row.sfm.p99_ms <= row.peer.p99_ms / 10;
  });
  const f = (x: number) => (Number.isFinite(x) ? (x >= 100 ? Math.round(x).toLocaleString('en') : x.toFixed(2)) : '—');
  const cell = (w: WrkResult | { error: string } | null, k: keyof WrkResult) => (w && !('error' in w) ? f(w[k]) : '—');
  const ratio = (a: WrkResult | { error: string }, b: WrkResult | { error: string } | null, k: 'rps' | 'p99_ms') =>
    !('error' in a) && b && !('error' in b) ? (k === 'rps' ? `${(a.rps / b.rps).toFixed(1)}×` : `${(b.p99_ms / a.p99_ms).toFixed(1)}×`) : '—';
  report({ group: 'http', tool: `wrk -t2 -c16 -d${DURATION_S}s`, peer_error: peerError, rows, ok }, [
    ['route', 'peer req/s', 'sfm req/s', '×', 'peer p50', 'sfm p50', 'peer p99', 'sfm p99', 'p99 ÷', 'sfm non-2xx'],
    ...rows.map((r) => [r.route, cell(r.peer, 'rps'), cell(r.sfm, 'rps'), ratio(r.sfm, r.peer, 'rps'), cell(r.peer, 'p50_ms'), cell(r.sfm, 'p50_ms'), cell(r.peer, 'p99_ms'), cell(r.sfm, 'p99_ms'), ratio(r.sfm, r.peer, 'p99_ms'), cell(r.sfm, 'non2xx')]),
    ['targets', '', '', '≥10×', '', '', '', '', '≥10×', '0'],
  ]);
  return { ok };
}
