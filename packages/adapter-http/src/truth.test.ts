/**
 * The truth rules (http-api.md, "What the cache may serve") through real HTTP, on both stores:
 * another unit at an address, an outside erase and refill, spellings of one address, the
 * allow-list on canonical addresses, offline answers, a cold single event, Age, a failing store,
 * slow clients, and two relays on one SQLite file.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RelayService, StoreUnavailable, type Store } from '@sfm/core/cache';
import { DeviceRegistry } from '@sfm/core/kernel';
import { TransportRegistry } from '@sfm/core/transport';
import { SimulatedUnit } from '@sfm/simulator';
import { MemoryStore } from '@sfm/store-memory';
import { SqliteStore } from '@sfm/store-sqlite';
import { tcpTransportFactory } from '@sfm/transport-tcp';
import { startHttpServer } from './server.js';
import { defaultHttpSettings } from './settings.js';
import { CLIENT_OPTIONS, call, startFixture, type Fixture, type FixtureOptions } from '@sfm/test-support';

const dir = mkdtempSync(join(tmpdir(), 'sfm-truth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const sqlitePath = () => join(dir, `c${++files}.db`);

const STORES: [string, () => Store][] = [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => new SqliteStore(sqlitePath())],
];
const D = '?device=demo';
const IDENTITY_WINDOW_MS = 300_000;

let f: Fixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

async function fixture(store: () => Store, opts: FixtureOptions = {}): Promise<Fixture> {
  f = await startFixture({ store: store(), ...opts });
  return f;
}

/** Every cached route once, so each has something cached. */
async function warm(fx: Fixture): Promise<Record<string, string>> {
  const info = await fx.call(`/device/info${D}`);
  await fx.call(`/device/events${D}`);
  const event = await fx.call(`/device/event/0${D}`);
  const wave = await fx.call(`/device/event/0/waveform${D}`);
  await fx.call(`/device/monitor/status${D}`);
  expect([info.status, event.status, wave.status]).toEqual([200, 200, 200]);
  return { serial: info.json.serial, eventTime: event.json.timestamp, etag: wave.headers.get('etag')! };
}

