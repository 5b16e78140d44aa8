/** The sfm CLI through the kernel-built relay: repeated calls hit the cache; cache stats and clear. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator, type RunningSimulator } from '@sfm/simulator';
import { runCli, type CliIO } from '@sfm/adapter-cli';
import { cliServices } from './services.js';

let sim: RunningSimulator;
let where: string[];
const dir = mkdtempSync(join(tmpdir(), 'sfm-cli-cache-'));
/** A deployment that loads only what the CLI needs here. */
const config = join(dir, 'sfm.json');
writeFileSync(config, JSON.stringify({ plugins: ['transport-tcp', 'store-sqlite'], frame_timeout_s: 2, chunk_timeout_s: 2 }));

async function sfm(...args: string[]) {
  const io = { out: '', err: '', stderrIsTTY: false, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) } satisfies CliIO & { out: string; err: string };
  const code = await runCli([...args, '--config', config], io, { services: cliServices });
  return { code, out: io.out, err: io.err };
}

beforeAll(async () => {
  sim = await startSimulator({ events: 2, recordTimeS: 1, baud: 0, forwardDelayMs: 0 });
  where = ['--host', '127.0.0.1', '--tcp-port', String(sim.address.port)];
});
afterAll(() => sim.close());

describe.each([[`sqlite:${join(dir, 'cli.db')}`]])('sfm with --store %s', (store) => {
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

it('--store rejects what it cannot open; a store whose plugin is not loaded is refused', async () => {
  const r = await sfm('info', ...where, '--store', 'redis://x');
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/store: expected sqlite:PATH or memory/);
  const m = await sfm('info', ...where, '--store', 'memory');
  expect(m.code).toBe(2);
  expect(m.err).toMatch(/plugin "store-memory" is not loaded/);
});

it('--device names a configured unit', async () => {
  const named = join(dir, 'named.json');
  writeFileSync(named, JSON.stringify({ plugins: ['transport-tcp', 'store-memory'], store: 'memory', devices: { north: { host: '127.0.0.1', tcp_port: sim.address.port } } }));
  const io = { out: '', err: '', stderrIsTTY: false, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  expect(await runCli(['status', '--device', 'north', '--json', '--config', named], io, { services: cliServices })).toBe(0);
  expect(JSON.parse(io.out).memory_total).toBe(983026);
  const io2 = { ...io, out: '', err: '', stdout: (t: string) => void (io2.out += t), stderr: (t: string) => void (io2.err += t) };
  expect(await runCli(['status', '--device', 'south', '--config', named], io2, { services: cliServices })).toBe(4);
  expect(io2.err).toMatch(/unknown device "south"/);
});
