/** The sfm CLI through the kernel-built relay: repeated calls hit the cache; cache stats and clear. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedUnit, startSimulator, type RunningSimulator } from '@sfm/simulator';
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
    const forced = await sfm('info', ...where, '--store', store, '--force');
    expect([forced.code, forced.err]).toEqual([0, '(refreshed from the unit)\n']);
    expect(sim.server.stats.connectionsTotal).toBe(before + 1);
    const events = await sfm('events', ...where, '--store', store, '--force');
    expect([events.code, events.err]).toEqual([0, '(refreshed from the unit)\n']);
  });

  it('events waits for the project text; --no-text answers with the headers and says the text is not read yet', async () => {
    const fresh = `sqlite:${join(dir, 'text.db')}`;
    const quick = await sfm('events', ...where, '--store', fresh, '--no-text', '--json');
    expect(quick.code).toBe(0);
    expect(JSON.parse(quick.out).events.map((e: { project_pending: boolean }) => e.project_pending)).toEqual([true, true]);
    expect((await sfm('events', ...where, '--store', fresh, '--no-text', '--max-age', '3600')).out).toMatch(/\(text not read yet\)/);
    const whole = await sfm('events', ...where, '--store', fresh, '--json');
    expect(JSON.parse(whole.out).events).toEqual(sim.unit.events);
    // Read once, kept: the next call needs no text reads.
    const before = sim.server.stats.framesBySub['5A'] ?? 0;
    const again = await sfm('event', '1', ...where, '--store', fresh, '--json');
    expect(JSON.parse(again.out)).toEqual(sim.unit.events[1]);
    expect(sim.server.stats.framesBySub['5A'] ?? 0).toBe(before);
  });

  it('cache stats and cache clear', async () => {
    await sfm('events', ...where, '--store', store);
    const shown = await sfm('cache', 'stats', '--store', store);
    const stats = JSON.parse(shown.out);
    expect(stats.kinds.events.entries).toBe(2);
    // A CLI run's own counters say nothing of the cache's use: the store's contents only, and why.
    expect(Object.keys(stats.kinds.device_info).sort()).toEqual(['bytes', 'entries']);
    expect(shown.err).toMatch(/counted by the process that serves them: a running sfm serve reports its own at GET \/cache\/stats/);
    const cleared = JSON.parse((await sfm('cache', 'clear', ...where, '--store', store)).out);
    expect(cleared.cleared).toMatchObject({ events: 2, device_info: 1 });
    expect(JSON.parse((await sfm('cache', 'stats', '--store', store)).out).kinds.events.entries).toBe(0);
  });
});

it('--store rejects what it cannot open; a store whose plugin is not loaded is refused', async () => {
  const r = await sfm('info', ...where, '--store', 'redis://x');
  expect(r.code).toBe(2);
  expect(r.err).toMatch(/the store is redis:\/\/x but no loaded plugin keeps redis stores/);
  const m = await sfm('info', ...where, '--store', 'memory');
  expect(m.code).toBe(2);
  expect(m.err).toMatch(/no loaded plugin keeps memory stores: add the store plugin for memory to plugins/);
});

it('a --store path whose folder\'s parent is missing is refused with what to do; nothing is created', async () => {
  const missing = join(dir, 'no-such-parent');
  const r = await sfm('info', ...where, '--store', `sqlite:${join(missing, 'sub', 'x.db')}`);
  expect(r.code).toBe(1);
  expect(r.err).toBe(`sfm: cache store: cannot create the folder ${join(missing, 'sub')} for the SQLite store at ${join(missing, 'sub', 'x.db')}: its parent ${missing} does not exist either (sfm creates only the store's own folder: create the parent, or give another path)\n`);
  expect(existsSync(missing)).toBe(false);
});

it('erase --yes says how many events it erased: the relay\'s list, brought up to date in the erase\'s session', async () => {
  const unit = await startSimulator({ events: 3, recordTimeS: 1, baud: 0, forwardDelayMs: 0 });
  const at = ['--host', '127.0.0.1', '--tcp-port', String(unit.address.port), '--store', `sqlite:${join(dir, 'erase.db')}`];
  try {
    expect((await sfm('events', ...at, '--no-text')).code).toBe(0);
    unit.unit.recordEvent(); // recorded after the list was cached
    const r = await sfm('erase', ...at, '--yes');
    expect([r.code, r.out]).toEqual([0, 'erased 4 events; now no events stored (next key 01110000)\n']);
    expect(unit.unit.events).toHaveLength(0);
  } finally {
    await unit.close();
  }
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

describe('the truth rules through the CLI (SQLite file shared by every run)', () => {
  const truthConfig = join(dir, 'truth.json');
  const store = `sqlite:${join(dir, 'truth.db')}`;
  async function cli(...args: string[]) {
    const io = { out: '', err: '', stderrIsTTY: false, stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) } satisfies CliIO & { out: string; err: string };
    const code = await runCli([...args, '--config', truthConfig, '--store', store], io, { services: cliServices });
    return { code, out: io.out, err: io.err };
  }

  it('another unit at the address, an unreachable unit, --max-age and --no-stale', async () => {
    const unit = await startSimulator({ events: 2, recordTimeS: 1, baud: 0, forwardDelayMs: 0 });
    // identity_ttl_s 0: every cached answer first confirms who answers at the address.
    writeFileSync(truthConfig, JSON.stringify({ plugins: ['transport-tcp', 'store-sqlite'], frame_timeout_s: 1, chunk_timeout_s: 1, identity_ttl_s: 0 }));
    const at = ['--host', 'localhost', '--tcp-port', String(unit.address.port)];
    try {
      expect(JSON.parse((await cli('info', ...at, '--json')).out).serial).toBe('BE18189');
      const again = await cli('info', ...at);
      expect(again.err).toMatch(/from cache/);
      expect(unit.server.stats.framesBySub['01']).toBe(1); // the config was read once; the hit only confirmed the serial

      unit.server.replaceUnit(new SimulatedUnit({ serial: 'BE20001', events: 1, recordTimeS: 1 }));
      const swapped = await cli('info', ...at, '--json');
      expect([swapped.code, JSON.parse(swapped.out).serial]).toEqual([0, 'BE20001']);

      expect((await cli('events', ...at, '--json')).code).toBe(0);
      const before = unit.server.stats.connectionsTotal;
      const recent = await cli('events', ...at, '--max-age', '3600', '--json');
      expect([recent.code, JSON.parse(recent.out).count, unit.server.stats.connectionsTotal]).toEqual([0, 1, before]);

      await unit.server.setOffline('refuse');
      const stale = await cli('events', ...at, '--json');
      expect(stale.code).toBe(0);
      expect(JSON.parse(stale.out).serial).toBe('BE20001');
      expect(stale.err).toMatch(/the unit could not be reached: DEVICE_UNREACHABLE — showing the cached copy, \d+ s old/);
      const strict = await cli('events', ...at, '--no-stale');
      expect([strict.code, strict.out]).toEqual([3, '']);
      expect(strict.err).toMatch(/DEVICE_UNREACHABLE/);
    } finally {
      await unit.close();
    }
  });
});
