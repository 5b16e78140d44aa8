/**
 * The contract's error table through HTTP: 400 (many bad inputs, each naming the field), 404,
 * 409, 413, 415, 500, 502, 503, 504. (401 and 403 are in security.test.ts.)
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RelayService } from '@sfm/core/cache';
import { DeviceRegistry } from '@sfm/core/kernel';
import { startHttpServer } from './server.js';
import { defaultHttpSettings } from './settings.js';
import { call, captureLogger, startFixture, type Fixture, type Reply } from '@sfm/test-support';
import { checkResponses, servedContract } from './contract.test-helpers.js';

const q = '?device=demo';
const T = 'errors-token';

function expectError(r: Reply, status: number, code: string, message?: RegExp): void {
  expect(r.status, r.text).toBe(status);
  expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(Object.keys(r.json)).toEqual(['error']);
  expect(Object.keys(r.json.error).sort()).toEqual(['code', 'message']);
  expect(r.json.error.code).toBe(code);
  if (message) expect(r.json.error.message).toMatch(message);
  expect(r.text).not.toMatch(/\bat .+\.(ts|js):\d+/); // never a stack trace
}

/** Polls `cond` every few ms until it holds; fails after a generous 5 s (a bound on a hang, not a speed target). */
async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + 5_000;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('errors', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ token: T, bodyLimitBytes: 2048 });
    await checkResponses(f);
  });
  afterAll(async () => {
    await f.close();
  });

  describe('400 INVALID_REQUEST names the field and why', () => {
    const cases: [string, RegExp][] = [
      // path parameter
      [`/device/event/abc${q}`, /^idx: must be a whole number ≥ 0, got "abc"$/],
      [`/device/event/-1${q}`, /^idx: must be a whole number ≥ 0/],
      [`/device/event/1.5${q}`, /^idx: must be a whole number ≥ 0/],
      [`/device/event/NaN${q}`, /^idx: must be a whole number ≥ 0/],
      [`/device/event/1e3${q}`, /^idx: must be a whole number ≥ 0/],
      [`/device/event/0x10${q}`, /^idx: must be a whole number ≥ 0/],
      [`/device/event/99999999999999999999999${q}`, /^idx: must be a whole number ≥ 0/],
      [`/device/event/%F0%9F%98%80${q}`, /^idx: must be a whole number ≥ 0, got "😀"$/],
      [`/device/event/%20${q}`, /^idx: /],
      [`/device/event/Infinity/waveform${q}`, /^idx: /],
      // tcp_port / baud
      ['/device/info?host=127.0.0.1&tcp_port=0', /^tcp_port: must be 1–65535 \(a whole number\), got "0"$/],
      ['/device/info?host=127.0.0.1&tcp_port=65536', /^tcp_port: must be 1–65535/],
      ['/device/info?host=127.0.0.1&tcp_port=-5', /^tcp_port: must be 1–65535/],
      ['/device/info?host=127.0.0.1&tcp_port=NaN', /^tcp_port: must be 1–65535/],
      ['/device/info?host=127.0.0.1&tcp_port=1e3', /^tcp_port: must be 1–65535/],
      ['/device/info?host=127.0.0.1&tcp_port=99999999999999999999999999', /^tcp_port: must be 1–65535/],
      ['/device/info?host=127.0.0.1&tcp_port=', /^tcp_port: must be 1–65535/],
      ['/device/info?port=/dev/ttyS0&baud=49', /^baud: must be 50–4000000/],
      ['/device/info?port=/dev/ttyS0&baud=fast', /^baud: /],
      // booleans and enums
      [`/device/info${q}&force=yes`, /^force: must be true or false, got "yes"$/],
      [`/device/info${q}&force=1`, /^force: must be true or false/],
      [`/device/info${q}&force=TRUE`, /^force: must be true or false/],
      [`/device/info${q}&force`, /^force: must be true or false, got ""$/],
      [`/device/event/0/waveform${q}&format=xml`, /^format: must be one of json, csv, got "xml"$/],
      // arrays and unknown parameters
      [`/device/info${q}&force=true&force=false`, /^force: given 2 times; give it once$/],
      [`/device/info${q}&device=demo`, /^device: given 2 times/],
      [`/device/info${q}&force[]=true`, /^force\[\]: unknown query parameter/],
      [`/device/info${q}&x=1`, /^x: unknown query parameter \(this route takes device, host, tcp_port, port, baud, force, stale\)$/],
      [`/device/info?Device=demo`, /^Device: unknown query parameter/],
      [`/device/call-home${q}&force=true`, /^force: unknown query parameter/],
      ['/cache/stats?verbose=true', /^verbose: unknown query parameter \(this route takes none\)$/],
      ['/cache/stats?device=demo', /^device: unknown query parameter/],
      [`/device/info${q}&%E2%80%AE=1`, /^"\u202e": unknown query parameter/],
      // device selection
      ['/device/info', /^choose a unit: device=<name>, host=<address>/],
      ['/device/info?force=true', /^choose a unit/],
      ['/device/info?device=demo&host=127.0.0.1', /device and host were both given/],
      ['/device/info?host=127.0.0.1&port=/dev/ttyS0', /host and port were both given/],
      ['/device/info?device=demo&tcp_port=12345', /^tcp_port: only goes with host$/],
      ['/device/info?host=127.0.0.1&baud=9600', /^baud: only goes with port$/],
      ['/device/info?device=', /^device: must not be empty$/],
      ['/device/info?device=a%00b', /^device: must not contain control characters$/],
      [`/device/info?device=${'d'.repeat(129)}`, /^device: must be at most 128 characters long/],
      ['/device/info?host=exa%20mple', /^host: must be a host name or IP address/],
      ['/device/info?host=a/b', /^host: must be a host name or IP address/],
      ['/device/info?host=%C3%BC.example', /^host: must be a host name or IP address, got "ü.example"$/],
      ['/device/info?host=-oProxyCommand', /^host: must be a host name or IP address/],
      ['/device/info?host=a..b', /^host: /],
      ['/device/info?host=a:b', /^host: /],
      ['/device/info?host=', /^host: must be a host name or IP address/],
      ['/device/info?port=/dev/tty%20USB0', /^port: must be a serial port path/],
      ['/device/info?port=/dev/ttyUSB0/../../etc/passwd', /^port: must be a serial port path/],
    ];
    it.each(cases)('GET %s', async (path, message) => {
      const before = f.sim.server.stats.connectionsTotal;
      expectError(await f.call(path), 400, 'INVALID_REQUEST', message);
      expect(f.sim.server.stats.connectionsTotal).toBe(before);
    });

    const json = 'application/json';
    const bodies: [string, unknown, RegExp][] = [
      ['/device/config', {}, /^body: must name at least 1 field \(known: recording_mode, /],
      ['/device/config', [], /^body: must be a JSON object, got an array$/],
      ['/device/config', 'null', /^body: must not be null$/],
      ['/device/config', '"text"', /^body: must be a JSON object, got text$/],
      ['/device/config', '42', /^body: must be a JSON object, got a number$/],
      ['/device/config', { sample_rate: 'fast' }, /^sample_rate: must be one of 1024, 2048, 4096, got "fast"$/],
      ['/device/config', { sample_rate: 1000 }, /^sample_rate: must be one of 1024, 2048, 4096, got 1000$/],
      ['/device/config', { trigger_level_ips: 100 }, /^trigger_level_ips: must be a number from 0\.005 to 10, got 100$/],
      ['/device/config', { trigger_level_ips: -1 }, /^trigger_level_ips: /],
      ['/device/config', '{"record_time_s": 1e400}', /^record_time_s: must be a number from 0\.25 to 63\.99/],
      ['/device/config', { histogram_interval_s: 2.5 }, /^histogram_interval_s: must be 1–65535 \(a whole number\), got 2\.5$/],
      ['/device/config', { recording_mode: 'always' }, /^recording_mode: must be one of single_shot, continuous, histogram, histogram_continuous/],
      ['/device/config', { geo_range: null }, /^geo_range: must not be null$/],
      ['/device/config', { geo_full_scale_ips: 5 }, /^geo_full_scale_ips: not a known field/],
      ['/device/config', { colour: 'red' }, /^colour: not a known field \(known: recording_mode, /],
      ['/device/config', { project: 'Ångström' }, /^project: must be printable ASCII text, got "Ångström"$/],
      ['/device/config', { project: 'a\nb' }, /^project: must be printable ASCII text/],
      ['/device/config', { project: 'x'.repeat(41) }, /^project: must be at most 40 characters long, got 41$/],
      ['/device/config', { project: 7 }, /^project: must be text, got a number$/],
      ['/device/call-home', {}, /^body: must name at least 1 field/],
      ['/device/call-home', { time1: { hour: 24 } }, /^time1\.hour: must be 0–23 \(a whole number\), got 24$/],
      ['/device/call-home', { time2: { second: 1 } }, /^time2\.second: not a known field/],
      ['/device/call-home', { time1: 6 }, /^time1: must be a JSON object, got a number$/],
      ['/device/call-home', { num_retries: -1 }, /^num_retries: must be 0–255/],
      ['/device/call-home', { num_retries: 256 }, /^num_retries: must be 0–255/],
      ['/device/call-home', { dial_string: 5 }, /^dial_string: must be text/],
      ['/device/call-home', { dial_string: 'x'.repeat(41) }, /^dial_string: must be at most 40 characters long/],
      ['/device/call-home', { enabled: 'yes' }, /^enabled: must be true or false, got "yes"$/],
      ['/device/events/erase', { confirm: 'true' }, /^confirm: must be true or false, got "true"$/],
      ['/device/events/erase?confirm=yes&', undefined, /^confirm: must be true or false, got "yes"$/],
      ['/device/events/erase', { confirm: true, all: true }, /^all: not a known field/],
      ['/device/monitor/start', { now: true }, /^now: not a known field/],
      ['/device/connect', { force: true }, /^force: not a known field/],
    ];
    it.each(bodies)('POST %s %j', async (path, body, message) => {
      const before = f.sim.server.stats.connectionsTotal;
      const url = path.includes('?') ? `${path}device=demo` : `${path}${q}`;
      const r = await f.call(url, { method: 'POST', token: T, body, headers: { 'content-type': json } });
      expectError(r, 400, 'INVALID_REQUEST', message);
      expect(f.sim.server.stats.connectionsTotal).toBe(before);
    });

    it('malformed JSON', async () => {
      for (const body of ['{"project": ', '{project: "x"}', "{'a':1}", '{"a":1}}']) {
        expectError(await f.call(`/device/config${q}`, { method: 'POST', token: T, body }), 400, 'INVALID_REQUEST', /^body: not valid JSON$/);
      }
    });

    it('a path that is not valid percent-encoding, a body that does not inflate', async () => {
      expectError(await f.call(`/device/event/%E0%A4%A${q}`), 400, 'INVALID_REQUEST', /^path: a parameter is not valid percent-encoding$/);
      const gz = await f.call(`/device/config${q}`, { method: 'POST', token: T, body: 'not gzip', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
      expectError(gz, 400, 'INVALID_REQUEST', /^body: could not be read/);
      const br = await f.call(`/device/config${q}`, { method: 'POST', token: T, body: '{}', headers: { 'content-type': 'application/json', 'content-encoding': 'compress' } });
      expectError(br, 415, 'UNSUPPORTED_MEDIA_TYPE', /Content-Encoding/);
    });

    it('a body route without a body', async () => {
      expectError(await f.call(`/device/config${q}`, { method: 'POST', token: T }), 400, 'INVALID_REQUEST', /^body: required: a JSON object/);
    });

    it('a text value longer than the room the unit has for it: 400 before anything is written', async () => {
      // The emulated unit's operator slot has the full 32 characters; core refuses 33+.
      expectError(await f.call(`/device/config${q}`, { method: 'POST', token: T, body: { operator: 'o'.repeat(33) } }), 400, 'INVALID_REQUEST', /^operator: must be at most 32 characters/);
    });
  });

  it('413 for a body over the limit, with code PAYLOAD_TOO_LARGE (the contract)', async () => {
    const r = await f.call(`/device/config${q}`, { method: 'POST', token: T, body: { notes: 'n'.repeat(5000) } });
    expectError(r, 413, 'PAYLOAD_TOO_LARGE', /^body: larger than the limit of 2048 bytes$/);
    // the server is fine afterwards
    expect((await f.call('/health')).status).toBe(200);
  });

  it('415 for a body that is not JSON; +json types are JSON', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const r = await f.call(`/device/config${q}`, { method: 'POST', token: T, body: 'project=x', headers: { 'content-type': type } });
      expectError(r, 415, 'UNSUPPORTED_MEDIA_TYPE', /^Content-Type: must be application\/json, got /);
    }
    const noType = await fetch(`${f.url}/device/config${q}`, { method: 'POST', headers: { authorization: `Bearer ${T}` }, body: new Uint8Array([123, 125]) });
    expect(noType.status).toBe(415);
    expect(((await noType.json()) as { error: { message: string } }).error.message).toMatch(/none was given/);
    const plus = await f.call(`/device/config${q}`, { method: 'POST', token: T, body: { project: 'Plus' }, headers: { 'content-type': 'application/merge-patch+json' } });
    expect(plus.status).toBe(200);
    const latin1 = await f.call(`/device/config${q}`, { method: 'POST', token: T, body: { project: 'x' }, headers: { 'content-type': 'application/json; charset=latin1' } });
    expectError(latin1, 415, 'UNSUPPORTED_MEDIA_TYPE', /charset/);
  });

  describe('404 NOT_FOUND', () => {
    it('an unknown device name', async () => {
      expectError(await f.call('/device/info?device=nowhere'), 404, 'NOT_FOUND', /^unknown device "nowhere"$/);
      expectError(await f.call('/device/info?device=%F0%9F%98%80'), 404, 'NOT_FOUND', /unknown device/);
      expectError(await f.call('/cache/device?device=nowhere', { method: 'DELETE', token: T }), 404, 'NOT_FOUND', /unknown device/);
    });

    it('an event index beyond the unit\'s events (event and waveform)', async () => {
      const count = (await f.call(`/device/events${q}`)).json.count;
      expectError(await f.call(`/device/event/${count}${q}`), 404, 'NOT_FOUND', new RegExp(`event ${count} does not exist: the unit holds ${count} events`));
      expectError(await f.call(`/device/event/${count}/waveform${q}`), 404, 'NOT_FOUND', /does not exist/);
      expectError(await f.call(`/device/event/9007199254740991${q}`), 404, 'NOT_FOUND', /does not exist/);
    });

    it('a monitor-log record has no waveform', async () => {
      f.sim.unit.recordMonitorLog();
      const list = (await f.call(`/device/events${q}`)).json;
      const idx = list.events.findIndex((e: { record_type: string }) => e.record_type === 'monitor_log');
      expect(idx).toBeGreaterThanOrEqual(0);
      expectError(await f.call(`/device/event/${idx}/waveform${q}`), 404, 'NOT_FOUND', /monitor-log record; it has no waveform/);
    });

    it('an unknown route, or a known path with another method', async () => {
      expectError(await f.call('/nothing/here'), 404, 'NOT_FOUND', /^GET \/nothing\/here: no such route/);
      expectError(await f.call('/device'), 404, 'NOT_FOUND');
      expectError(await f.call('/device/event/'), 404, 'NOT_FOUND');
      expectError(await f.call('/device/event/1/waveform/x'), 404, 'NOT_FOUND');
      expectError(await f.call('/', { method: 'PUT' }), 404, 'NOT_FOUND');
      const wrong = await f.call(`/device/info${q}`, { method: 'DELETE' });
      expectError(wrong, 404, 'NOT_FOUND', /^DELETE \/device\/info: no such route \(this path takes GET\)$/);
      expect(wrong.headers.get('allow')).toBe('GET, HEAD');
      const callHome = await f.call('/device/call-home', { method: 'PUT' });
      expect(callHome.json.error.message).toMatch(/takes GET, POST/);
    });
  });

  it('409 CONFIRMATION_REQUIRED: erase without confirm=true sends nothing to the unit', async () => {
    const before = f.sim.server.stats.connectionsTotal;
    const events = f.sim.unit.events.length;
    for (const path of [`/device/events/erase${q}`, `/device/events/erase${q}&confirm=false`]) {
      expectError(await f.call(path, { method: 'POST', token: T }), 409, 'CONFIRMATION_REQUIRED', /confirm=true/);
    }
    expectError(await f.call(`/device/events/erase${q}`, { method: 'POST', token: T, body: { confirm: false } }), 409, 'CONFIRMATION_REQUIRED');
    expect(f.sim.server.stats.connectionsTotal).toBe(before);
    expect(f.sim.unit.events.length).toBe(events);
  });

  it('502 DEVICE_UNREACHABLE for a port nothing listens on', async () => {
    const port = await closedPort();
    expectError(await f.call(`/device/info?host=127.0.0.1&tcp_port=${port}`), 502, 'DEVICE_UNREACHABLE', new RegExp(`tcp:127\\.0\\.0\\.1:${port}: connection refused`));
  });

  it('502 PROTOCOL_ERROR for a corrupt reply the client may not retry', async () => {
    f.sim.server.corruptNextFrame(0x7e); // the ack of the call-home write
    const r = await f.call(`/device/call-home${q}`, { method: 'POST', token: T, body: { enabled: true } });
    f.sim.server.clearFaults();
    expectError(r, 502, 'PROTOCOL_ERROR', /call-home write/);
  });

  it('504 DEVICE_TIMEOUT for a stalled unit', async () => {
    // The unit never answers until cleared, so only the relay's own reply timeout can end this request
    // (a relay that waited for the unit would hang past the test's timeout); the message names that path.
    f.sim.server.stall('forever');
    const r = await f.call(`/device/monitor/status${q}&force=true`);
    f.sim.server.clearFaults();
    expectError(r, 504, 'DEVICE_TIMEOUT', /no reply within/);
    expect((await f.call(`/device/monitor/status${q}&force=true`)).status).toBe(200);
  });
});

