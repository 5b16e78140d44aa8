/**
 * Two real `sfm serve` processes on one PostgreSQL database (a local cluster started for this
 * file), in front of one emulated unit over TCP: several relays as one. The unit takes one
 * session at a time; a write through one relay is never answered stale by the other; a relay
 * killed mid-session holds the unit at most until its lock's stated expiry.
 * Runs the built executable (dist/main.js; `pnpm test` builds first).
 */
import { spawnSync } from 'node:child_process';
import { connect, createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HostFrameParser, SUB } from '@sfm/core/protocol';
import { startSimulator, type RunningSimulator } from '@sfm/simulator';
import { serverForTests, type LocalCluster } from '@sfm/store-postgres/local-cluster';
import { assertBuilt, killAll, serve as serveProcess, until } from './processes.test-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sfm-pg-relays-'));
let cluster: LocalCluster;
let sim: RunningSimulator;
let db: pg.Client;
let config: string;
let n = 0;
/** Seconds a unit lock lasts unrenewed (short, so that waiting one out is quick). */
const LOCK_TTL_S = 2;
/** Long enough to wait one lock out, and not much more. */
const QUEUE_WAIT_S = 3 * LOCK_TTL_S;

beforeAll(async () => {
  assertBuilt();
  cluster = await serverForTests();
}, 60_000);
afterAll(() => {
  killAll();
  cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  // A modem-like hold makes each session last long enough to overlap if the locks did not hold.
  sim = await startSimulator({ events: 3, recordTimeS: 1, baud: 0, forwardDelayMs: 15, monitorSettleMs: 0, host: '127.0.0.1', port: 0 });
  const url = await cluster.createDatabase();
  db = new pg.Client({ connectionString: url });
  await db.connect();
  config = join(dir, `sfm-${++n}.json`);
  writeFileSync(config, JSON.stringify({
    plugins: ['transport-tcp', 'store-postgres', 'adapter-http'],
    store: url,
    devices: { unit: { host: '127.0.0.1', tcp_port: sim.address.port } },
    simulate: false,
    frame_timeout_s: 5,
    queue_wait_s: QUEUE_WAIT_S,
    lock_ttl_s: LOCK_TTL_S,
    log_level: 'warn',
  }));
});
afterEach(async () => {
  await db.end();
  await sim.close();
});

/** `sfm serve` on the shared database; `host` runs it under another host name (its own UTS namespace). */
const serve = (host?: string) => (host ? serveProcess(['--config', config], {}, ['unshare', '--uts', 'sh', '-c', `hostname ${host} && exec "$0" "$@"`]) : serveProcess(['--config', config]));

async function get(url: string, init?: RequestInit): Promise<{ status: number; cache: string | null; json: any }> {
  const r = await fetch(url, init);
  return { status: r.status, cache: r.headers.get('x-cache'), json: await r.json() };
}

/** Runs a separate hostname namespace when this machine allows it (root with unshare). */
const canFakeHost = spawnSync('unshare', ['--uts', 'true']).status === 0;

