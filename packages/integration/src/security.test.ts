/**
 * Security across packages, through real HTTP, the CLI and the store:
 *
 * (a) the allow-list stops ad-hoc targets before any connection: a listener on 127.0.0.2 (not
 *     allowed) sees none, whatever route or address spelling, while a relay that allows it does;
 * (b) the bearer token guards every write route (401 without or with a wrong one, no device I/O),
 *     and a non-loopback bind without a token is refused;
 * (c) no stack trace and never the token in any response body or log line across a sweep of
 *     error-producing requests (400 … 504);
 * (d) body limits (413, with and without Content-Length), before any device I/O;
 * (e) the CLI's --out checks: a missing folder or a folder is refused before any download, and an
 *     interrupted write leaves no file under the asked name;
 * (f) a store path whose folder cannot be created gives a clear cache-store error.
 */
import { createServer as createNetServer, type Server } from 'node:net';
import { request as httpRequest } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RelayService, StoreError } from '@sfm/core/cache';
import { DeviceRegistry } from '@sfm/core/kernel';
import { TransportRegistry, type DeviceTarget } from '@sfm/core/transport';
import { HttpSettingsError, ROUTES, checkSettings, defaultHttpSettings, startHttpServer, type HttpServerHandle, type RouteSpec } from '@sfm/adapter-http';
import { checkOutputPath, runCli, writeWhole, type CliIO, type CliServices } from '@sfm/adapter-cli';
import { startSimulator, type RunningSimulator } from '@sfm/simulator';
import { MemoryStore } from '@sfm/store-memory';
import { SqliteStore } from '@sfm/store-sqlite';
import { tcpTransportFactory } from '@sfm/transport-tcp';
import { UNIT_DEFAULTS, call, captureLogger, type CallOptions, type Reply } from '@sfm/test-support';

const TOKEN = 'Tok3n-for-the-security-sweep_42';
const CLIENT = { frameTimeoutMs: 200, chunkTimeoutMs: 200, wakeWindowMs: 0, monitorPollMs: 5 };
const BODY_LIMIT = 4096;
const transports = new TransportRegistry().register(tcpTransportFactory);

const dir = mkdtempSync(join(tmpdir(), 'sfm-security-'));

let sim: RunningSimulator;
let outsider: Server;
let outsiderPort: number;
let outsiderConnections = 0;
let deadPort: number;
let relay: RelayService;
let http: HttpServerHandle;
let logs: string[];

const connections = () => sim.server.stats.connectionsTotal;
const req = (path: string, o?: CallOptions): Promise<Reply> => call(http.url, path, o);

function listen(server: Server, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve((server.address() as { port: number }).port));
  });
}

beforeAll(async () => {
  sim = await startSimulator({ ...UNIT_DEFAULTS, events: 3, monitorSettleMs: 0, host: '127.0.0.1', port: 0 });
  // A loopback address the configuration does not allow, with a listener that counts.
  outsider = createNetServer((s) => {
    outsiderConnections++;
    s.destroy();
  });
  outsiderPort = await listen(outsider, '127.0.0.2');
  const spare = createNetServer();
  deadPort = await listen(spare, '127.0.0.1');
  await new Promise<void>((resolve) => spare.close(() => resolve()));

  relay = new RelayService(transports, new MemoryStore(), { client: CLIENT, queue: { maxQueued: 1, maxWaitMs: 2000 } });
  const demo: DeviceTarget = { kind: 'tcp', host: '127.0.0.1', port: sim.address.port };
  const devices = new DeviceRegistry({ demo, dead: { kind: 'tcp', host: '127.0.0.1', port: deadPort } }, { hosts: ['127.0.0.1'], serialPorts: [] });
  const captured = captureLogger();
  logs = captured.logs;
  http = await startHttpServer({
    relay, devices, logger: captured.logger, version: 'security-test',
    settings: defaultHttpSettings({ host: '127.0.0.1', port: 0, token: TOKEN, bodyLimitBytes: BODY_LIMIT }),
  });
});

