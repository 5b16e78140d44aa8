/**
 * `sfm serve` as an operator runs it: logs (JSON lines with pid and hostname, or pretty),
 * /metrics and /ready through the real executable, and the end — a drain with a deadline, a
 * second signal exiting at once.
 */
import { hostname } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import parsePrometheus from 'parse-prometheus-text-format';
import { startSimulator, type RunningSimulator } from '@sfm/simulator';
import { DRAIN_EXIT } from './serve.js';
import { assertBuilt, killAll, serve, until } from './processes.test-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sfm-serve-'));
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});
beforeAll(assertBuilt);

let sim: RunningSimulator;
let n = 0;
beforeEach(async () => {
  sim = await startSimulator({ events: 2, recordTimeS: 1, baud: 0, forwardDelayMs: 0, monitorSettleMs: 0, host: '127.0.0.1', port: 0 });
});
afterEach(() => sim.close());

/** A configuration file for a unit at the emulator, on a fresh SQLite file. */
function config(extra: Record<string, unknown> = {}): string {
  const file = join(dir, `sfm-${++n}.json`);
  writeFileSync(file, JSON.stringify({
    store: `sqlite:${join(dir, `cache-${n}.db`)}`,
    devices: { unit: { host: '127.0.0.1', tcp_port: sim.address.port } },
    simulate: false,
    ...extra,
  }));
  return file;
}

type Families = Map<string, ReturnType<typeof parsePrometheus>[number]>;

/** GET /metrics, parsed by a third-party Prometheus text-format parser; and the raw text. */
async function scrape(url: string): Promise<{ families: Families; text: string }> {
  const r = await fetch(`${url}/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await r.text();
  return { families: new Map(parsePrometheus(text).map((f) => [f.name, f])), text };
}

/** The value of the sample of `family` whose labels include `labels` (0 when there is none). */
function sample({ families }: { families: Families }, family: string, labels: Record<string, string>): number {
  const f = families.get(family);
  const m = f?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  return m ? Number(m.value ?? m.count) : 0;
}

describe('sfm serve', () => {
  it('logs one JSON object per line on stderr, each with pid and hostname, to the last line', async () => {
    const s = await serve(['--config', config({ log_level: 'info' })]);
    await fetch(`${s.url}/device/info?device=nope`);
    const end = await s.stop();
    expect(end.code).toBe(0);
    const lines = end.err.trim().split('\n');
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) {
      const o = JSON.parse(line) as Record<string, unknown>;
      expect([o.pid, o.hostname, o.service]).toEqual([s.child.pid, hostname(), 'sfm']);
    }
    const notFound = lines.map((l) => JSON.parse(l)).find((o) => o.msg === 'request' && o.status === 404);
    expect([notFound.level, notFound.code]).toEqual([40, 'NOT_FOUND']);
    expect(JSON.parse(lines.at(-1)!).msg).toBe('stopped');
  });

  it('--log-format pretty writes readable lines (no colour when stderr is not a terminal)', async () => {
    const s = await serve(['--config', config({ log_level: 'info' }), '--log-format', 'pretty']);
    const end = await s.stop();
    expect([end.code, end.signal], end.err).toEqual([0, null]);
    expect(end.err).toMatch(/INFO.*http server listening/);
    expect(end.err).not.toMatch(/^\{/m);
    expect(end.err).not.toMatch(/\x1b\[/);
  });

  it('/metrics parses as the Prometheus text format and moves as requests are served; /ready is 200', async () => {
    const s = await serve(['--config', config({ log_level: 'warn' })]);
    try {
      const before = await scrape(s.url);
      expect(before.families.has('process_cpu_user_seconds_total')).toBe(true);
      for (const name of ['sfm_http_requests_total', 'sfm_cache_requests_total', 'sfm_device_sessions_total', 'sfm_device_round_trips_total', 'sfm_device_bytes_total', 'sfm_device_queue_depth', 'sfm_device_queue_wait_seconds', 'sfm_store_errors_total']) {
        expect(before.text, name).toContain(`# TYPE ${name} `);
      }
      expect((await fetch(`${s.url}/device/info?device=unit`)).headers.get('x-cache')).toBe('miss');
      expect((await fetch(`${s.url}/device/info?device=unit`)).headers.get('x-cache')).toBe('hit');
      expect((await fetch(`${s.url}/ready?probe=lb`)).status).toBe(200);
      expect((await fetch(`${s.url}/health?x=1`)).status).toBe(200);
      const after = await scrape(s.url);
      const unit = `tcp:127.0.0.1:${sim.address.port}`;
      expect(sample(after, 'sfm_http_requests_total', { route: '/device/info', method: 'GET', status: '200' }) - sample(before, 'sfm_http_requests_total', { route: '/device/info', method: 'GET', status: '200' })).toBe(2);
      expect(sample(after, 'sfm_http_requests_total', { route: '/ready', status: '200' })).toBe(1);
      expect(sample(after, 'sfm_cache_requests_total', { kind: 'device_info', outcome: 'miss' })).toBe(1);
      expect(sample(after, 'sfm_cache_requests_total', { kind: 'device_info', outcome: 'hit' })).toBe(1);
      expect(sample(after, 'sfm_device_sessions_total', { unit, result: 'ok' })).toBe(1);
      expect(sample(after, 'sfm_device_round_trips_total', { unit })).toBe(sim.server.stats.roundTrips);
      expect(sample(after, 'sfm_device_bytes_total', { unit, direction: 'received' })).toBe(sim.server.stats.bytesOut);
      expect(sample(after, 'sfm_device_queue_depth', { unit })).toBe(0);
      // (the parser drops a histogram's labels: its count is read from the text)
      expect(after.text).toContain(`sfm_device_queue_wait_seconds_count{unit="${unit}"} 1\n`);
      expect(after.text).toContain(`sfm_device_session_duration_seconds_count{unit="${unit}"} 1\n`);
    } finally {
      await s.stop();
    }
  });

  it('SIGTERM drains within drain_timeout_s: work still in flight then is abandoned, status 1', async () => {
    const s = await serve(['--config', config({ drain_timeout_s: 0.3, frame_timeout_s: 60, log_level: 'info' })]);
    sim.server.stall('forever');
    const hanging = fetch(`${s.url}/device/info?device=unit`).catch((e: Error) => e);
    await until(() => sim.server.stats.sessionsActive === 1, 'the session to start');
    const end = await s.stop('SIGTERM');
    expect(end.code).toBe(DRAIN_EXIT.deadline);
    expect(end.err).toMatch(/the drain deadline \(0\.3 s\) passed: exiting with work unfinished/);
    expect(await hanging).toBeInstanceOf(Error);
  });

  it('a second signal during the drain exits at once, status 130', async () => {
    const s = await serve(['--config', config({ drain_timeout_s: 600, frame_timeout_s: 60, log_level: 'info' })]);
    sim.server.stall('forever');
    void fetch(`${s.url}/device/info?device=unit`).catch(() => undefined);
    await until(() => sim.server.stats.sessionsActive === 1, 'the session to start');
    s.child.kill('SIGTERM');
    await until(() => /shutting down/.test(s.err), 'the drain to begin');
    const end = await s.stop('SIGINT');
    expect(end.code).toBe(DRAIN_EXIT.secondSignal);
    expect(end.err).toMatch(/a second signal: exiting at once/);
  });
});
