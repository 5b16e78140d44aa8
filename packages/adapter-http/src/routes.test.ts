/**
 * Every route of the contract through real HTTP against the emulated unit, with its JSON shape (and
 * every response checked against the served OpenAPI document); the paths of the service sfm
 * replaces, and an event's raw blocks (debug=true).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPONENTS, checkValue } from '@sfm/core/schema';
import { HEADER_LENGTH_FULL, HEADER_LENGTH_PARTIAL, WAVEFORM_RECORD_LENGTH, decodeWaveformHeader, decodeWaveformRecord } from '@sfm/core/protocol';
import { ROUTES } from './routes.js';
import { startFixture, type Fixture } from '@sfm/test-support';
import { checkResponses } from './contract.test-helpers.js';

/** The body has exactly the component's fields, with their types (the schema rejects unknown fields). */
function expectShape(value: unknown, component: string): void {
  const shape = COMPONENTS.find((c) => c.$id === component);
  expect(shape, component).toBeDefined();
  expect(() => checkValue('response', shape!, value)).not.toThrow();
}

const keys = (o: object) => Object.keys(o).sort();

// The contract's field names (shared spec http-api.md), independent of this package's schemas.
const CONTRACT = {
  DeviceInfo: ['serial', 'firmware', 'firmware_minor', 'dsp_version', 'calibration_date', 'event_count', 'compliance'],
  ComplianceConfig: [
    'recording_mode', 'sample_rate', 'record_time_s', 'histogram_interval_s', 'geo_range', 'geo_full_scale_ips', 'trigger_level_ips',
    'alarm_level_ips', 'mic_trigger_psi', 'mic_alarm_psi', 'project', 'client', 'operator', 'sensor_location', 'notes',
  ],
  // end_timestamp and trigger_level_ips: sfm's additions (a monitor-log record's end and level), in the OpenAPI document.
  Event: [
    'index', 'key', 'timestamp', 'end_timestamp', 'record_type', 'sample_rate', 'record_time_s', 'total_samples', 'pretrigger_samples', 'trigger_level_ips',
    'peaks', 'project', 'project_pending',
  ],
  Peaks: ['tran_ips', 'vert_ips', 'long_ips', 'mic_psi', 'pvs_ips'],
  ProjectText: ['project', 'client', 'operator', 'sensor_location', 'notes'],
  EventList: ['serial', 'count', 'events'],
  Waveform: ['schema', 'serial', 'index', 'key', 'timestamp', 'sample_rate', 'pretrigger_samples', 't0_s', 'channels'],
  MonitorStatus: ['is_monitoring', 'battery_v', 'memory_total', 'memory_free', 'clock'],
  StorageRange: ['first_key', 'last_key', 'next_key', 'is_empty'],
  Health: ['status', 'version', 'uptime_s', 'store'],
};

