/**
 * Two real sfm processes on one SQLite file — `sfm serve` and the CLI, as an operator runs them
 * on the default ./data/sfm.db — against an emulated unit: one truth, one session at a time.
 * Runs the built executable (dist/main.js; `pnpm test` builds first).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '@sfm/simulator';
import type { Event } from '@sfm/core';
import { headersOnly } from '@sfm/test-support';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sfm-shared-'));
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

let sim: RunningSimulator;
let config: string;
let n = 0;

beforeAll(() => expect(existsSync(MAIN), `${MAIN} is missing: build first (pnpm build)`).toBe(true));
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

function run(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, [MAIN, ...args, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    child.on('exit', (code) => {
      children.delete(child);
      resolve({ code, out, err });
    });
  });
  return { child, done };
}

/** `sfm serve` on a free port; resolves with its base URL once it listens. */
async function serve(): Promise<{ url: string; stop: () => Promise<void> }> {
  const { child, done } = run(['serve', '--listen', '127.0.0.1:0']);
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    void done.then((r) => reject(new Error(`sfm serve ended (${r.code}): ${r.err}`)));
  });
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await done;
    },
  };
}

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