describe.each(STORES)('truth rules on the %s store', (_name, store) => {
  it('another unit at the address: once the identity window has passed, no route serves the old unit', async () => {
    const fx = await fixture(store);
    const old = await warm(fx);
    for (const path of ['/device/info', '/device/event/0', '/device/event/0/waveform', '/device/monitor/status']) {
      expect((await fx.call(path + D)).headers.get('x-cache')).toBe('hit');
    }
    fx.sim.server.replaceUnit(new SimulatedUnit({ serial: 'BE20001', events: 2, seed: 9, recordTimeS: 1 }));
    fx.clock.advance(IDENTITY_WINDOW_MS + 1000);

    const info = await fx.call(`/device/info${D}`);
    expect(info.json.serial).toBe('BE20001');
    expect(info.headers.get('x-cache')).toBe('miss');
    const event = await fx.call(`/device/event/0${D}`);
    expect(event.json.timestamp).toBe(fx.sim.unit.events[0]!.timestamp);
    expect(event.json.timestamp).not.toBe(old.eventTime);
    const wave = await fx.call(`/device/event/0/waveform${D}`);
    expect(wave.json.serial).toBe('BE20001');
    expect(wave.headers.get('etag')).not.toBe(old.etag);
    const status = await fx.call(`/device/monitor/status${D}`);
    expect(status.headers.get('x-cache')).toBe('miss');
  });

  it('a probe that meets another serial ends the old unit\'s hits at once, inside the window', async () => {
    const fx = await fixture(store);
    const old = await warm(fx);
    fx.sim.server.replaceUnit(new SimulatedUnit({ serial: 'BE20001', events: 2, seed: 9, recordTimeS: 1 }));
    const list = await fx.call(`/device/events${D}`);
    expect(list.json.serial).toBe('BE20001');
    expect(list.json.count).toBe(2);
    const before = fx.sim.server.stats.connectionsTotal;
    const info = await fx.call(`/device/info${D}`);
    expect(info.json.serial).toBe('BE20001');
    expect(fx.sim.server.stats.connectionsTotal).toBe(before + 1);
    const wave = await fx.call(`/device/event/0/waveform${D}`);
    expect(wave.headers.get('etag')).not.toBe(old.etag);
    expect(wave.json.serial).toBe('BE20001');
  });

  it('an identity past its window is confirmed with one serial read, then served as a hit', async () => {
    const fx = await fixture(store);
    await warm(fx);
    fx.clock.advance(IDENTITY_WINDOW_MS + 1000);
    fx.sim.server.resetStats();
    const info = await fx.call(`/device/info${D}`);
    expect(info.headers.get('x-cache')).toBe('hit');
    expect(fx.sim.server.stats.framesBySub).toMatchObject({ '15': 1 });
    expect(fx.sim.server.stats.framesBySub['01']).toBeUndefined(); // no config read
    fx.sim.server.resetStats();
    expect((await fx.call(`/device/event/0/waveform${D}`)).headers.get('x-cache')).toBe('hit');
    expect(fx.sim.server.stats.framesReceived).toBe(0);
  });

  it('an erase done elsewhere and a refill to the same storage range: the probe sees it', async () => {
    const fx = await fixture(store, { sim: { recordSlotBytes: 0x4000 } });
    const before = await fx.call(`/device/events${D}`);
    const oldWave = await fx.call(`/device/event/0/waveform${D}`);
    const range = fx.sim.unit.storageRange;
    fx.sim.unit.erase();
    const later = Date.parse(`${before.json.events[2].timestamp}Z`);
    for (let i = 1; i <= 3; i++) fx.sim.unit.recordEvent({ at: new Date(later + i * 60_000) });
    expect(fx.sim.unit.storageRange).toEqual(range); // the case: the range alone cannot tell

    const after = await fx.call(`/device/events${D}`);
    expect(after.headers.get('x-cache')).toBe('refresh');
    expect(after.json.events.map((e: { timestamp: string }) => e.timestamp)).toEqual(fx.sim.unit.events.map((e) => e.timestamp));
    const wave = await fx.call(`/device/event/0/waveform${D}`);
    expect(wave.headers.get('x-cache')).toBe('miss');
    expect(wave.headers.get('etag')).not.toBe(oldWave.headers.get('etag'));
  });

  it('every spelling of one address is one unit: one session, one download, one cache', async () => {
    const fx = await fixture(store);
    const port = fx.sim.address.port;
    const hosts = ['127.0.0.1', 'localhost', 'LOCALHOST.', '::ffff:127.0.0.1', '127.1'];
    const replies = await Promise.all(hosts.map((h) => fx.call(`/device/event/0/waveform?host=${encodeURIComponent(h)}&tcp_port=${port}`)));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(replies.map((r) => r.headers.get('etag'))).size).toBe(1);
    expect(fx.sim.server.stats.connectionsTotal).toBe(1);
    expect(fx.sim.server.stats.maxConcurrentSessions).toBe(1);
    for (const h of hosts) expect((await fx.call(`/device/info?host=${encodeURIComponent(h)}&tcp_port=${port}`)).status).toBe(200);
    expect((await fx.relay.cacheStats()).kinds.device_info.entries).toBe(1);
  });

  it('the allow-list judges the address: an IPv6 address with a dotted tail is not loopback', async () => {
    const fx = await fixture(store);
    for (const h of ['::1.2.3.4', '[::1.0.0.0]', '::ffff:10.0.0.1']) {
      const r = await fx.call(`/device/info?host=${encodeURIComponent(h)}`);
      expect(r.status).toBe(403);
      expect(r.json.error.code).toBe('TARGET_NOT_ALLOWED');
    }
    expect(fx.sim.server.stats.connectionsTotal).toBe(0);
  });

  it('offline: what is cached is served stale with its true Age and a Warning; stale=false gets the error', async () => {
    const fx = await fixture(store);
    await warm(fx);
    await fx.sim.server.setOffline('refuse');
    fx.clock.advance(IDENTITY_WINDOW_MS + 1000);
    for (const path of ['/device/info', '/device/events', '/device/event/1', '/device/event/0/waveform', '/device/monitor/status']) {
      const r = await fx.call(path + D);
      expect([path, r.status, r.headers.get('x-cache')]).toEqual([path, 200, 'stale']);
      expect(r.headers.get('warning')).toBe('110 - "unit unreachable: DEVICE_UNREACHABLE"');
      expect(Number(r.headers.get('age'))).toBeGreaterThanOrEqual(301);
      const strict = await fx.call(`${path}${D}&stale=false`);
      expect([path, strict.status, strict.json.error.code]).toEqual([path, 502, 'DEVICE_UNREACHABLE']);
    }
    // A unit that connects but never answers: the same, after its timeout.
    await fx.sim.server.setOffline('silent');
    const r = await fx.call(`/device/events${D}`);
    expect([r.status, r.headers.get('x-cache'), r.headers.get('warning')]).toEqual([200, 'stale', '110 - "unit unreachable: DEVICE_TIMEOUT"']);
    // Nothing cached for a route: the error, as before.
    await fx.sim.server.setOffline('refuse');
    expect((await fx.call(`/device/event/5${D}`)).status).toBe(502);
  });

  it('a cold single event reads only up to its index; the list continues from there', async () => {
    // No project text read after answering: the 0C count is the list's alone.
    const fx = await fixture(store, { sim: { events: 10 }, relay: { textFillMs: 0 } });
    const one = await fx.call(`/device/event/1${D}`);
    expect([one.status, one.headers.get('x-cache'), one.json.index]).toEqual([200, 'miss', 1]);
    expect(fx.sim.server.stats.framesBySub['0C']).toBe(2); // events 0 and 1, not 10
    const list = await fx.call(`/device/events${D}`);
    expect(list.json.count).toBe(10);
    expect(fx.sim.server.stats.framesBySub['0C']).toBe(10); // the other 8, once each
    fx.sim.server.resetStats();
    expect((await fx.call(`/device/event/9${D}`)).headers.get('x-cache')).toBe('hit');
    expect(fx.sim.server.stats.framesReceived).toBe(0);
  });

  it('Age counts from the last probe on the list and on its events alike; max_age serves without a probe', async () => {
    const fx = await fixture(store);
    await fx.call(`/device/events${D}`);
    await fx.relay.idle(); // the project text is read after the answer
    fx.clock.advance(54_000);
    fx.sim.server.resetStats();
    const list = await fx.call(`/device/events${D}&max_age=60`);
    const one = await fx.call(`/device/event/1${D}&max_age=60`);
    expect([list.headers.get('x-cache'), list.headers.get('age')]).toEqual(['hit', '54']);
    expect([one.headers.get('x-cache'), one.headers.get('age')]).toEqual(['hit', '54']);
    expect(fx.sim.server.stats.framesReceived).toBe(0);
    // Too old for max_age: probed now, and both say 0 again.
    const probed = await fx.call(`/device/events${D}&max_age=30`);
    expect([probed.headers.get('x-cache'), probed.headers.get('age')]).toEqual(['hit', '0']);
    expect((await fx.call(`/device/event/1${D}`)).headers.get('age')).toBe('0');
    expect(fx.sim.server.stats.framesBySub['06']).toBe(1);
  });
});

