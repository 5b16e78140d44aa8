/**
 * Security defaults through HTTP: the bearer token on write routes (401), the allow-list checked
 * before any connection (403, proven by a listener that never sees one), refusing a public bind
 * without a token, response headers, request ids and logs that never carry the token.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenMatches } from './auth.js';
import { isLoopbackHost as isLoopback } from '@sfm/core/transport';
import { startHttpServer } from './server.js';
import { HttpSettingsError, checkSettings, defaultHttpSettings } from './settings.js';
import { startFixture, type CallOptions, type Fixture } from '@sfm/test-support';
import { checkResponses } from './contract.test-helpers.js';

const TOKEN = 's3cr3t-Token_value.9';
const q = '?device=demo';

/** Every route that changes a unit, and DELETE /cache/device, with a request that would succeed. */
const WRITES: [string, string, CallOptions['body']][] = [
  ['POST', `/device/monitor/start${q}`, undefined],
  ['POST', `/device/monitor/stop${q}`, undefined],
  ['POST', `/device/config${q}`, { project: 'Auth' }],
  ['POST', `/device/call-home${q}`, { enabled: false }],
  ['POST', `/device/events/erase${q}&confirm=true`, undefined],
  ['DELETE', `/cache/device${q}`, undefined],
];

describe('bearer token on write routes', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ token: TOKEN });
    await checkResponses(f);
  });
  afterAll(async () => {
    await f.close();
  });

  it.each(WRITES)('%s %s: 401 without a token, with a wrong one or another scheme; no device I/O', async (method, path, body) => {
    const before = f.sim.server.stats.connectionsTotal;
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-token' },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}` },
      { authorization: TOKEN },
      { authorization: 'Bearer' },
      { authorization: `Bearer ${TOKEN} extra` },
    ];
    for (const headers of attempts) {
      const r = await f.call(path, { method, body, headers });
      expect(r.status, JSON.stringify(headers)).toBe(401);
      expect(r.json.error.code).toBe('UNAUTHORIZED');
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm="sfm"/);
      expect(r.text).not.toContain(TOKEN);
    }
    expect(f.sim.server.stats.connectionsTotal).toBe(before);
    const ok = await f.call(path, { method, body, token: TOKEN });
    expect(ok.status, ok.text).toBe(200);
    // the scheme is case-insensitive
    const lower = await f.call(path, { method, body, headers: { authorization: `bearer ${TOKEN}` } });
    expect(lower.status).toBe(200);
  });

  it('the 401 says what the route does', async () => {
    const clear = await f.call(`/cache/device${q}`, { method: 'DELETE' });
    expect(clear.json.error.message).toBe('this route clears what is cached for a unit: send Authorization: Bearer <token>');
    const write = await f.call(`/device/monitor/start${q}`, { method: 'POST' });
    expect(write.json.error.message).toBe('this route changes the unit: send Authorization: Bearer <token>');
  });

  it('401 comes before validation and device selection', async () => {
    expect((await f.call('/device/config?host=127.0.0.1&nope=1', { method: 'POST', body: '{bad' })).status).toBe(401);
    // …and before the body is read: an oversize body without a token is 401, not 413
    expect((await f.call(`/device/config${q}`, { method: 'POST', body: { notes: 'n'.repeat(10_000) } })).status).toBe(401);
  });

  it('reading routes need no token', async () => {
    for (const path of [`/device/info${q}`, `/device/events${q}`, `/device/monitor/status${q}`, `/device/call-home${q}`, `/device/events/storage-range${q}`, '/cache/stats', '/health']) {
      expect((await f.call(path)).status, path).toBe(200);
    }
    expect((await f.call(`/device/connect${q}`, { method: 'POST' })).status).toBe(200);
  });

  it('the token never reaches the logs', async () => {
    await f.call(`/device/config${q}`, { method: 'POST', token: TOKEN, body: { project: 'Logged' } });
    await f.call(`/device/config${q}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}-wrong` }, body: { project: 'Logged' } });
    const all = f.logs.join('\n');
    expect(all).toContain('"path":"/device/config"');
    expect(all).not.toContain(TOKEN);
    expect(all.toLowerCase()).not.toContain('authorization');
    expect(all.toLowerCase()).not.toContain('bearer');
  });

  it('constant-time comparison gives the right answers', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abd', 'abc')).toBe(false);
    expect(tokenMatches('', 'abc')).toBe(false);
    expect(tokenMatches('abcd', 'abc')).toBe(false);
  });
});