describe('two sfm serve on one PostgreSQL database', () => {
  it('concurrent requests for one unit through both never overlap on the unit; both answer the same', async () => {
    const [a, b] = await Promise.all([serve(), serve()]);
    try {
      const asks = Array.from({ length: 8 }, (_, i) => get(`${(i % 2 ? a : b).url}/device/info?device=unit&force=true`));
      asks.push(get(`${a.url}/device/events?device=unit`), get(`${b.url}/device/events?device=unit`));
      const answers = await Promise.all(asks);
      expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
      expect(new Set(answers.slice(0, 8).map((r) => r.json.serial))).toEqual(new Set(['BE18189']));
      // Several sessions, one at a time: the other relay waited for the lock, never a second connection.
      expect(sim.server.stats.connectionsTotal).toBeGreaterThan(1);
      expect(sim.server.stats.maxConcurrentSessions).toBe(1);
      expect(answers[8]!.json.count).toBe(3);
      expect(answers[9]!.json.count).toBe(3);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('a config write through one is never answered stale by the other', async () => {
    const [a, b] = await Promise.all([serve(), serve()]);
    try {
      expect((await get(`${b.url}/device/info?device=unit`)).cache).toBe('miss');
      expect((await get(`${b.url}/device/info?device=unit`)).cache).toBe('hit');
      for (const project of ['Written through A', 'Written through A again']) {
        const w = await get(`${a.url}/device/config?device=unit`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ project }) });
        expect(w.status, JSON.stringify(w.json)).toBe(200);
        // At once, with no pause: B's memory was told before A answered.
        const info = await get(`${b.url}/device/info?device=unit`);
        expect(info.cache).not.toBe('hit');
        expect(info.json.compliance.project).toBe(project);
        expect((await get(`${b.url}/device/info?device=unit`)).cache).toBe('hit');
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it.runIf(canFakeHost)("a relay killed with SIGKILL mid-session (on another host) holds the unit no longer than its locks' stated expiry", async () => {
    const a = await serve('relay-a');
    const b = await serve();
    try {
      void get(`${a.url}/device/event/0/waveform?device=unit`).catch(() => undefined);
      await until(() => sim.server.stats.sessionsActive === 1, 'relay A to talk to the unit');
      a.child.kill('SIGKILL');
      await a.done;
      // What A left: its locks, naming its host, each with the expiry it stated last.
      const left = (await db.query<{ expires_at: number }>("SELECT expires_at::float8 AS expires_at FROM leases WHERE host = 'relay-a'")).rows;
      expect(left.length).toBeGreaterThan(0);
      const stated = Math.max(...left.map((r) => r.expires_at));
      // Nobody on this host can tell A is dead: B waits A's locks out, then gets the unit — within
      // its queue wait (QUEUE_WAIT_S), so a lock kept much beyond its expiry would be DEVICE_BUSY.
      const r = await get(`${b.url}/device/info?device=unit`);
      expect([r.status, r.json.serial]).toEqual([200, 'BE18189']);
      expect(Date.now()).toBeGreaterThanOrEqual(stated);
      expect((await db.query("SELECT count(*)::int AS n FROM leases WHERE host = 'relay-a'")).rows[0].n).toBe(0);
      expect(sim.server.stats.maxConcurrentSessions).toBe(1);
    } finally {
      await b.stop();
    }
  });

  it('a relay killed with SIGKILL mid-session on the same host: the other takes the unit at once (its pid is gone)', async () => {
    const a = await serve();
    const b = await serve();
    try {
      void get(`${a.url}/device/event/0/waveform?device=unit`).catch(() => undefined);
      await until(() => sim.server.stats.sessionsActive === 1, 'relay A to talk to the unit');
      a.child.kill('SIGKILL');
      await a.done;
      const r = await get(`${b.url}/device/info?device=unit`);
      expect([r.status, r.json.serial]).toEqual([200, 'BE18189']);
      expect(sim.server.stats.maxConcurrentSessions).toBe(1);
    } finally {
      await b.stop();
    }
  });
});

describe('a call-home session on one relay and a call-up on the other', () => {
  /** What the relays asked the unit, in order, by session: 'up' (a call-up through B) or 'home' (the unit's call to A). */
  const timeline: { who: 'up' | 'home'; sub: number }[] = [];
  const closers: (() => void)[] = [];
  afterEach(() => {
    for (const close of closers.splice(0)) close();
    timeline.length = 0;
  });

  /** A TCP relay to `to` that notes each frame the host side sends: the client's bytes, or (a unit calling in) the server's. */
  async function tapProxy(who: 'up' | 'home', hostSide: 'client' | 'server', to: { host: string; port: number }): Promise<number> {
    const server = createServer((client) => {
      const far = connect(to);
      const parser = new HostFrameParser();
      const note = (bytes: Buffer) => {
        for (const item of parser.push(bytes)) if (item.kind === 'frame') timeline.push({ who, sub: item.frame.sub });
      };
      client.on('data', (d: Buffer) => (hostSide === 'client' && note(d), far.write(d)));
      far.on('data', (d: Buffer) => (hostSide === 'server' && note(d), client.write(d)));
      const end = () => (client.destroy(), far.destroy());
      for (const s of [client, far]) s.on('close', end).on('error', end);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => server.close());
    return (server.address() as AddressInfo).port;
  }

  /** Each session's requests after its prelude (waking the unit, asking its serial — before it knows which lock to take) come in one run. */
  function expectNoOverlap(): void {
    const work = (who: 'up' | 'home') => {
      const mine = timeline.map((t, i) => ({ ...t, i })).filter((t) => t.who === who);
      return mine.slice(mine.findIndex((t) => t.sub === SUB.SERIAL_NUMBER) + 1).map((t) => t.i);
    };
    const [up, home] = [work('up'), work('home')];
    expect(up.length).toBeGreaterThan(0);
    expect(home.length).toBeGreaterThan(0);
    const [first, second] = up[0]! < home[0]! ? [up, home] : [home, up];
    expect(first.at(-1)!, JSON.stringify(timeline.map((t) => `${t.who}:${t.sub.toString(16)}`))).toBeLessThan(second[0]!);
  }

  it('serialise on the unit, whichever comes first; both sessions are in the shared archive', async () => {
    const base = JSON.parse(readFileSync(config, 'utf8'));
    const upPort = await tapProxy('up', 'client', sim.address);
    const aConfig = join(dir, `a-${n}.json`);
    const bConfig = join(dir, `b-${n}.json`);
    writeFileSync(aConfig, JSON.stringify({ ...base, plugins: [...base.plugins, 'call-home'], ach: { listen: '127.0.0.1:0', allow_peers: ['127.0.0.0/8'], accept: 'any', keep_captures: false } }));
    writeFileSync(bConfig, JSON.stringify({ ...base, devices: { unit: { host: '127.0.0.1', tcp_port: upPort } } }));
    const [a, b] = await Promise.all([serveProcess(['--config', aConfig]), serveProcess(['--config', bConfig])]);
    try {
      const ach = /call-home: taking calls on (\S+):(\d+)/.exec(a.out);
      expect(ach, a.out).not.toBeNull();
      const homePort = await tapProxy('home', 'server', { host: ach![1]!, port: Number(ach![2]) });
      const callHome = () => sim.server.callHome({ host: '127.0.0.1', port: homePort });

      // The call-up first (a cold list, then a download), the unit calling the other relay meanwhile.
      sim.unit.recordEvent();
      const up = get(`${b.url}/device/event/3/waveform?device=unit`);
      await until(() => timeline.some((t) => t.who === 'up' && t.sub === SUB.WAVEFORM_HEADER), 'the call-up to list events');
      const home = callHome();
      expect((await up).status).toBe(200);
      expect(await home).toEqual({ connected: true, error: null });
      expectNoOverlap();

      // The call home first, a call-up arriving at the other relay meanwhile.
      timeline.length = 0;
      sim.unit.recordEvent();
      const home2 = callHome();
      await until(() => timeline.some((t) => t.who === 'home' && t.sub === SUB.WAVEFORM_HEADER), 'the call home to read the new event');
      const up2 = get(`${b.url}/device/event/0/waveform?device=unit&force=true`);
      expect(await home2).toEqual({ connected: true, error: null });
      expect((await up2).status).toBe(200);
      expectNoOverlap();

      // One archive: the sessions of both relays, read through either.
      await until(async () => (await get(`${b.url}/db/sessions`)).json.sessions.filter((x: { kind: string }) => x.kind === 'call-home').length === 2, 'both calls to be recorded');
      const sessions = (await get(`${b.url}/db/sessions`)).json.sessions as { kind: string; result: string }[];
      expect(new Set(sessions.map((x) => `${x.kind}:${x.result}`))).toEqual(new Set(['call-home:ok', 'call-up:ok']));
      const events = (await get(`${a.url}/db/events?serial=BE18189`)).json.events as unknown[];
      expect(events).toHaveLength(5);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
