/** The CLI through the caching relay: repeated calls hit the cache; cache stats and clear. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RelayService, TransportRegistry, type Store } from '@sfm/core';
import { startSimulator, type RunningSimulator } from '@sfm/simulator';
import { tcpTransportFactory } from '@sfm/transport-tcp';
import { MemoryStore } from '@sfm/store-memory';
import { SqliteStore } from '@sfm/store-sqlite';
import { runCli, type CliServices } from '../cli.js';
import { parseStoreSpec } from '../store-spec.js';
import type { CliIO } from '../io.js';

let sim: RunningSimulator;
let where: string[];
const transports = new TransportRegistry().register(tcpTransportFactory);
const dir = mkdtempSync(join(tmpdir(), 'sfm-cli-cache-'));
const memory = new MemoryStore();

/** As main.ts wires it, but the memory store outlives one run (as a file store would). */
function services({ store }: { store?: string }): CliServices {
  const spec = parseStoreSpec(store);
  const s: Store = spec.kind === 'memory' ? memory : new SqliteStore(spec.path);
  const relay = new RelayService(transports, s, { client: { frameTimeoutMs: 2000, chunkTimeoutMs: 2000 } });
  return { access: relay, relay, close: () => (spec.kind === 'memory' ? undefined : s.close()) };
}

async function sfm(...args: string[]) {
  const io = { out: '', err: '', stderrIsTTY: false, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) } satisfies CliIO & { out: string; err: string };
  const code = await runCli(args, io, { services });
  return { code, out: io.out, err: io.err };
}

beforeAll(async () => {
  sim = await startSimulator({ events: 2, recordTimeS: 1, baud: 0, forwardDelayMs: 0 });
  where = ['--host', '127.0.0.1', '--tcp-port', String(sim.address.port)];
});
afterAll(() => sim.close());

describe.each([['memory'], [`sqlite:${join(dir, 'cli.db')}`]])('sfm with --store %s', (store) => {
  it('a repeated call is served from the cache without talking to the unit', async () => {
    expect((await sfm('info', ...where, '--store', store)).code).toBe(0);
    const before = sim.server.stats.connectionsTotal;
    const again = await sfm('info', ...where, '--store', store, '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.out).serial).toBe('BE18189');
    expect(sim.server.stats.connectionsTotal).toBe(before);
    const readable = await sfm('info', ...where, '--store', store);
    expect(readable.err).toMatch(/from cache/);
    expect((await sfm('info', ...where, '--store', store, '--force')).code).toBe(0);
    expect(sim.server.stats.connectionsTotal).toBe(before + 1);
  });

  it('cache stats and cache clear', async () => {
    await sfm('events', ...where, '--store', store);
    const stats = JSON.parse((await sfm('cache', 'stats', '--store', store)).out);
    expect(stats.kinds.events.entries).toBe(2);
    expect(stats.kinds.device_info.hits).toBeGreaterThanOrEqual(0);
    const cleared = JSON.parse((await sfm('cache', 'clear', ...where, '--store', store)).out);
    expect(cleared.cleared).toMatchObject({ events: 2, device_info: 1 });
    expect(JSON.parse((await sfm('cache', 'stats', '--store', store)).out).kinds.events.entries).toBe(0);
  });
});

it('--store rejects what it cannot open', async () => {
  const r = await sfm('info', ...where, '--store', 'redis://x');
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/--store: expected sqlite:PATH or memory/);
});
