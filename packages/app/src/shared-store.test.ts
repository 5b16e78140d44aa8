/**
 * Two real sfm processes on one SQLite file — `sfm serve` and the CLI, as an operator runs them
 * on the default ./data/sfm.db — against an emulated unit: one truth, one session at a time.
 * Runs the built executable (dist/main.js; `pnpm test` builds first).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '@sfm/simulator';
import type { Event } from '@sfm/core';
import { headersOnly } from '@sfm/test-support';
import { assertBuilt, killAll, serve as serveProcess, sfm } from './processes.test-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sfm-shared-'));
afterAll(() => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});

let sim: RunningSimulator;
let config: string;
let n = 0;

beforeAll(assertBuilt);
beforeEach(async () => {
  // A modem-like hold makes each session last long enough to overlap if the locks did not hold.
  sim = await startSimulator({ events: 3, recordTimeS: 1, baud: 0, forwardDelayMs: 15, monitorSettleMs: 0, host: '127.0.0.1', port: 0 });
  config = join(dir, `sfm-${++n}.json`);
  writeFileSync(config, JSON.stringify({
    plugins: ['transport-tcp', 'store-sqlite', 'adapter-http'],
    store: `sqlite:${join(dir, `cache-${n}.db`)}`,
    devices: { unit: { host: '127.0.0.1', tcp_port: sim.address.port } },
    simulate: false,
    frame_timeout_s: 5,
    // Shorter than a lease's 30 s expiry: a lease left by a killed process must be taken over, not waited out.
    queue_wait_s: 10,
    log_level: 'warn',
  }));
});
afterEach(() => sim.close());

const run = (args: string[]) => sfm([...args, '--config', config]);
const serve = () => serveProcess(['--config', config]);

async function get(url: string): Promise<{ status: number; cache: string | null; json: any }> {
  const r = await fetch(url);
  return { status: r.status, cache: r.headers.get('x-cache'), json: await r.json() };
}

describe('sfm serve and the CLI on one SQLite file', () => {
  it("serve never answers the old config as a hit after the CLI wrote new config", async () => {
    const s = await serve();
    try {
      expect((await get(`${s.url}/device/info?device=unit`)).cache).toBe('miss');
      expect((await get(`${s.url}/device/info?device=unit`)).cache).toBe('hit');
      const cli = await run(['config', 'set', 'project=Written by the CLI', '--device', 'unit', '--json']).done;
      expect(cli.code, cli.err).toBe(0);
      const info = await get(`${s.url}/device/info?device=unit`);
      expect(info.cache).not.toBe('hit');
      expect(info.json.compliance.project).toBe('Written by the CLI');
    } finally {
      await s.stop();
    }
  });

  it('both syncing one unit at once: one session at a time, both answer the same list', async () => {
    const s = await serve();
    try {
      const [http, cli] = await Promise.all([get(`${s.url}/device/events?device=unit`), run(['events', '--device', 'unit', '--json']).done]);
      expect(http.status).toBe(200);
      expect(cli.code, cli.err).toBe(0);
      // The CLI waits for the project text; the server answers once the headers are in.
      const listed = JSON.parse(cli.out);
      expect(listed.events.some((e: Event) => e.project_pending)).toBe(false);
      expect({ ...listed, events: headersOnly(listed.events) }).toEqual({ ...http.json, events: headersOnly(http.json.events) });
      expect(http.json.count).toBe(3);
      expect(sim.server.stats.maxConcurrentSessions).toBe(1);
      // What one process read, the other serves: the texts the CLI read included.
      expect((await get(`${s.url}/device/events?device=unit`)).json).toEqual(listed);
    } finally {
      await s.stop();
    }
  });

  it('a CLI killed with SIGKILL mid-session does not keep the unit locked', async () => {
    const slow = run(['waveform', '0', '--device', 'unit', '--json']);
    // Kill it once it is talking to the unit (it holds the unit's lock then).
    for (let i = 0; i < 400 && sim.server.stats.sessionsActive === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(sim.server.stats.sessionsActive).toBe(1);
    slow.child.kill('SIGKILL');
    await slow.done;
    const s = await serve();
    try {
      // Its pid is gone on this host: the lease is taken at once (waiting out its expiry would be DEVICE_BUSY).
      const r = await get(`${s.url}/device/info?device=unit`);
      expect([r.status, r.json.serial]).toEqual([200, 'BE18189']);
    } finally {
      await s.stop();
    }
  });
});