describe('a failing store', () => {
  it('read-only: finished device work is answered uncached, and a waveform is not downloaded twice', async () => {
    const s = new SqliteStore(sqlitePath());
    const fx = await fixture(() => s);
    await fx.call(`/device/events${D}`);
    s['db'].pragma('query_only = 1');
    const info = await fx.call(`/device/info${D}`);
    expect([info.status, info.headers.get('x-cache'), info.json.serial]).toEqual([200, 'uncached', 'BE18189']);
    const wave = await fx.call(`/device/event/0/waveform${D}`);
    expect([wave.status, wave.headers.get('x-cache')]).toEqual([200, 'uncached']);
    const chunks = fx.sim.server.stats.framesBySub['5A'];
    const again = await fx.call(`/device/event/0/waveform${D}`);
    expect(again.status).toBe(200);
    expect(again.text).toBe(wave.text);
    expect(fx.sim.server.stats.framesBySub['5A']).toBe(chunks);
    expect(fx.logs.some((l) => /could not keep/.test(l) && /read-only/.test(l))).toBe(true);
  });

  it('full: a waveform too big for the disk is answered uncached; nothing half-written', async () => {
    const s = new SqliteStore(sqlitePath());
    const fx = await fixture(() => s, { sim: { recordTimeS: 10 } });
    await fx.call(`/device/events${D}`);
    s['db'].pragma(`max_page_count = ${s['db'].pragma('page_count', { simple: true }) as number}`);
    const wave = await fx.call(`/device/event/0/waveform${D}`);
    expect([wave.status, wave.headers.get('x-cache')]).toEqual([200, 'uncached']);
    s['db'].pragma('max_page_count = 1073741823');
    expect((await s.stats()).waveform.entries).toBe(0);
  });

  it('a store that cannot be read: 503 STORE_UNAVAILABLE naming the cause, before any device I/O', async () => {
    const failing = new Proxy(new MemoryStore(), {
      get(target, prop, receiver) {
        if (prop === 'getIdentity') return () => Promise.reject(new StoreUnavailable('the database server does not answer'));
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const fx = await fixture(() => failing);
    const r = await fx.call(`/device/info${D}`);
    expect([r.status, r.json.error.code]).toEqual([503, 'STORE_UNAVAILABLE']);
    expect(r.json.error.message).toMatch(/does not answer/);
    expect(fx.sim.server.stats.connectionsTotal).toBe(0);
  });
});

describe('slow clients', () => {
  async function open(url: string): Promise<Socket> {
    const u = new URL(url);
    const s = connect(Number(u.port), u.hostname);
    await once(s, 'connect');
    return s;
  }

  it('a request body that never finishes is answered 408 and its connection closed', async () => {
    const fx = await fixture(() => new MemoryStore(), { http: { headersTimeoutMs: 300, requestTimeoutMs: 600 } });
    const sockets = await Promise.all(Array.from({ length: 40 }, () => open(fx.url)));
    const replies = sockets.map((s) => {
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString()));
      s.write('POST /device/connect?device=demo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
      return once(s, 'close').then(() => text);
    });
    for (const text of await Promise.all(replies)) {
      expect(text).toMatch(/^HTTP\/1\.1 408/);
      expect(text).toContain('"code":"REQUEST_TIMEOUT"');
    }
    expect(fx.sim.server.stats.connectionsTotal).toBe(0);
  });

  it('connections beyond the cap are refused while the others stay open', async () => {
    const fx = await fixture(() => new MemoryStore(), { http: { maxConnections: 5, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000 } });
    const first = await Promise.all(Array.from({ length: 5 }, () => open(fx.url)));
    let firstClosed = 0;
    for (const s of first) s.once('close', () => firstClosed++);
    const extra = await open(fx.url);
    await once(extra, 'close');
    expect(firstClosed).toBe(0);
    for (const s of first) s.destroy();
  });
});

describe('two relays on one SQLite file (two processes sharing a store)', () => {
  async function pair() {
    const path = sqlitePath();
    const fx = await fixture(() => new SqliteStore(path), { sim: { forwardDelayMs: 5 } });
    const other = new RelayService(new TransportRegistry().register(tcpTransportFactory), new SqliteStore(path), { client: CLIENT_OPTIONS, clock: fx.clock });
    const devices = new DeviceRegistry();
    devices.register('demo', { kind: 'tcp', host: fx.sim.address.host, port: fx.sim.address.port });
    const server = await startHttpServer({ relay: other, devices, logger: fx.logger, version: 't', settings: defaultHttpSettings({ host: '127.0.0.1', port: 0, bodyLimitBytes: 4096 }) });
    return {
      fx,
      callOther: (p: string, o?: Parameters<typeof call>[2]) => call(server.url, p, o),
      close: async () => {
        await server.close();
        await other.store.close();
      },
    };
  }

  it("a config write through one is never served stale by the other", async () => {
    const { fx, callOther, close } = await pair();
    try {
      await fx.call(`/device/info${D}`);
      expect((await fx.call(`/device/info${D}`)).headers.get('x-cache')).toBe('hit');
      const w = await callOther(`/device/config${D}`, { method: 'POST', body: { project: 'Written elsewhere' } });
      expect(w.status).toBe(200);
      const info = await fx.call(`/device/info${D}`);
      expect(info.headers.get('x-cache')).not.toBe('hit');
      expect(info.json.compliance.project).toBe('Written elsewhere');
    } finally {
      await close();
    }
  });

  it('both syncing one unit at once: never two sessions, both answer the same list', async () => {
    const { fx, callOther, close } = await pair();
    try {
      const [a, b] = await Promise.all([fx.call(`/device/events${D}`), callOther(`/device/events${D}`)]);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(a.json).toEqual(b.json);
      expect(fx.sim.server.stats.maxConcurrentSessions).toBe(1);
      const [c, d] = await Promise.all([fx.call(`/device/event/2/waveform${D}`), callOther(`/device/event/2/waveform${D}`)]);
      expect(c.text).toBe(d.text);
      expect(fx.sim.server.stats.maxConcurrentSessions).toBe(1);
    } finally {
      await close();
    }
  });
});
