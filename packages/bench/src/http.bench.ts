/**
 * H (shared/bench/WORKLOADS.md): cache hits over HTTP for one pre-warmed unit, with wrk (16
 * connections, 2 threads, H_DURATION_S seconds per run, default 5), interleaved over ROUNDS
 * rounds (compare.ts). Per round and route: the tuned peer (peer_http_verbatim.py: the stored JSON
 * text answered unchanged — the targets are set against it), sfm, sfm with `Accept-Encoding: gzip,
 * br`, then the seed's own server (peer_http.py: parse + FastAPI re-encode; a labelled second row,
 * for the first PEER_HTTP_ROUNDS rounds, default 3), after an untimed 1-s warm-up run of sfm and
 * the tuned peer on each route. Medians with min–max of req/s and p50/p99.
 *
 * Target: every hit route, with and without Accept-Encoding, ≥ 10× the tuned peer in req/s (median
 * ratio), with no non-2xx answer and no device round trip while wrk runs (a hit). sfm's
 * /device/events talks to the unit (the probe) unless `max_age` allows a recent probe: the hit row
 * uses max_age (as the peer, no device I/O); the probing route is an informational row (against an
 * emulated unit with no baud pacing and no modem delay, in this process).
 *
 * The same relay on the PostgreSQL store (a second relay and server in this process, its cache in
 * a fresh database on a local server: postgres.ts) is measured on every hit route right after
 * sfm: informational rows beside SQLite's.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayService } from '@sfm/core/cache';
import { DeviceRegistry, silentLogger } from '@sfm/core/kernel';
import { TransportRegistry, type DeviceTarget } from '@sfm/core/transport';
import { SimulatedUnit, startSimulator } from '@sfm/simulator';
import { SqliteStore } from '@sfm/store-sqlite';
import { PostgresStore } from '@sfm/store-postgres';
import { POSTGRES_SETTINGS, freshPostgres } from './postgres.js';
import { tcpTransportFactory } from '@sfm/transport-tcp';
import { defaultHttpSettings, startHttpServer } from '@sfm/adapter-http';
import { ensurePeerDeps, sharedBenchDir, startPeerHttp, type PeerServer } from './peer.js';
import { idle } from './link.js';
import { report } from './report.js';
import { compare, fmtNum, fmtRatio, fmtSpread, fmtTarget, interleave, seriesOf, spread, ROUNDS, type Comparison, type Metrics, type Series, type Spread } from './compare.js';

const DURATION_S = Number(process.env.H_DURATION_S ?? '5');
const PEER_HTTP_ROUNDS = Math.min(ROUNDS, Math.max(0, Math.floor(Number(process.env.PEER_HTTP_ROUNDS ?? '3'))));
const PEER_WORKERS = Math.max(1, Math.floor(Number(process.env.PEER_WORKERS ?? '1')));
const HOUR_MS = 3_600_000;
const WARMUP_S = 1;
const TARGET_X = 10;
const GZIP = 'gzip, br';
/** Hit bytes on the wire must shrink this much for a client that accepts compression, on these routes. */
const BYTES_CUT_X = 10;
const BYTES_CUT_ROUTES = ['/device/event/0/waveform', '/device/events'];
const VERBATIM = 'peer_http_verbatim.py';
const SEED = 'peer_http.py';

interface Route {
  id: string;
  path: string;
  /** Extra query for sfm (after `?device=demo`). */
  sfmQuery: string;
  /** A hit route: a target, and no device I/O allowed while it runs. */
  hit: boolean;
  /** The peers' measurement of this route is shared with another row (no peer runs of its own). */
  peerOf?: string;
  note?: string;
}

// Status first: the seed's server keeps its status 30 s after it starts (its TTL), so it is
// (re)started right before its status run.
const ROUTES: Route[] = [
  { id: '/device/monitor/status', path: '/device/monitor/status', sfmQuery: '', hit: true },
  { id: '/device/info', path: '/device/info', sfmQuery: '', hit: true },
  { id: '/device/event/0/waveform', path: '/device/event/0/waveform', sfmQuery: '', hit: true },
  { id: '/device/events', path: '/device/events', sfmQuery: '&max_age=31536000', hit: true, note: 'sfm with max_age (no probe), as the peer' },
  { id: '/device/events (probe)', path: '/device/events', sfmQuery: '', hit: false, peerOf: '/device/events', note: 'sfm probes the emulated unit first (no baud pacing, no modem delay, same process)' },
];

export interface WrkResult {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  non2xx: number;
  errors: number;
}