describe('503 DEVICE_BUSY', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ relay: { queue: { maxQueued: 0 } } });
    await checkResponses(f);
  });
  afterAll(async () => {
    await f.close();
  });

  it('while another request holds the unit and its queue is full', async () => {
    // The unit never answers until cleared: the holder keeps it until the relay's reply timeout (504).
    f.sim.server.stall('forever');
    const holder = f.call(`/device/events${q}&force=true`);
    await until(async () => (await f.relay.cacheStats()).device_requests_pending === 1, 'the first request to hold the unit');
    const busy = await f.call(`/device/monitor/status${q}`);
    expectError(busy, 503, 'DEVICE_BUSY', /the unit is busy and no request may wait for it/);
    expect((await holder).status).toBe(504);
    f.sim.server.clearFaults();
    // another unit is not held up by this one: /health and cache routes never queue
    expect((await f.call('/cache/stats')).status).toBe(200);
  });
});

describe('500 INTERNAL', () => {
  it('an unexpected error: "internal error" in the response, the details only in the log', async () => {
    const { logger, logs } = captureLogger();
    const relay = {
      store: { kind: 'fake' },
      cacheStats: () => {
        throw new TypeError('kaboom: secret detail /srv/sfm/db');
      },
      drain: async () => undefined,
    } as unknown as RelayService;
    const server = await startHttpServer({ relay, devices: new DeviceRegistry(), logger, version: 'x', settings: defaultHttpSettings({ host: '127.0.0.1', port: 0, bodyLimitBytes: 1024 }) });
    try {
      const r = await call(server.url, '/cache/stats', { headers: { 'x-request-id': 'trace-500' } });
      expect(r.status).toBe(500);
      (await servedContract(server.url)).check({ method: 'GET', path: '/cache/stats', ...r });
      expect(r.json).toEqual({ error: { code: 'INTERNAL', message: 'internal error' } });
      expect(r.text).not.toMatch(/kaboom|secret|stack|\.ts/);
      const line = logs.map((l) => JSON.parse(l)).find((l) => l.msg === 'unexpected error');
      expect(line).toMatchObject({ req_id: 'trace-500', level: 50, err: { type: 'TypeError', message: 'kaboom: secret detail /srv/sfm/db' } });
      expect(line.err.stack).toMatch(/TypeError: kaboom/);
    } finally {
      await server.close();
    }
  });
});
