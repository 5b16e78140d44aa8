/**
 * The served OpenAPI document is the contract: every operation it lists answers as it declares
 * (status, media type, body, header values — Ajv over the document's own schemas), good requests
 * and bad ones alike, and the checker rejects what the document does not declare.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordingMetrics, startFixture, type CallOptions, type Fixture } from '@sfm/test-support';
import { checkResponses, Contract, type Exchange } from './contract.test-helpers.js';
import { buildOpenApi } from './openapi.js';

const q = '?device=demo';
const T = 'contract-token-0123456789';
/** Stands for a query value of 20 000 characters (request line and headers over 16 KiB). */
const BIG_QUERY = '<20000 characters>';

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('the contract checker rejects what the document does not declare', () => {
  const c = new Contract(buildOpenApi('1.0.0'));
  const json = new Headers({ 'content-type': 'application/json; charset=utf-8' });
  const health = { status: 'ok', version: '1.0.0', uptime_s: 3, store: 'memory' };
  const callHome = {
    enabled: false, dial_string: 'ATDT1', after_event_recorded: false, at_specified_times: false, time1: { enabled: false, hour: 1, minute: 2 },
    time2: { enabled: false, hour: 3, minute: 4 }, num_retries: 1, retry_interval_s: 2, wait_for_connection_s: 3, warm_up_time_s: 4,
  };
  const x = (method: string, path: string, status: number, body: unknown, headers: Headers = json): Exchange => ({
    method, path, status, headers, text: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const error = (code: string) => ({ error: { code, message: 'why' } });

  it('accepts what it declares: a body, an error, an alias, the /api/sfm prefix, a 304', () => {
    expect(c.problems(x('GET', '/health', 200, health))).toEqual([]);
    expect(c.problems(x('GET', `/device/info${q}`, 404, error('NOT_FOUND')))).toEqual([]);
    expect(c.problems(x('GET', `/device/call_home${q}`, 200, callHome))).toEqual([]);
    expect(c.problems(x('POST', `/api/sfm/device/call_home${q}`, 401, error('UNAUTHORIZED')))).toEqual([]);
    expect(c.problems(x('GET', `/device/event/0/waveform${q}`, 304, '', new Headers()))).toEqual([]);
    expect(c.problems(x('DELETE', '/health', 404, error('NOT_FOUND')))).toEqual([]);
  });

  it('a body of another shape: a field too many, too few, of the wrong type', () => {
    expect(c.problems(x('GET', '/health', 200, { ...health, extra: 1 })).join()).toMatch(/must NOT have additional properties/);
    expect(c.problems(x('GET', '/health', 200, { status: 'ok' })).join()).toMatch(/must have required property/);
    expect(c.problems(x('GET', '/health', 200, { ...health, uptime_s: 'three' })).join()).toMatch(/uptime_s must be integer/);
    expect(c.problems(x('GET', '/health', 200, 'not json')).join()).toMatch(/not JSON/);
  });

  it('a status the operation does not declare, or an error code of another status', () => {
    expect(c.problems(x('GET', '/health', 404, error('NOT_FOUND'))).join()).toMatch(/status 404 is not declared/);
    expect(c.problems(x('GET', `/device/info${q}`, 401, error('UNAUTHORIZED'))).join()).toMatch(/status 401 is not declared/);
    expect(c.problems(x('GET', `/device/info${q}`, 404, error('INTERNAL'))).join()).toMatch(/code must be equal to one of the allowed values/);
    expect(c.problems(x('GET', '/nothing', 200, health)).join()).toMatch(/must be answered 404/);
  });

  it('a media type, a body or a header value it does not declare', () => {
    expect(c.problems(x('GET', '/health', 200, 'ok', new Headers({ 'content-type': 'text/plain' }))).join()).toMatch(/media type "text\/plain" is not declared/);
    expect(c.problems(x('GET', `/device/event/0/waveform${q}`, 304, 'body', new Headers())).join()).toMatch(/declares no body/);
    const info = new Headers({ 'content-type': 'application/json', 'x-cache': 'warm', age: '-1' });
    const problems = c.problems(x('GET', `/device/call-home${q}`, 200, callHome, info)).join('\n');
    expect(problems).toBe(''); // not a cached route: its 200 declares no X-Cache
    const cached = c.problems(x('GET', `/device/monitor/status${q}`, 200, { is_monitoring: false, battery_v: 6, memory_total: 1, memory_free: 1, clock: null }, info)).join('\n');
    expect(cached).toMatch(/header X-Cache: "warm": value must be equal to one of the allowed values/);
    expect(cached).toMatch(/header Age: "-1": value must be integer/);
  });

  it('the debug form of an event: raw as hex, never beside a plain event', () => {
    const event = {
      index: 0, key: '0111245A', timestamp: null, end_timestamp: null, trigger_level_ips: null, record_type: 'waveform', sample_rate: null, record_time_s: null, total_samples: null, pretrigger_samples: null,
      peaks: { tran_ips: null, vert_ips: null, long_ips: null, mic_psi: null, pvs_ips: null },
      project: { project: null, client: null, operator: null, sensor_location: null, notes: null }, project_pending: false,
    };
    expect(c.problems(x('GET', `/device/event/0${q}`, 200, event))).toEqual([]);
    expect(c.problems(x('GET', `/device/event/0${q}&debug=true`, 200, { ...event, raw: { waveform_record_hex: null, header_hex: '0a2c' } }))).toEqual([]);
    expect(c.problems(x('GET', `/device/event/0${q}&debug=true`, 200, { ...event, raw: { waveform_record_hex: null, header_hex: '0A2C' } }))).not.toEqual([]);
    expect(c.problems(x('GET', `/device/event/0${q}&debug=true`, 200, { ...event, raw: { header_hex: '0a' } }))).not.toEqual([]);
  });
});

describe('every operation of the served document, through HTTP', () => {
  let f: Fixture;
  let contract: Contract;
  beforeAll(async () => {
    // A metrics keeper that renders, so /metrics answers 200 as with the metrics plugin loaded.
    const metrics = Object.assign(new RecordingMetrics(), { render: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: '# TYPE up gauge\nup 1\n' }) });
    f = await startFixture({ token: T, bodyLimitBytes: 2048, metrics });
    contract = await checkResponses(f);
    f.sim.unit.recordMonitorLog();
  });
  afterAll(async () => {
    await f.close();
  });

  it('answers each one as the document declares, and none is left out', async () => {
    const events = await f.call(`/device/events${q}`);
    expect(events.status).toBe(200);
    const log = events.json.events.findIndex((e: { record_type: string }) => e.record_type === 'monitor_log');
    expect(log).toBeGreaterThan(0);
    const waveform = await f.call(`/device/event/0/waveform${q}`);
    const analysis = await f.call(`/device/event/0/analysis${q}&standard=usbm-ri8507-drywall,osmre-distance&distance_ft=400`);
    await f.relay.idle();
    const archivedEvents = (await f.call('/db/events?limit=100')).json.events as { id: number; has_waveform: boolean }[];
    const archivedId = archivedEvents[0]!.id;
    const withWaveform = archivedEvents.find((e) => e.has_waveform)!.id;
    const ok: [string, CallOptions?, number?][] = [
      ['/health'],
      ['/health?probe=lb'],
      ['/ready'],
      ['/metrics'],
      ['/openapi.json'],
      [`/device/info${q}`],
      [`/device/info${q}`, { method: 'HEAD' }],
      [`/device/event/0${q}`],
      [`/device/event/0${q}&debug=true`],
      [`/device/event/${log}${q}&debug=true`],
      [`/device/event/0/waveform${q}&format=csv`],
      [`/device/event/0/waveform${q}`, { headers: { 'if-none-match': waveform.headers.get('etag')! } }, 304],
      [`/device/event/0/analysis${q}`],
      [`/device/event/0/analysis${q}&standard=usbm-ri8507-drywall,osmre-distance&distance_ft=400`, { headers: { 'if-none-match': analysis.headers.get('etag')! } }, 304],
      [`/device/event/0/report.pdf${q}&standard=osmre-chart`],
      [`/device/monitor/status${q}`],
      [`/device/call-home${q}`],
      [`/device/call_home${q}`],
      [`/api/sfm/device/call_home${q}`],
      [`/device/events/storage-range${q}`],
      [`/device/events/storage_range${q}`],
      [`/device/events/index${q}`],
      ['/cache/stats'],
      ['/devices'],
      ['/analysis/curves'],
      ['/analysis/curves?standard=usbm-ri8507-plaster,osmre-distance&distance_ft=250'],
      [`/device/progress${q}`],
      [`/device/connect${q}`, { method: 'POST' }],
      [`/device/monitor/start${q}`, { method: 'POST', token: T }],
      [`/device/monitor/stop${q}`, { method: 'POST', token: T, body: {} }],
      [`/device/config${q}`, { method: 'POST', token: T, body: { project: 'Contract' } }],
      [`/device/call-home${q}`, { method: 'POST', token: T, body: { enabled: true } }],
      [`/device/call_home${q}`, { method: 'POST', token: T, body: { dial_string: 'ATDT5550100' } }],
      [`/device/events/erase${q}&confirm=true`, { method: 'POST', token: T }],
      [`/cache/device${q}`, { method: 'DELETE', token: T }],
      ['/db/units'],
      [`/db/units/${f.sim.unit.serial}`],
      ['/db/events?limit=2'],
      [`/db/events?serial=${f.sim.unit.serial}&from=2020-01-01&to=2099-12-31T23:59&min_pvs_ips=0&record_type=waveform&false_trigger=false&project=a`],
      [`/db/events/${archivedId}`],
      [`/db/events/${archivedId}`, { method: 'PATCH', token: T, body: { false_trigger: true, notes: 'contract' } }],
      [`/db/events/${withWaveform}/waveform`],
      [`/db/events/${withWaveform}/waveform?format=csv`],
      [`/db/events/${withWaveform}/analysis?standard=osmre-chart`],
      [`/db/events/${withWaveform}/report.pdf`],
      ['/db/sessions?limit=1'],
      ['/db/export.csv?record_type=waveform'],
    ];
    for (const [path, opts, status] of ok) {
      const r = await f.call(path, opts);
      expect(r.status, `${opts?.method ?? 'GET'} ${path}: ${r.text.slice(0, 200)}`).toBe(status ?? 200);
    }
    expect([...contract.answered].sort()).toEqual([...contract.operationNames].sort());
  });

  describe('bad requests: each status and body declared for its operation', () => {
    const big = { notes: 'n'.repeat(3000) };
    const cases: [string, string, CallOptions, number][] = [
      // parameters
      ['GET', `/device/info${q}&x=1`, {}, 400],
      ['GET', `/device/info${q}&force=yes`, {}, 400],
      ['GET', `/device/info${q}&force=true&force=false`, {}, 400],
      ['GET', '/db/events?cursor=not-a-cursor', {}, 400],
      ['GET', '/db/events?limit=0', {}, 400],
      ['GET', '/db/events?from=2026-02-30T25:00', {}, 400],
      ['GET', '/db/events?record_type=blast', {}, 400],
      ['GET', '/db/events/0', {}, 400],
      ['GET', '/db/events/999999', {}, 404],
      ['GET', '/db/events/999999/waveform', {}, 404],
      ['GET', '/db/events/999999/analysis', {}, 404],
      ['GET', '/db/events/999999/report.pdf', {}, 404],
      ['GET', '/db/events/1/analysis?distance_ft=-5', {}, 400],
      ['GET', '/db/units/NOT-SEEN', {}, 404],
      ['GET', '/db/units/bad%20serial', {}, 400],
      ['PATCH', '/db/events/1', { body: { false_trigger: true } }, 401],
      ['PATCH', '/db/events/1', { token: T, body: { false_trigger: 'yes' } }, 400],
      ['PATCH', '/db/events/999999', { token: T, body: { notes: 'x' } }, 404],
      ['GET', '/device/info', {}, 400],
      ['GET', '/device/info?device=demo&host=127.0.0.1', {}, 400],
      ['GET', '/device/info?device=demo&tcp_port=1', {}, 400],
      ['GET', '/device/info?host=127.0.0.1&tcp_port=0', {}, 400],
      ['GET', `/device/event/abc${q}`, {}, 400],
      ['GET', `/device/event/-1${q}`, {}, 400],
      ['GET', `/device/event/0${q}&debug=yes`, {}, 400],
      ['GET', `/device/event/0${q}&debug=true&max_age=60`, {}, 400],
      ['GET', `/device/event/0${q}&debug=true&stale=false`, {}, 400],
      ['GET', `/device/event/0/waveform${q}&format=xml`, {}, 400],
      ['GET', `/device/event/0/analysis${q}&standard=usbm`, {}, 400],
      ['GET', `/device/event/0/analysis${q}&standard=osmre-chart,,usbm-ri8507-drywall`, {}, 400],
      ['GET', `/device/event/0/analysis${q}&distance_ft=-5`, {}, 400],
      ['GET', `/device/event/0/report.pdf${q}&standard=osmre-chart,osmre-chart`, {}, 400],
      ['GET', '/analysis/curves?standard=nope', {}, 400],
      ['GET', '/device/progress', {}, 400],
      ['GET', '/device/progress?device=nowhere', {}, 404],
      ['GET', `/device/events${q}&max_age=-1`, {}, 400],
      ['GET', `/device/events/index${q}&force=true`, {}, 400],
      ['GET', `/device/call_home${q}&force=true`, {}, 400],
      ['GET', `/api/sfm/device/events/storage_range${q}&x=1`, {}, 400],
      ['GET', '/openapi.json?v=2', {}, 400],
      ['GET', `/cache/stats${q}`, {}, 400],
      ['GET', `/device/info${q}&x=${BIG_QUERY}`, {}, 431],
      // unknown device, index, record; targets not allowed
      ['GET', '/device/info?device=nowhere', {}, 404],
      ['GET', '/device/events/storage_range?device=nowhere', {}, 404],
      ['GET', `/device/event/999${q}`, {}, 404],
      ['GET', `/device/event/999${q}&debug=true`, {}, 404],
      ['GET', `/device/event/999/analysis${q}`, {}, 404],
      ['GET', `/device/event/999/report.pdf${q}`, {}, 404],
      ['GET', '/device/info?host=10.1.2.3', {}, 403],
      ['GET', '/device/call_home?port=/dev/ttyS0', {}, 403],
      ['DELETE', '/cache/device?host=192.0.2.1', { token: T }, 403],
      // the token
      ['POST', `/device/monitor/start${q}`, {}, 401],
      ['POST', `/device/monitor/stop${q}`, { headers: { authorization: `Bearer ${T}-not` } }, 401],
      ['POST', `/device/call_home${q}`, { body: { enabled: true } }, 401],
      ['POST', `/device/config${q}`, { headers: { authorization: 'Basic dXNlcjpwYXNz' }, body: { project: 'x' } }, 401],
      ['DELETE', `/cache/device${q}`, {}, 401],
      // bodies
      ['POST', `/device/config${q}`, { token: T }, 400],
      ['POST', `/device/config${q}`, { token: T, body: {} }, 400],
      ['POST', `/device/config${q}`, { token: T, body: { colour: 'red' } }, 400],
      ['POST', `/device/config${q}`, { token: T, body: [] }, 400],
      ['POST', `/device/config${q}`, { token: T, body: '{"project": ' }, 400],
      ['POST', `/device/call-home${q}`, { token: T, body: { time1: { hour: 24 } } }, 400],
      ['POST', `/device/call_home${q}`, { token: T, body: { dial_string: 5 } }, 400],
      ['POST', `/device/connect${q}`, { body: { force: true } }, 400],
      ['POST', `/device/events/erase${q}&confirm=yes`, { token: T }, 400],
      ['POST', `/device/events/erase${q}`, { token: T }, 409],
      ['POST', `/device/config${q}`, { token: T, body: big }, 413],
      ['POST', `/device/call_home${q}`, { token: T, body: big }, 413],
      ['POST', `/device/config${q}`, { token: T, body: 'project=x', headers: { 'content-type': 'text/plain' } }, 415],
      ['POST', `/device/call_home${q}`, { token: T, body: 'enabled=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415],
      ['DELETE', `/cache/device${q}`, { token: T, body: '{}', headers: { 'content-type': 'application/xml' } }, 415],
      // routes and methods no operation takes
      ['GET', '/nothing/here', {}, 404],
      ['GET', '/device/event/', {}, 404],
      ['DELETE', `/device/info${q}`, {}, 404],
      ['PUT', '/device/call_home', {}, 404],
      ['POST', '/health', {}, 404],
      ['GET', `/device/monitor/start${q}`, {}, 404],
    ];
    it.each(cases)('%s %s', async (method, path, opts, status) => {
      const r = await f.call(path.replace(BIG_QUERY, 'a'.repeat(20_000)), { ...opts, method });
      expect(r.status, r.text.slice(0, 200)).toBe(status);
    });

    it('GET a waveform of a monitor-log record: 404', async () => {
      f.sim.unit.recordEvent();
      f.sim.unit.recordMonitorLog();
      const list = (await f.call(`/device/events${q}`)).json;
      const log = list.events.findIndex((e: { record_type: string }) => e.record_type === 'monitor_log');
      expect((await f.call(`/device/event/${log}/waveform${q}`)).status).toBe(404);
      expect((await f.call(`/device/event/${log}/analysis${q}`)).status).toBe(404);
      expect((await f.call(`/device/event/${log}/report.pdf${q}`)).status).toBe(404);
    });

    it('a unit that cannot be reached: 502, on a route and its alias', async () => {
      const port = await closedPort();
      for (const path of ['/device/events/storage-range', '/device/events/storage_range', '/device/event/0', '/device/event/0/analysis', '/device/event/0/report.pdf']) {
        expect((await f.call(`${path}?host=127.0.0.1&tcp_port=${port}`)).status).toBe(502);
      }
      expect((await f.call(`/device/event/0?host=127.0.0.1&tcp_port=${port}&debug=true`)).status).toBe(502);
    });
  });
});
