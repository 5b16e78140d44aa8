/**
 * The probes: /health (liveness), /ready (readiness: 503 while shutting down or with the store
 * down), /metrics (404 without a metrics plugin), and what every request reports to the metrics.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StoreUnavailable, type Store } from '@sfm/core/cache';
import { MemoryStore } from '@sfm/store-memory';
import { RecordingMetrics, call, startFixture, type Fixture } from '@sfm/test-support';
import { createApp } from './app.js';
import { defaultHttpSettings } from './settings.js';

let f: Fixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

/** A memory store whose reads fail as a store that is down does. */
function downStore(): Store {
  const store = new MemoryStore();
  return new Proxy(store, {
    get: (t, p, r) => (p === 'stats' ? () => Promise.reject(new StoreUnavailable('the database is down')) : Reflect.get(t, p, r)),
  });
}

describe('probes', () => {
  it('/health and /ready answer 200 and ignore parameters a monitor adds', async () => {
    f = await startFixture();
    expect((await f.call('/health?check=lb&x=1')).status).toBe(200);
    const ready = await f.call('/ready?probe=1');
    expect([ready.status, ready.json]).toEqual([200, { status: 'ready', store: 'memory' }]);
    // Other routes still refuse what they do not take.
    expect((await f.call('/device/info?device=demo&x=1')).status).toBe(400);
  });

  it('/ready is 503 STORE_UNAVAILABLE when the store cannot be read', async () => {
    f = await startFixture({ store: downStore() });
    const r = await f.call('/ready');
    expect([r.status, r.json.error.code]).toEqual([503, 'STORE_UNAVAILABLE']);
    expect(r.json.error.message).toMatch(/the database is down/);
    expect((await f.call('/health')).status).toBe(200); // liveness is not readiness
  });

  it('/ready is 503 SHUTTING_DOWN once the server drains', async () => {
    f = await startFixture();
    const { app, lifecycle } = createApp({ relay: f.relay, devices: f.devices, settings: defaultHttpSettings({ host: '127.0.0.1', port: 0, bodyLimitBytes: 1024 }), logger: f.logger, version: 'x' });
    const server = createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      expect((await call(base, '/ready')).status).toBe(200);
      lifecycle.closing = true;
      const r = await call(base, '/ready');
      expect([r.status, r.json.error.code]).toEqual([503, 'SHUTTING_DOWN']);
      expect(r.headers.get('connection')).toBe('close');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('/metrics is 404 without a metrics plugin, and the plugin\'s rendering with one', async () => {
    f = await startFixture();
    const none = await f.call('/metrics');
    expect([none.status, none.json.error.code]).toEqual([404, 'NOT_FOUND']);
    expect(none.json.error.message).toMatch(/metrics-prometheus/);
    await f.close();
    const metrics = Object.assign(new RecordingMetrics(), { render: async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: '# HELP x y\n# TYPE x counter\nx 1\n' }) });
    f = await startFixture({ metrics });
    const r = await f.call('/metrics');
    expect([r.status, r.headers.get('content-type'), r.text]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8', '# HELP x y\n# TYPE x counter\nx 1\n']);
  });
});

describe('every request is counted by its route template, on both paths', () => {
  it('a miss (express), a hit (fast path), an unknown path and a bad request', async () => {
    const metrics = new RecordingMetrics();
    f = await startFixture({ metrics });
    await f.call('/device/event/1?device=demo'); // miss: express
    await f.relay.idle();
    await f.call('/device/event/1?device=demo'); // hit: fast path
    await f.call('/api/sfm/device/event/2?device=demo');
    await f.call('/no/such/path');
    await f.call('/device/event/x?device=demo');
    const route = '/device/event/{idx}';
    expect(metrics.total('sfm_http_requests_total', { route, method: 'GET', status: '200' })).toBe(3);
    expect(metrics.total('sfm_http_requests_total', { route, status: '400' })).toBe(1);
    expect(metrics.total('sfm_http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);
    expect(metrics.matching('sfm_http_request_duration_seconds', { route })).toHaveLength(4);
    // no raw path ever becomes a label
    expect(metrics.reports.filter((r) => r.name === 'sfm_http_requests_total').map((r) => r.labels.route)).not.toContain('/device/event/1');
    expect(metrics.total('sfm_cache_requests_total', { kind: 'events', outcome: 'hit' })).toBe(1);
    expect(metrics.total('sfm_device_sessions_total', { result: 'ok' })).toBeGreaterThanOrEqual(1);
    await f.relay.idle(); // link use is reported when a session ends
    expect(metrics.total('sfm_device_round_trips_total')).toBe(f.sim.server.stats.roundTrips);
  });
});