/**
 * Runs wrk without blocking: the sfm server under test lives in this process. Two threads and 16
 * connections measure throughput; one and one, a request's own latency.
 */
export async function wrk(url: string, headers: string[] = [], durationS = DURATION_S, load: { threads: number; connections: number } = { threads: 2, connections: 16 }): Promise<WrkResult> {
  const args = [`-t${load.threads}`, `-c${load.connections}`, `-d${durationS}s`, '--latency', ...headers.flatMap((h) => ['-H', h]), url];
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((res) => child.on('close', res));
  if (code !== 0) throw new Error(`wrk failed: ${err.trim()}`);
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

/** A peer's run: a non-2xx answer (e.g. an expired status) makes the round's numbers meaningless. */
async function peerRun(url: string): Promise<Metrics> {
  const w = await wrk(url);
  if (w.non2xx > 0) throw new Error(`${w.non2xx} non-2xx answers from ${url}`);
  return { ...w };
}

/** What one response costs on the wire: the raw body (node:http does not decompress). */
interface ResponseBytes {
  status: number;
  content_encoding: string | null;
  content_length: number | null;
  body_bytes: number;
  x_cache: string | null;
}

function responseBytes(url: string, acceptEncoding?: string): Promise<ResponseBytes> {
  return new Promise((resolve, reject) => {
    const req = get(url, { headers: acceptEncoding ? { 'accept-encoding': acceptEncoding } : {}, agent: false }, (res) => {
      let n = 0;
      res.on('data', (d: Buffer) => (n += d.length));
      res.on('end', () => {
        const cl = res.headers['content-length'];
        resolve({
          status: res.statusCode ?? 0, content_encoding: (res.headers['content-encoding'] as string | undefined) ?? null,
          content_length: cl === undefined ? null : Number(cl), body_bytes: n, x_cache: (res.headers['x-cache'] as string | undefined) ?? null,
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface HttpRow extends Comparison {
  route: string;
  variant: string;
  latency_ms: { sfm_p50: Spread; sfm_p99: Spread; peer_p50: Spread; peer_p99: Spread };
  /** Over every round of the sfm side. */
  sfm_non2xx: number;
  sfm_socket_errors: number;
  device_round_trips: number;
}

/** wrk is there (installed with apt-get when missing and running as root); otherwise the group reports it and fails. */
export function ensureWrk(group: string): boolean {
  if (spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status !== 0) {
    if (process.getuid?.() === 0) spawnSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk'], { stdio: 'inherit' });
    if (spawnSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' }).status !== 0) {
      report({ group, error: 'wrk is missing (apt-get install wrk)', ok: false }, [[group, 'wrk is missing']]);
      return false;
    }
  }
  return true;
}

export async function runHttpBench(): Promise<{ ok: boolean }> {
  if (!ensureWrk('http')) return { ok: false };
  // The unit: one 10-s event at 1024 Sa/s (the peer's waveform is 4 × 10 240 samples), then 999 short ones.
  const unit = new SimulatedUnit({ events: 0, recordTimeS: 10, memoryTotal: 512 * 1024 * 1024 });
  unit.recordEvent();
  unit.configure({ record_time_s: 0.25 });
  for (let i = 0; i < 999; i++) unit.recordEvent();
  const sim = await startSimulator({ unit, baud: 0, forwardDelayMs: 0, host: '127.0.0.1', port: 0 });
  const dir = mkdtempSync(join(tmpdir(), 'sfm-hbench-'));
  const target: DeviceTarget = { kind: 'tcp', host: '127.0.0.1', port: sim.address.port };
  // Status and the identity window outlive the run: every hit below is served with no device I/O.
  const relay = new RelayService(new TransportRegistry().register(tcpTransportFactory), new SqliteStore(join(dir, 'cache.db')), { statusTtlMs: HOUR_MS, identityTtlMs: HOUR_MS });
  const http = await startHttpServer({
    relay, devices: new DeviceRegistry({ demo: target }), settings: defaultHttpSettings({ port: 0, bodyLimitBytes: 65536 }), logger: silentLogger, version: 'bench',
  });
  const base = http.url.replace(/\/$/, '');
  const sfmUrl = (r: Route) => `${base}${r.path}?device=demo${r.sfmQuery}`;
  // The probing route first: it syncs the list that the max_age route then serves.
  for (const r of [...ROUTES].reverse()) {
    const res = await fetch(sfmUrl(r));
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`pre-warm ${r.id}: HTTP ${res.status}`);
  }
  // The relay on PostgreSQL, warmed the same way once the first is done (one session at a time).
  let postgresError: string | null = null;
  const onPostgres = await (async () => {
    const store = await PostgresStore.open(await freshPostgres());
    const pgRelay = new RelayService(new TransportRegistry().register(tcpTransportFactory), store, { statusTtlMs: HOUR_MS, identityTtlMs: HOUR_MS });
    const server = await startHttpServer({
      relay: pgRelay, devices: new DeviceRegistry({ demo: target }), settings: defaultHttpSettings({ port: 0, bodyLimitBytes: 65536 }), logger: silentLogger, version: 'bench',
    });
    return { relay: pgRelay, server, base: server.url.replace(/\/$/, '') };
  })().catch((e: Error) => void (postgresError = `PostgreSQL: ${e.message}`));
  const pgUrl = (r: Route) => {
    if (!onPostgres) throw new Error(postgresError ?? 'the relay on PostgreSQL is not running');
    return `${onPostgres.base}${r.path}?device=demo${r.sfmQuery}`;
  };
  if (onPostgres) {
    for (const r of [...ROUTES].reverse()) {
      await idle(sim.server);
      const res = await fetch(pgUrl(r));
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`pre-warm ${r.id} on PostgreSQL: HTTP ${res.status}`);
    }
  }
  // The relay reads pending project text after answering, while nobody waits: let it finish (and
  // probe again while text is left) so that no device work overlaps the measured hits.
  const prewarm = { seconds: 0, extra_probes: 0, project_text_pending: 0 };
  {
    const t0 = performance.now();
    const listUrl = sfmUrl(ROUTES.find((r) => r.id === '/device/events')!);
    const probeUrl = sfmUrl(ROUTES.find((r) => r.id === '/device/events (probe)')!);
    for (;;) {
      await idle(sim.server);
      const body = await (await fetch(listUrl)).text();
      prewarm.project_text_pending = (body.match(/"project_pending":true/g) ?? []).length;
      if (prewarm.project_text_pending === 0 || prewarm.extra_probes >= 10) break;
      await (await fetch(probeUrl)).arrayBuffer();
      prewarm.extra_probes++;
    }
    // The relay on PostgreSQL reads the same texts from the unit: let it finish too.
    for (let i = 0; onPostgres && i < 10; i++) {
      await idle(sim.server);
      const body = await (await fetch(pgUrl(ROUTES.find((r) => r.id === '/device/events')!))).text();
      if (!body.includes('"project_pending":true')) break;
      await (await fetch(pgUrl(ROUTES.find((r) => r.id === '/device/events (probe)')!))).arrayBuffer();
    }
    prewarm.seconds = +((performance.now() - t0) / 1000).toFixed(1);
    if (prewarm.project_text_pending > 0) process.stderr.write(`[http] ${prewarm.project_text_pending} events still wait for their project text after the pre-warm\n`);
  }

  let peerError: string | null = sharedBenchDir() ? ensurePeerDeps() : 'shared/bench not found beside the repository';
  let verbatim: PeerServer | undefined;
  let seed: PeerServer | undefined;
  const peerUrl = (p: PeerServer | undefined, r: Route) => {
    if (!p) throw new Error(peerError ?? 'the peer is not running');
    return `http://127.0.0.1:${p.port}${r.path}?host=127.0.0.1&tcp_port=12345`;
  };
  const startSeed = async (): Promise<void> => {
    await seed?.stop();
    seed = undefined;
    seed = await startPeerHttp(SEED, await freePort());
  };

  const bytes: Record<string, Record<string, ResponseBytes | { error: string }>> = {};
  const bytesOf = async (route: string, variant: string, url: string, ae?: string) => {
    (bytes[route] ??= {})[variant] = await responseBytes(url, ae).catch((e: Error) => ({ error: e.message }));
  };
  const hitsAfter: Record<string, string | null> = {};
  let series: Series = { rounds: 0, values: {}, errors: {} };
  try {
    if (!peerError) {
      try {
        verbatim = await startPeerHttp(VERBATIM, await freePort(), [String(PEER_WORKERS)]);
        if (PEER_HTTP_ROUNDS > 0) await startSeed();
      } catch (e) {
        peerError = (e as Error).message;
      }
    }
    // Bytes per response, one request per route each way.
    for (const r of ROUTES) {
      await bytesOf(r.id, 'sfm', sfmUrl(r));
      await bytesOf(r.id, `sfm (Accept-Encoding: ${GZIP})`, sfmUrl(r), GZIP);
      if (r.peerOf) continue;
      if (verbatim) await bytesOf(r.id, VERBATIM, peerUrl(verbatim, r));
      if (seed) await bytesOf(r.id, SEED, peerUrl(seed, r));
    }

    const sfmRun = (r: Route, headers: string[], url = sfmUrl) => async (): Promise<Metrics> => {
      sim.server.resetStats();
      const w = await wrk(url(r), headers);
      return { ...w, device_round_trips: sim.server.stats.roundTrips };
    };
    const steps = ROUTES.flatMap((r) => [
      ...(r.peerOf ? [] : [{ name: `${r.id}|${VERBATIM}`, run: () => peerRun(peerUrl(verbatim, r)) }]),
      { name: `${r.id}|sfm`, run: sfmRun(r, []) },
      ...(r.hit ? [{ name: `${r.id}|sfm-gzip`, run: sfmRun(r, [`Accept-Encoding: ${GZIP}`]) }] : []),
      ...(r.hit ? [{ name: `${r.id}|sfm-postgres`, run: sfmRun(r, [], pgUrl) }] : []),
      // The seed's server is restarted each round right before its status run (its status lives 30 s).
      ...(r.peerOf ? [] : [
        ...(r === ROUTES[0] ? [{ name: 'restart peer_http.py', run: async () => (await startSeed(), {}), rounds: PEER_HTTP_ROUNDS }] : []),
        { name: `${r.id}|${SEED}`, run: () => peerRun(peerUrl(seed, r)), rounds: PEER_HTTP_ROUNDS },
      ]),
    ]);
    // An untimed warm-up run of each server on each route (sfm's JIT, the peers' first requests).
    for (const r of ROUTES) {
      await wrk(sfmUrl(r), [], WARMUP_S);
      if (r.hit) await wrk(sfmUrl(r), [`Accept-Encoding: ${GZIP}`], WARMUP_S);
      if (r.hit && onPostgres) await wrk(pgUrl(r), [], WARMUP_S);
      if (!r.peerOf && verbatim) await wrk(peerUrl(verbatim, r), [], WARMUP_S);
    }
    series = await interleave('http', steps);
    // Still hits at the end: the identity window and the status TTL held for the whole run.
    for (const r of ROUTES.filter((x) => x.hit)) hitsAfter[r.id] = (await responseBytes(sfmUrl(r))).x_cache;
    for (const r of ROUTES.filter((x) => x.hit && onPostgres)) hitsAfter[`${r.id} (postgres)`] = (await responseBytes(pgUrl(r))).x_cache;
  } finally {
    await verbatim?.stop();
    await seed?.stop();
    await http.close();
    relay.store.close();
    if (onPostgres) {
      await onPostgres.server.close();
      await onPostgres.relay.store.close();
    }
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const sum = (xs: (number | null)[]) => xs.reduce<number>((a, b) => a + (b ?? 0), 0);
  const row = (r: Route, sfmStep: string, variant: string, peerImpl: string, target: number | null, note?: string, hitKey = r.id): HttpRow => {
    const peerStep = `${r.peerOf ?? r.id}|${peerImpl}`;
    const s = (step: string, m: string) => seriesOf(series, step, m);
    const c = compare({ id: r.id, impl: variant, peer_impl: peerImpl, unit: 'req/s', sfm: s(sfmStep, 'rps'), peer: s(peerStep, 'rps'), target, note });
    const non2xx = sum(s(sfmStep, 'non2xx'));
    const rts = sum(s(sfmStep, 'device_round_trips'));
    const hitHeld = !r.hit || (rts === 0 && hitsAfter[hitKey] === 'hit');
    return {
      ...c, route: r.id, variant,
      met: c.met === null ? null : c.met && non2xx === 0 && hitHeld,
      latency_ms: { sfm_p50: spread(s(sfmStep, 'p50_ms')), sfm_p99: spread(s(sfmStep, 'p99_ms')), peer_p50: spread(s(peerStep, 'p50_ms')), peer_p99: spread(s(peerStep, 'p99_ms')) },
      sfm_non2xx: non2xx, sfm_socket_errors: sum(s(sfmStep, 'errors')), device_round_trips: rts,
    };
  };
  const rows: HttpRow[] = ROUTES.flatMap((r) =>
    r.hit
      ? [
          row(r, `${r.id}|sfm`, 'sfm', VERBATIM, TARGET_X, r.note),
          row(r, `${r.id}|sfm-gzip`, `sfm, Accept-Encoding: ${GZIP}`, VERBATIM, TARGET_X, r.note),
          row(r, `${r.id}|sfm`, 'sfm', SEED, null, 'the seed\'s own server (parse + re-encode): second row'),
          row(r, `${r.id}|sfm-postgres`, 'sfm on PostgreSQL', VERBATIM, null, `the relay on the PostgreSQL store (${POSTGRES_SETTINGS})`, `${r.id} (postgres)`),
        ]
      : [row(r, `${r.id}|sfm`, 'sfm', VERBATIM, null, r.note)],
  );
  // Bytes on the wire of a hit: the body sent plain ÷ the body sent to a client that accepts compression.
  const bytesCut = BYTES_CUT_ROUTES.map((route) => {
    const plain = bytes[route]?.sfm;
    const packed = bytes[route]?.[`sfm (Accept-Encoding: ${GZIP})`];
    const known = plain && packed && !('error' in plain) && !('error' in packed);
    const ratio = known ? plain.body_bytes / packed.body_bytes : null;
    return { route, plain_bytes: known ? plain.body_bytes : null, compressed_bytes: known ? packed.body_bytes : null, encoding: known ? packed.content_encoding : null, ratio, target: BYTES_CUT_X, met: ratio !== null && ratio >= BYTES_CUT_X };
  });
  const ok = rows.every((r) => r.met !== false) && bytesCut.every((b) => b.met);
  const errors = Object.fromEntries(Object.entries(series.errors).filter(([, e]) => e.length > 0));
  const bytesCell = (route: string, variant: string) => {
    const b = bytes[route]?.[variant];
    return !b ? '—' : 'error' in b ? 'error' : `${b.body_bytes.toLocaleString('en')}${b.content_encoding ? ` ${b.content_encoding}` : ''}`;
  };
  const sfmBytesKey = (r: HttpRow) => (r.variant === 'sfm' || r.variant === 'sfm on PostgreSQL' ? 'sfm' : `sfm (Accept-Encoding: ${GZIP})`);
  report(
    {
      group: 'http', tool: `wrk -t2 -c16 -d${DURATION_S}s --latency`, rounds: series.rounds, peer_http_rounds: PEER_HTTP_ROUNDS, peer_workers: PEER_WORKERS,
      order: `per round and route: ${VERBATIM}, sfm, sfm (Accept-Encoding: ${GZIP}), ${SEED}`,
      target: `every hit route, both ways, ≥ ${TARGET_X}× ${VERBATIM} in req/s (median ratio), no non-2xx, no device round trip`,
      peer_error: peerError, postgres_error: postgresError, prewarm, bytes_per_response: bytes, bytes_cut: bytesCut, x_cache_after_run: hitsAfter, rows, errors, ok,
    },
    [
      ['route', 'sfm', 'vs', 'sfm req/s median (min–max)', 'peer req/s median (min–max)', '× median (min–max)', 'target', 'sfm p50 ms', 'sfm p99 ms', 'peer p50 ms', 'peer p99 ms', 'B/resp sfm', 'B/resp peer'],
      ...rows.map((r) => [
        r.route, r.variant === 'sfm' ? 'sfm' : r.variant === 'sfm on PostgreSQL' ? 'sfm postgres' : 'sfm gzip,br', r.peer_impl, fmtSpread(r.sfm), fmtSpread(r.peer), fmtRatio(r.ratio), fmtTarget(r),
        fmtSpread(r.latency_ms.sfm_p50), fmtSpread(r.latency_ms.sfm_p99), fmtSpread(r.latency_ms.peer_p50), fmtSpread(r.latency_ms.peer_p99),
        bytesCell(r.route, sfmBytesKey(r)), bytesCell(ROUTES.find((x) => x.id === r.route)?.peerOf ?? r.route, r.peer_impl),
      ]),
      ...bytesCut.map((b) => [
        `${b.route}: bytes plain ÷ ${b.encoding ?? 'compressed'}`, '', '', b.plain_bytes === null ? '—' : `${b.plain_bytes.toLocaleString('en')} → ${b.compressed_bytes!.toLocaleString('en')}`, '',
        b.ratio === null ? '—' : `${b.ratio.toFixed(1)}×`, `≥${b.target}× ${b.met ? 'met' : 'NOT MET'}`, '', '', '', '', '', '',
      ]),
      ...rows.filter((r) => r.sfm_non2xx > 0 || (r.device_round_trips > 0 && r.target !== null)).map((r) => [`${r.route} (${r.variant})`, '', '', `non-2xx ${fmtNum(r.sfm_non2xx)}, device round trips ${fmtNum(r.device_round_trips)}`, '', '', '', '', '', '', '', '', '']),
      ...Object.entries(errors).map(([step, e]) => [`errors: ${step}`, '', '', e.slice(0, 2).join('; '), '', '', '', '', '', '', '', '', '']),
    ],
  );
  return { ok };
}