describe('without a configured token', () => {
  it('write routes are open (on loopback)', async () => {
    const f = await startFixture();
    try {
      expect((await f.call(`/device/monitor/stop${q}`, { method: 'POST' })).status).toBe(200);
      expect((await f.call(`/cache/device${q}`, { method: 'DELETE' })).status).toBe(200);
    } finally {
      await f.close();
    }
  });
});

describe('403 TARGET_NOT_ALLOWED before any connection', () => {
  let f: Fixture;
  let listener: Server;
  let listenerPort: number;
  let connections = 0;
  beforeAll(async () => {
    // Only registered units may be reached: no host, no serial port is allow-listed.
    f = await startFixture({ token: TOKEN, allow: { hosts: ['127.0.0.2'], serialPorts: ['/dev/ttyUSB*'] } });
    await checkResponses(f);
    listener = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    listenerPort = (listener.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => listener.close(() => resolve()));
    await f.close();
  });

  it('an ad-hoc host outside the allow-list: 403 and the listener never sees a connection', async () => {
    const routes: [string, string, CallOptions['body']][] = [
      ['GET', '/device/info', undefined],
      ['POST', '/device/connect', undefined],
      ['GET', '/device/events', undefined],
      ['GET', '/device/event/0', undefined],
      ['GET', '/device/event/0/waveform', undefined],
      ['GET', '/device/monitor/status', undefined],
      ['GET', '/device/call-home', undefined],
      ['GET', '/device/events/storage-range', undefined],
      ['POST', '/device/monitor/start', undefined],
      ['POST', '/device/monitor/stop', undefined],
      ['POST', '/device/config', { project: 'x' }],
      ['POST', '/device/call-home', { enabled: true }],
      ['POST', '/device/events/erase', { confirm: true }],
      ['DELETE', '/cache/device', undefined],
    ];
    for (const host of ['127.0.0.1', 'localhost', '[::ffff:127.0.0.1]']) {
      for (const [method, path, body] of routes) {
        const r = await f.call(`${path}?host=${host}&tcp_port=${listenerPort}`, { method, body, token: TOKEN });
        expect(r.status, `${method} ${path} ${host}`).toBe(403);
        expect(r.json.error.code).toBe('TARGET_NOT_ALLOWED');
        expect(r.json.error.message).toMatch(/not allowed by the configuration/);
      }
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(connections).toBe(0);
  });

  it('the registered unit\'s host at another port is not allowed either; at its own port it is', async () => {
    expect((await f.call(`/device/info?host=127.0.0.1&tcp_port=${listenerPort}`)).status).toBe(403);
    const own = await f.call(`/device/info?host=127.0.0.1&tcp_port=${f.sim.address.port}`);
    expect(own.status).toBe(200);
    expect(connections).toBe(0);
  });

  it('serial ports outside the allow-list: 403 (inside it, the missing serial transport answers)', async () => {
    const r = await f.call('/device/info?port=/dev/ttyS0');
    expect(r.status).toBe(403);
    expect(r.json.error.message).toMatch(/serial port \/dev\/ttyS0 at 38400 baud is not allowed/);
    expect((await f.call('/device/info?port=/dev/ttyUSB0/../../etc/shadow')).status).toBe(400);
  });
});

describe('binding', () => {
  it('refuses a non-loopback host without a token, before listening', async () => {
    for (const host of ['0.0.0.0', '::', '', '192.0.2.10', 'sfm.example.org']) {
      await expect(startHttpServer({
        relay: {} as never, devices: {} as never, logger: { info() {} } as never, version: 'x',
        settings: defaultHttpSettings({ host, port: 0, bodyLimitBytes: 1024 }),
      })).rejects.toBeInstanceOf(HttpSettingsError);
    }
    await expect(startHttpServer({ relay: {} as never, devices: {} as never, logger: {} as never, version: 'x', settings: defaultHttpSettings({ host: '0.0.0.0', port: 0, bodyLimitBytes: 1024 }) })).rejects.toThrow(/without a token/);
  });

  it('accepts loopback without a token and any host with one; refuses bad settings', () => {
    for (const host of ['127.0.0.1', '127.8.9.10', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1', '127.1', 'LOCALHOST.']) {
      expect(isLoopback(host), host).toBe(true);
      expect(() => checkSettings(defaultHttpSettings({ host, port: 0, bodyLimitBytes: 10 }))).not.toThrow();
    }
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('128.0.0.1')).toBe(false);
    // An IPv6 address with a dotted tail is the IPv6 address it is, not loopback.
    expect(isLoopback('::1.0.0.0')).toBe(false);
    expect(() => checkSettings(defaultHttpSettings({ host: '::1.0.0.0', port: 0 }))).toThrow(/without a token/);
    expect(() => checkSettings(defaultHttpSettings({ host: '0.0.0.0', port: 8200, bodyLimitBytes: 10, token: 'tok' }))).not.toThrow();
    expect(() => checkSettings(defaultHttpSettings({ host: '127.0.0.1', port: 70000, bodyLimitBytes: 10 }))).toThrow(HttpSettingsError);
    expect(() => checkSettings(defaultHttpSettings({ host: '127.0.0.1', port: 0, bodyLimitBytes: 0 }))).toThrow(HttpSettingsError);
    expect(() => checkSettings(defaultHttpSettings({ host: '0.0.0.0', port: 0, bodyLimitBytes: 10, token: '' }))).toThrow(HttpSettingsError);
    expect(() => checkSettings(defaultHttpSettings({ host: '127.0.0.1', port: 0, bodyLimitBytes: 10, token: 'has space' }))).toThrow(HttpSettingsError);
  });
});

describe('headers and logs', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture();
  });
  afterAll(async () => {
    await f.close();
  });

  it('nosniff everywhere, no X-Powered-By', async () => {
    for (const path of ['/health', `/device/info${q}`, '/nowhere', `/device/info${q}&x=1`, `/device/event/0/waveform${q}&format=csv`]) {
      const r = await f.call(path);
      expect(r.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(r.headers.get('x-powered-by'), path).toBeNull();
    }
  });

  it('X-Request-Id: a sane incoming id is echoed, anything else replaced by a generated one', async () => {
    const sane = await f.call('/health', { headers: { 'x-request-id': 'dash-42.a:b_c' } });
    expect(sane.headers.get('x-request-id')).toBe('dash-42.a:b_c');
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    expect((await f.call('/health')).headers.get('x-request-id')).toMatch(uuid);
    for (const bad of ['has space', 'x'.repeat(200), 'a"b', '<script>', 'a/b']) {
      const r = await f.call('/health', { headers: { 'x-request-id': bad } });
      expect(r.headers.get('x-request-id'), bad).toMatch(uuid);
    }
  });

  it('one log line per request: method, path, status, ms, cache outcome, target key, request id', async () => {
    f.logs.length = 0;
    await f.call(`/device/info${q}&force=true`, { headers: { 'x-request-id': 'line-1' } });
    await f.call(`/device/info${q}`, { headers: { 'x-request-id': 'line-2' } });
    await f.call('/device/info?device=ghost', { headers: { 'x-request-id': 'line-3' } });
    const lines = f.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'request');
    expect(lines.map((l) => l.req_id)).toEqual(['line-1', 'line-2', 'line-3']);
    const key = `tcp:127.0.0.1:${f.sim.address.port}`;
    expect(lines[0]).toMatchObject({ method: 'GET', path: '/device/info', status: 200, cache: 'refresh', target: key, level: 30 });
    expect(lines[1]).toMatchObject({ status: 200, cache: 'hit', target: key });
    expect(lines[2]).toMatchObject({ status: 404 });
    expect(lines[2].cache).toBeUndefined();
    for (const l of lines) expect(typeof l.ms).toBe('number');
    await f.call('/api/sfm/health', { headers: { 'x-request-id': 'line-4' } });
    const prefixed = f.logs.map((l) => JSON.parse(l)).find((l) => l.req_id === 'line-4');
    expect(prefixed).toMatchObject({ msg: 'request', path: '/api/sfm/health', status: 200 });
    // the query string (hosts, names) is not logged; the target key is
    expect(f.logs.join('\n')).not.toContain('device=');
  });
});