describe('every route, through HTTP', () => {
  let f: Fixture;
  const T = 'test-token-0123456789';
  const q = '?device=demo';
  beforeAll(async () => {
    f = await startFixture({ token: T });
    await checkResponses(f);
  });
  afterAll(async () => {
    await f.close();
  });

  it('GET /health: status, version, uptime, store; no device I/O', async () => {
    const before = f.sim.server.stats.connectionsTotal;
    const r = await f.call('/health');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(keys(r.json)).toEqual([...CONTRACT.Health].sort());
    expect(r.json).toMatchObject({ status: 'ok', version: '9.8.7-test', store: 'memory' });
    expect(Number.isInteger(r.json.uptime_s)).toBe(true);
    expectShape(r.json, 'Health');
    expect(f.sim.server.stats.connectionsTotal).toBe(before);
  });

  it('GET /openapi.json: the document, with every route', async () => {
    const r = await f.call('/openapi.json');
    expect(r.status).toBe(200);
    expect(r.json.openapi).toMatch(/^3\.1\./);
    for (const route of ROUTES) expect(r.json.paths[route.path]?.[route.method], `${route.method} ${route.path}`).toBeDefined();
  });

  it('GET /device/info: DeviceInfo with compliance', async () => {
    const r = await f.call(`/device/info${q}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(keys(r.json)).toEqual([...CONTRACT.DeviceInfo].sort());
    expect(keys(r.json.compliance)).toEqual([...CONTRACT.ComplianceConfig].sort());
    expect(r.json.serial).toBe(f.sim.unit.serial);
    expect(r.json.event_count).toBe(3);
    expectShape(r.json, 'DeviceInfo');
  });

  it('POST /device/connect: the info, refreshed', async () => {
    const r = await f.call(`/device/connect${q}`, { method: 'POST' });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-cache')).toBe('refresh');
    expect(r.headers.get('age')).toBe('0');
    expectShape(r.json, 'DeviceInfo');
    // an empty JSON object as body is accepted too
    expect((await f.call(`/device/connect${q}`, { method: 'POST', body: {} })).status).toBe(200);
  });

  it('GET /device/events: EventList of Events', async () => {
    const r = await f.call(`/device/events${q}`);
    expect(r.status).toBe(200);
    expect(keys(r.json)).toEqual([...CONTRACT.EventList].sort());
    expect(r.json.count).toBe(3);
    expect(r.json.events).toHaveLength(3);
    const e = r.json.events[0];
    expect(keys(e)).toEqual([...CONTRACT.Event].sort());
    expect(keys(e.peaks)).toEqual([...CONTRACT.Peaks].sort());
    expect(keys(e.project)).toEqual([...CONTRACT.ProjectText].sort());
    expect(e.key).toMatch(/^[0-9A-F]{8}$/);
    expect(e.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
    expectShape(r.json, 'EventList');
  });

  it('GET /device/event/:idx: one Event', async () => {
    const r = await f.call(`/device/event/2${q}`);
    expect(r.status).toBe(200);
    expect(r.json.index).toBe(2);
    expectShape(r.json, 'Event');
  });

  it('GET /device/event/:idx/waveform: the Waveform (json by default)', async () => {
    const r = await f.call(`/device/event/0/waveform${q}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(keys(r.json)).toEqual([...CONTRACT.Waveform].sort());
    expect(r.json.schema).toBe('sfm.waveform.v1');
    expect(r.json.channels.map((c: { name: string }) => c.name)).toEqual(['Tran', 'Vert', 'Long', 'MicL']);
    expect(r.json.channels[0].samples).toHaveLength(1024);
    expect(r.headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expectShape(r.json, 'Waveform');
    const explicit = await f.call(`/device/event/0/waveform${q}&format=json`);
    expect(explicit.text).toBe(r.text);
  });

  it('GET /device/event/:idx/waveform?format=csv: text/csv, header and one line per sample', async () => {
    const r = await f.call(`/device/event/0/waveform${q}&format=csv`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = r.text.trimEnd().split('\n');
    expect(lines[0]).toBe('t_s,Tran_ips,Vert_ips,Long_ips,MicL_psi');
    expect(lines).toHaveLength(1 + 1024);
    expect(lines[1]!.split(',')).toHaveLength(5);
    expect(Number(lines[1]!.split(',')[0])).toBeCloseTo(-0.25, 6);
  });

  it('GET /device/monitor/status: MonitorStatus', async () => {
    const r = await f.call(`/device/monitor/status${q}`);
    expect(r.status).toBe(200);
    expect(keys(r.json)).toEqual([...CONTRACT.MonitorStatus].sort());
    expectShape(r.json, 'MonitorStatus');
  });

  it('POST /device/monitor/start and /stop: the status the unit reports', async () => {
    const start = await f.call(`/device/monitor/start${q}`, { method: 'POST', token: T });
    expect(start.status).toBe(200);
    expect(start.json.is_monitoring).toBe(true);
    expectShape(start.json, 'MonitorStatus');
    const stop = await f.call(`/device/monitor/stop${q}`, { method: 'POST', token: T });
    expect(stop.status).toBe(200);
    expect(stop.json.is_monitoring).toBe(false);
    expectShape(stop.json, 'MonitorStatus');
  });

  it('POST /device/config: the compliance config as written', async () => {
    const r = await f.call(`/device/config${q}`, { method: 'POST', token: T, body: { project: 'Quarry 7', trigger_level_ips: 0.25, sample_rate: 2048 } });
    expect(r.status).toBe(200);
    expect(keys(r.json)).toEqual([...CONTRACT.ComplianceConfig].sort());
    expect(r.json).toMatchObject({ project: 'Quarry 7', trigger_level_ips: 0.25, sample_rate: 2048 });
    expectShape(r.json, 'ComplianceConfig');
    expect(f.sim.unit.compliance.project).toBe('Quarry 7');
  });

  it('GET and POST /device/call-home', async () => {
    const get = await f.call(`/device/call-home${q}`);
    expect(get.status).toBe(200);
    expectShape(get.json, 'CallHomeConfig');
    const set = await f.call(`/device/call-home${q}`, { method: 'POST', token: T, body: { enabled: true, dial_string: 'ATDT5551234', time1: { hour: 7 } } });
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ enabled: true, dial_string: 'ATDT5551234', time1: { hour: 7, minute: get.json.time1.minute } });
    expectShape(set.json, 'CallHomeConfig');
    expect((await f.call(`/device/call-home${q}`)).json).toEqual(set.json);
  });

  it('GET /device/events/storage-range: first, last and next key, is_empty', async () => {
    const r = await f.call(`/device/events/storage-range${q}`);
    expect(r.status).toBe(200);
    expect(keys(r.json)).toEqual([...CONTRACT.StorageRange].sort());
    expect(r.json).toMatchObject({ is_empty: false, first_key: f.sim.unit.events[0]!.key, last_key: f.sim.unit.events.at(-1)!.key });
    expect(r.json.next_key).toMatch(/^[0-9A-F]{8}$/);
    expectShape(r.json, 'StorageRange');
  });

  it('GET /cache/stats: kinds with entries, bytes, hits, misses, refreshes; the store', async () => {
    const r = await f.call('/cache/stats');
    expect(r.status).toBe(200);
    expect(r.json.store).toBe('memory');
    expect(keys(r.json.kinds)).toEqual(['device_info', 'events', 'monitor_status', 'waveform']);
    expect(keys(r.json.kinds.events)).toEqual(['bytes', 'entries', 'hits', 'misses', 'refreshes', 'stale', 'uncached']);
    expect(r.json.kinds.events.entries).toBe(3);
    expectShape(r.json, 'CacheStats');
  });

  it('GET /device/events/index: the lifetime counter, which an erase does not lower', async () => {
    const before = f.sim.unit.lifetimeRecords;
    const r = await f.call(`/device/events/index${q}`);
    expect([r.status, r.json]).toEqual([200, { lifetime_event_count: before }]);
    expectShape(r.json, 'EventIndex');
  });

  it('POST /device/events/erase with confirm: the empty range', async () => {
    const r = await f.call(`/device/events/erase${q}&confirm=true`, { method: 'POST', token: T });
    expect(r.status).toBe(200);
    expect(r.json.is_empty).toBe(true);
    expectShape(r.json, 'StorageRange');
    expect(f.sim.unit.events).toHaveLength(0);
    f.sim.unit.recordEvent();
    // the confirmation in the body does the same
    const body = await f.call(`/device/events/erase${q}`, { method: 'POST', token: T, body: { confirm: true } });
    expect(body.status).toBe(200);
    expect(f.sim.unit.events).toHaveLength(0);
  });

  it('DELETE /cache/device: counts per kind', async () => {
    await f.call(`/device/info${q}`);
    const r = await f.call(`/cache/device${q}`, { method: 'DELETE', token: T });
    expect(r.status).toBe(200);
    expect(r.json.connection_key).toBe(`tcp:127.0.0.1:${f.sim.address.port}`);
    expect(keys(r.json.cleared)).toEqual(['device_info', 'events', 'monitor_status', 'waveform']);
    expect(r.json.cleared.device_info).toBe(1);
    expectShape(r.json, 'CacheCleared');
    expect((await f.call(`/device/info${q}`)).headers.get('x-cache')).toBe('miss');
  });

  it('host=… [tcp_port] selects an ad-hoc unit (loopback is allowed by default)', async () => {
    const r = await f.call(`/device/info?host=127.0.0.1&tcp_port=${f.sim.address.port}`);
    expect(r.status).toBe(200);
    expect(r.json.serial).toBe(f.sim.unit.serial);
    // the same unit by name and by address share the connection key, so the cache
    expect(r.headers.get('x-cache')).toBe('hit');
    const v6 = await f.call(`/device/info?host=%5B127.0.0.1%5D&tcp_port=${f.sim.address.port}`);
    expect(v6.status).toBe(400); // brackets are for IPv6 addresses only
  });

  it('every route is served under /api/sfm too', async () => {
    const health = await f.call('/api/sfm/health');
    expect(health.status).toBe(200);
    expect(health.json.status).toBe('ok');
    const info = await f.call(`/api/sfm/device/info${q}`);
    expect(info.status).toBe(200);
    expect(info.headers.get('x-cache')).toBe('hit');
    expect((await f.call(`/api/sfm/device/event/0/waveform${q}`)).status).toBe(404); // erased above
    expect((await f.call('/api/sfm/openapi.json')).json.openapi).toBe('3.1.0');
    expect((await f.call(`/api/sfm/device/monitor/start${q}`, { method: 'POST' })).status).toBe(401);
    expect((await f.call('/api/sfm/nothing')).json.error.code).toBe('NOT_FOUND');
    expect((await f.call('/api/sfmx/health')).status).toBe(404);
  });

  it('HEAD on a GET route: headers without a body', async () => {
    const r = await fetch(`${f.url}/device/info${q}`, { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-cache')).toBe('hit');
    expect(await r.text()).toBe('');
  });
});

describe('the paths of the service sfm replaces: aliases of the same routes', () => {
  let f: Fixture;
  const T = 'alias-token-0123456789';
  const q = '?device=demo';
  beforeAll(async () => {
    f = await startFixture({ token: T });
    await checkResponses(f);
  });
  afterAll(async () => {
    await f.close();
  });

  it('GET /device/call_home and /device/events/storage_range answer as their routes do (under /api/sfm too)', async () => {
    const callHome = await f.call(`/device/call-home${q}`);
    for (const path of ['/device/call_home', '/api/sfm/device/call_home']) expect((await f.call(`${path}${q}`)).json, path).toEqual(callHome.json);
    const range = await f.call(`/device/events/storage-range${q}`);
    for (const path of ['/device/events/storage_range', '/api/sfm/device/events/storage_range']) expect((await f.call(`${path}${q}`)).json, path).toEqual(range.json);
  });

  it('POST /device/call_home writes through the same gate: the token, then the body checks', async () => {
    const before = f.sim.server.stats.connectionsTotal;
    const refused = await f.call(`/device/call_home${q}`, { method: 'POST', body: { dial_string: 'ATDT5550199' } });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const bad = await f.call(`/device/call_home${q}`, { method: 'POST', token: T, body: { time1: { hour: 24 } } });
    expect(bad.json.error.message).toBe((await f.call(`/device/call-home${q}`, { method: 'POST', token: T, body: { time1: { hour: 24 } } })).json.error.message);
    expect(f.sim.server.stats.connectionsTotal).toBe(before);
    const set = await f.call(`/api/sfm/device/call_home${q}`, { method: 'POST', token: T, body: { dial_string: 'ATDT5550199' } });
    expect(set.status).toBe(200);
    expect(set.json.dial_string).toBe('ATDT5550199');
    expect((await f.call(`/device/call-home${q}`)).json).toEqual(set.json);
  });

  it('the same parameter checks, and a wrong method names the methods the alias takes', async () => {
    const canonical = await f.call(`/device/events/storage-range${q}&force=true`);
    const alias = await f.call(`/device/events/storage_range${q}&force=true`);
    expect([alias.status, alias.json]).toEqual([400, canonical.json]);
    expect(alias.json.error.message).toMatch(/^force: unknown query parameter/);
    const wrong = await f.call(`/device/call_home${q}`, { method: 'PUT' });
    expect(wrong.json.error.message).toBe('PUT /device/call_home: no such route (this path takes GET, POST)');
    expect(wrong.headers.get('allow')).toBe('GET, HEAD, POST');
  });
});

describe('GET /device/event/:idx?debug=true: the event with its blocks, read from the unit', () => {
  let f: Fixture;
  const q = '?device=demo';
  let log: number;
  const frames = (sub: string): number => f.sim.server.stats.framesBySub[sub] ?? 0;
  const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
  beforeAll(async () => {
    f = await startFixture();
    await checkResponses(f);
    f.sim.unit.recordMonitorLog();
    const list = (await f.call(`/device/events${q}`)).json;
    log = list.events.findIndex((e: { record_type: string }) => e.record_type === 'monitor_log');
    // The events' project text is read after the list is answered: done before frames are counted.
    await f.relay.idle();
  });
  afterAll(async () => {
    await f.close();
  });

  it('raw holds the 0C record and the 0A header of that event, as the unit sends them', async () => {
    const plain = await f.call(`/device/event/1${q}`);
    const r = await f.call(`/device/event/1${q}&debug=true`);
    expect(r.status).toBe(200);
    const { raw, ...event } = r.json;
    expect(event).toEqual(plain.json);
    expect(Object.keys(raw).sort()).toEqual(['header_hex', 'waveform_record_hex']);
    const record = bytes(raw.waveform_record_hex);
    expect(record).toHaveLength(WAVEFORM_RECORD_LENGTH);
    expect(decodeWaveformRecord(record)).toMatchObject({ timestamp: event.timestamp, peaks: event.peaks });
    const header = bytes(raw.header_hex);
    expect(header).toHaveLength(HEADER_LENGTH_FULL);
    expect(decodeWaveformHeader(header, header.length)).toMatchObject({ kind: 'full', timestamp: event.timestamp, serial: f.sim.unit.serial, sample_rate: event.sample_rate });
  });

  it('is never a cache hit, and leaves the cached event as it was', async () => {
    const before = await f.call(`/device/event/0${q}`);
    expect(before.headers.get('x-cache')).toBe('hit');
    for (let n = 1; n <= 2; n++) {
      const [a, c] = [frames('0A'), frames('0C')];
      const r = await f.call(`/device/event/0${q}&debug=true`);
      expect(r.status).toBe(200);
      await f.relay.idle();
      // the 0A probe and read, one 0C read: every time (the list's probe found nothing new)
      expect([frames('0A') - a, frames('0C') - c], `debug request ${n}`).toEqual([2, 1]);
      expect(r.headers.get('age')).toBe('0');
    }
    const after = await f.call(`/device/event/0${q}`);
    expect(after.headers.get('x-cache')).toBe('hit');
    expect(after.json).toEqual(before.json);
    expect(after.json.raw).toBeUndefined();
  });

  it('a monitor-log record: its 0A header, no 0C record (null)', async () => {
    const c = frames('0C');
    const r = await f.call(`/api/sfm/device/event/${log}${q}&debug=true`);
    expect(r.status).toBe(200);
    await f.relay.idle();
    expect(r.json.record_type).toBe('monitor_log');
    expect(r.json.raw.waveform_record_hex).toBeNull();
    const header = bytes(r.json.raw.header_hex);
    expect(header).toHaveLength(HEADER_LENGTH_PARTIAL);
    expect(decodeWaveformHeader(header, header.length)).toMatchObject({ kind: 'monitor_log', serial: f.sim.unit.serial });
    expect(frames('0C')).toBe(c);
  });

  it('the options that serve from the cache do not go with it; an index beyond the events is 404', async () => {
    for (const [option, value] of [['max_age', '60'], ['stale', 'true'], ['stale', 'false']] as const) {
      const r = await f.call(`/device/event/0${q}&debug=true&${option}=${value}`);
      expect([r.status, r.json.error.message]).toEqual([400, `${option}: does not go with debug=true (debug reads the unit)`]);
    }
    expect((await f.call(`/device/event/0${q}&debug=false&max_age=60`)).status).toBe(200);
    const missing = await f.call(`/device/event/${log + 1}${q}&debug=true`);
    expect([missing.status, missing.json.error.code]).toEqual([404, 'NOT_FOUND']);
  });
});