afterAll(async () => {
  sim.server.clearFaults();
  await http.close();
  relay.store.close();
  await sim.close();
  await new Promise<void>((resolve) => outsider.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

/** A request every route would take (a body where one is needed). */
const BODIES: Record<string, unknown> = { config: { project: 'Security' }, callHomeSet: { enabled: false }, erase: { confirm: true }, dbEventReview: { notes: 'Security' } };
/** The route's path for event 0 (or archived event 1). */
const routePath = (r: RouteSpec) => r.path.replace('{idx}', '0').replace('{id}', '1');
const method = (r: RouteSpec) => r.method.toUpperCase();

/** No stack trace, no source paths, never the token; errors are exactly { error: { code, message } }. */
function expectClean(r: Reply, label: string): void {
  expect(r.text, label).not.toContain(TOKEN);
  expect(r.text, label).not.toMatch(/\n\s+at |\bat \S+ \(|node_modules|\.[cm]?[jt]s:\d+|file:\/\//);
  if (r.status >= 400) {
    expect(Object.keys(r.json ?? {}), label).toEqual(['error']);
    expect(Object.keys(r.json.error).sort(), label).toEqual(['code', 'message']);
  }
}

describe('(a) the allow-list stops ad-hoc targets before any connection', () => {
  // 127.0.0.2 in the spellings a connect() would take for it.
  const SPELLINGS = ['127.0.0.2', '[::ffff:127.0.0.2]', '::ffff:7f00:2', '127.0.2', '2130706434', '0x7f000002', '0177.0.0.2'];

  it('every device route, every spelling of 127.0.0.2: 403 TARGET_NOT_ALLOWED and the listener sees 0 connections', async () => {
    const deviceRoutes = ROUTES.filter((r) => r.device);
    expect(deviceRoutes.length).toBeGreaterThanOrEqual(14);
    let tried = 0;
    for (const host of SPELLINGS) {
      for (const r of deviceRoutes) {
        const res = await req(`${routePath(r)}?host=${encodeURIComponent(host)}&tcp_port=${outsiderPort}`, { method: method(r), body: BODIES[r.id], token: TOKEN });
        const label = `${method(r)} ${r.path} host=${host}`;
        expect(res.status, label).toBe(403);
        expect(res.json.error.code, label).toBe('TARGET_NOT_ALLOWED');
        expectClean(res, label);
        tried++;
      }
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(outsiderConnections).toBe(0);
    expect(tried).toBe(SPELLINGS.length * deviceRoutes.length);
  });

  it('control: a relay whose allow-list has 127.0.0.2 does connect (so 0 above means refused)', async () => {
    const open = await startHttpServer({
      relay: new RelayService(transports, new MemoryStore(), { client: CLIENT }),
      devices: new DeviceRegistry({}, { hosts: ['127.0.0.2'], serialPorts: [] }),
      logger: captureLogger().logger, version: 'control', settings: defaultHttpSettings({ host: '127.0.0.1', port: 0, bodyLimitBytes: BODY_LIMIT }),
    });
    try {
      const before = outsiderConnections;
      const r = await call(open.url, `/device/info?host=127.0.0.2&tcp_port=${outsiderPort}`);
      expect(r.json.error.code).toBe('DEVICE_UNREACHABLE');
      expect(outsiderConnections).toBeGreaterThan(before);
    } finally {
      await open.close();
    }
  });
});

describe('(b) the token guards every write route; a public bind needs one', () => {
  it('every auth route: 401 without a token or with a wrong one, no device I/O; with the token it works', async () => {
    const writes = ROUTES.filter((r) => r.auth);
    expect(writes.map((r) => r.id).sort()).toEqual(['cacheClear', 'callHomeSet', 'config', 'dbEventReview', 'erase', 'monitorStart', 'monitorStop']);
    expect((await req('/device/events?device=demo')).status).toBe(200); // archived event 1 exists for the review
    for (const r of writes) {
      const path = `${routePath(r)}${r.device ? '?device=demo' : ''}`;
      const before = connections();
      const attempts: Record<string, string>[] = [{}, { authorization: `Bearer ${TOKEN}x` }, { authorization: 'Bearer nope' }, { authorization: `Basic ${Buffer.from(`sfm:${TOKEN}`).toString('base64')}` }];
      for (const headers of attempts) {
        const res = await req(path, { method: method(r), body: BODIES[r.id], headers });
        expect(res.status, `${r.id} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.json.error.code).toBe('UNAUTHORIZED');
        expectClean(res, r.id);
      }
      expect(connections(), `${r.id}: no device I/O`).toBe(before);
      const ok = await req(path, { method: method(r), body: BODIES[r.id], token: TOKEN });
      expect(ok.status, `${r.id}: ${ok.text}`).toBe(200);
    }
    // reading routes stay open
    expect((await req('/device/info?device=demo')).status).toBe(200);
  });

  it('startHttpServer refuses a non-loopback bind without a token, before listening', async () => {
    for (const host of ['0.0.0.0', '::', '', '192.0.2.10', '10.20.0.1']) {
      const err = await startHttpServer({
        relay, devices: new DeviceRegistry(), logger: captureLogger().logger, version: 'x', settings: defaultHttpSettings({ host, port: 0, bodyLimitBytes: BODY_LIMIT }),
      }).then(() => undefined, (e: unknown) => e);
      expect(err, host).toBeInstanceOf(HttpSettingsError);
      expect((err as Error).message).toMatch(/refusing to listen on .* without a token/);
    }
    expect(() => checkSettings(defaultHttpSettings({ host: '0.0.0.0', port: 0, bodyLimitBytes: BODY_LIMIT, token: TOKEN }))).not.toThrow();
  });
});

describe('(c) no stack trace and never the token, in bodies or logs, across error-producing requests', () => {
  it('a sweep from 400 to 504', async () => {
    const json = { 'content-type': 'application/json' };
    const sweep: [string, string, CallOptions, number, string][] = [
      ['no unit chosen', '/device/info', {}, 400, 'INVALID_REQUEST'],
      ['two ways to a unit', '/device/info?device=demo&host=127.0.0.1', {}, 400, 'INVALID_REQUEST'],
      ['unknown parameter', '/device/info?device=demo&nope=1', {}, 400, 'INVALID_REQUEST'],
      ['the token in the query', `/device/info?device=demo&token=${TOKEN}`, {}, 400, 'INVALID_REQUEST'],
      ['bad index', '/device/event/-1?device=demo', {}, 400, 'INVALID_REQUEST'],
      ['bad host', '/device/info?host=-x', {}, 400, 'INVALID_REQUEST'],
      ['bad JSON', '/device/config?device=demo', { method: 'POST', body: '{"project":', headers: json, token: TOKEN }, 400, 'INVALID_REQUEST'],
      ['bad field', '/device/config?device=demo', { method: 'POST', body: { trigger_level_ips: 'loud' }, token: TOKEN }, 400, 'INVALID_REQUEST'],
      ['no token', '/device/monitor/start?device=demo', { method: 'POST' }, 401, 'UNAUTHORIZED'],
      ['a wrong token with the token in it', '/device/monitor/start?device=demo', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}-wrong` } }, 401, 'UNAUTHORIZED'],
      ['not allowed', `/device/info?host=127.0.0.2&tcp_port=${outsiderPort}`, {}, 403, 'TARGET_NOT_ALLOWED'],
      ['unknown unit', '/device/info?device=nope', {}, 404, 'NOT_FOUND'],
      ['beyond the events', '/device/event/99?device=demo', {}, 404, 'NOT_FOUND'],
      ['unknown route', '/device/nothing', {}, 404, 'NOT_FOUND'],
      ['erase unconfirmed', '/device/events/erase?device=demo', { method: 'POST', token: TOKEN }, 409, 'CONFIRMATION_REQUIRED'],
      ['body over the limit', '/device/config?device=demo', { method: 'POST', body: { notes: 'n'.repeat(BODY_LIMIT) }, token: TOKEN }, 413, 'PAYLOAD_TOO_LARGE'],
      ['not JSON', '/device/config?device=demo', { method: 'POST', body: 'project=x', headers: { 'content-type': 'text/plain' }, token: TOKEN }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['nothing listening', '/device/info?device=dead', {}, 502, 'DEVICE_UNREACHABLE'],
    ];
    const seen = new Set<number>();
    for (const [label, path, o, status, code] of sweep) {
      const r = await req(path, o);
      expect([r.status, r.json?.error?.code], `${label}: ${r.text}`).toEqual([status, code]);
      expectClean(r, label);
      seen.add(r.status);
    }
    // The unit misbehaving: a corrupt write ack, a stall, a full queue.
    sim.server.corruptNextFrame(0x7e);
    const corrupt = await req('/device/call-home?device=demo', { method: 'POST', body: { enabled: true }, token: TOKEN });
    expect([corrupt.status, corrupt.json.error.code]).toEqual([502, 'PROTOCOL_ERROR']);
    expectClean(corrupt, 'corrupt ack');
    sim.server.stall('forever');
    const stalled = await req('/device/monitor/status?device=demo&force=true');
    expect([stalled.status, stalled.json.error.code]).toEqual([504, 'DEVICE_TIMEOUT']);
    expectClean(stalled, 'stall');
    const burst = await Promise.all([
      req('/device/monitor/status?device=demo&force=true'), req('/device/info?device=demo&force=true'),
      req('/device/events/storage-range?device=demo'), req('/device/call-home?device=demo'),
    ]);
    sim.server.clearFaults();
    for (const r of burst) {
      expect([502, 503, 504], r.text).toContain(r.status);
      expectClean(r, 'busy');
    }
    expect(burst.map((r) => r.json.error.code)).toContain('DEVICE_BUSY');
    for (const r of [corrupt, stalled, ...burst]) seen.add(r.status);
    expect([...seen].sort()).toEqual([400, 401, 403, 404, 409, 413, 415, 502, 503, 504]);
    await relay.idle();

    // The logs: JSON lines, none with the token, a stack or an Authorization header.
    expect(logs.length).toBeGreaterThan(sweep.length);
    for (const line of logs) {
      expect(() => JSON.parse(line)).not.toThrow();
      expect(line).not.toContain(TOKEN);
      expect(line).not.toMatch(/"stack"|\\n\s+at |authorization|bearer/i);
    }
    expect(logs.some((l) => /"status":504/.test(l))).toBe(true);
  });
});

describe('(d) body limits', () => {
  it('413 over the limit with Content-Length or chunked, on every route with a body, before any device I/O', async () => {
    const before = connections();
    for (const path of ['/device/config', '/device/call-home', '/device/events/erase']) {
      const r = await req(`${path}?device=demo`, { method: 'POST', body: { notes: 'n'.repeat(BODY_LIMIT + 1) }, token: TOKEN });
      expect(r.status, path).toBe(413);
      expect(r.json.error.message).toContain(`${BODY_LIMIT} bytes`);
      const chunked = await postChunked(`${path}?device=demo`, BODY_LIMIT * 4);
      expect(chunked.status, `${path} chunked`).toBe(413);
      expect(JSON.parse(chunked.text).error.code).toBe('PAYLOAD_TOO_LARGE');
    }
    expect(connections()).toBe(before);
    // At the limit is not too large.
    const pad = BODY_LIMIT - JSON.stringify({ project: '' }).length;
    const atLimit = await req('/device/config?device=demo', { method: 'POST', body: `{"project":""${' '.repeat(pad)}}`, headers: { 'content-type': 'application/json' }, token: TOKEN });
    expect(atLimit.status).not.toBe(413);
  });
});

/** POSTs `size` bytes of a JSON string value in chunks, without Content-Length. */
function postChunked(path: string, size: number): Promise<{ status: number; text: string }> {
  const url = new URL(path, http.url);
  return new Promise((resolve, reject) => {
    const r = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    r.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? undefined : reject(e)));
    r.write('{"notes":"');
    for (let sent = 0; sent < size; sent += 512) r.write('n'.repeat(512));
    r.end('"}');
  });
}

describe('(e) the CLI --out path', () => {
  const io = () => {
    const o = { out: '', err: '', stderrIsTTY: false, stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t) };
    return o satisfies CliIO;
  };
  const cliRelay = () => new RelayService(transports, new MemoryStore(), { client: CLIENT });
  const services = (): CliServices => {
    const r = cliRelay();
    return { access: r, relay: r, close: () => r.store.close() };
  };
  const waveform = (out: string, ...extra: string[]) => {
    const o = io();
    return runCli(['waveform', '0', '--host', '127.0.0.1', '--tcp-port', String(sim.address.port), '--out', out, ...extra], o, { services }).then((code) => ({ code, ...o }));
  };

  it('a missing folder or a folder path is refused before any download', async () => {
    const before = connections();
    const missing = await waveform(join(dir, 'no-such-folder', 'w.json'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/--out: the folder .*no-such-folder does not exist/);
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    const isFolder = await waveform(folder);
    expect(isFolder.code).toBe(2);
    expect(isFolder.err).toMatch(/--out: .*a-folder is a folder; --out writes regular files only/);
    expect(connections()).toBe(before);
    await expect(checkOutputPath(join(dir, 'missing', 'x.csv'))).rejects.toThrow(/does not exist/);
    // control: a good path downloads and writes the file (the unit was erased through HTTP above)
    if (sim.unit.events.length === 0) sim.unit.recordEvent();
    const good = await waveform(join(dir, 'w.csv'), '--format', 'csv');
    expect([good.code, good.err]).toEqual([0, expect.stringMatching(/wrote .*w\.csv/)]);
    expect(readFileSync(join(dir, 'w.csv'), 'utf8').split('\n')[0]).toBe('t_s,Tran_ips,Vert_ips,Long_ips,MicL_psi');
    expect(connections()).toBeGreaterThan(before);
  });

  it('an interrupted write leaves no file under the asked name (and an old file untouched)', async () => {
    const folder = join(dir, 'interrupted');
    mkdirSync(folder);
    function* failing(): Generator<string> {
      yield 't_s,Tran_ips,Vert_ips,Long_ips,MicL_psi\n';
      for (let i = 0; i < 1000; i++) yield `${i / 1024},0,0,0,0\n`;
      throw new Error('the link dropped');
    }
    const target = join(folder, 'w.csv');
    await expect(writeWhole(target, failing())).rejects.toThrow('the link dropped');
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(folder)).toEqual([]); // no temporary file left either
    writeFileSync(target, 'the previous download\n');
    await expect(writeWhole(target, failing())).rejects.toThrow('the link dropped');
    expect(readFileSync(target, 'utf8')).toBe('the previous download\n');
    expect(readdirSync(folder)).toEqual(['w.csv']);
  });
});

describe('(f) the store path', () => {
  it('a folder that cannot be created: a StoreError that names the path and says why; the CLI says "cache store"', async () => {
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, 'a file where a folder should be');
    const path = join(blocker, 'data', 'sfm.db');
    expect(() => new SqliteStore(path)).toThrow(StoreError);
    expect(() => new SqliteStore(path)).toThrow(`cannot create the folder ${join(blocker, 'data')} for the SQLite store at ${path}: a part of that path is a file, not a folder`);
    const o = { out: '', err: '', stderrIsTTY: false, stdout: (t: string) => void (o.out += t), stderr: (t: string) => void (o.err += t) };
    const code = await runCli(['info', '--host', '127.0.0.1', '--tcp-port', String(sim.address.port)], o, {
      services: async () => {
        const r = new RelayService(transports, new SqliteStore(path), { client: CLIENT });
        return { access: r, relay: r, close: () => r.store.close() };
      },
    });
    expect(code).toBe(1);
    expect(o.err).toBe(`sfm: cache store: cannot create the folder ${join(blocker, 'data')} for the SQLite store at ${path}: a part of that path is a file, not a folder\n`);
  });
});
