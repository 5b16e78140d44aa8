/** The cache-hit fast path answers exactly as the express pipeline does for the same hit. */
import { defaultHttpSettings } from './settings.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.js';
import { call, startFixture, type Fixture } from '@sfm/test-support';

let f: Fixture;
let express: Server;
let expressUrl: string;

beforeAll(async () => {
  f = await startFixture();
  // The same deps behind express alone (no fast path).
  const { app } = createApp({ relay: f.relay, devices: f.devices, settings: defaultHttpSettings({ host: '127.0.0.1', port: 0, bodyLimitBytes: 65536 }), logger: f.logger, version: '9.8.7-test' }); // the fixture's version (ETags name it)
  express = createServer(app);
  await new Promise<void>((r) => express.listen(0, '127.0.0.1', () => r()));
  expressUrl = `http://127.0.0.1:${(express.address() as AddressInfo).port}`;
  for (const p of ['/device/info', '/device/monitor/status', '/device/events', '/device/event/0/waveform']) await f.call(`${p}?device=demo`);
  await f.relay.idle(); // the project text is read after the list is answered
});
afterAll(async () => {
  await new Promise((r) => express.close(r));
  await f.close();
});

const SAME_HEADERS = ['content-type', 'content-length', 'x-cache', 'age', 'etag', 'cache-control', 'x-content-type-options'];

describe('fast path ≡ express path on hits', () => {
  for (const path of ['/device/info?device=demo', '/device/monitor/status?device=demo', '/device/event/1?device=demo', '/device/event/0/waveform?device=demo', '/api/sfm/device/info?device=demo']) {
    it(path, async () => {
      const before = f.sim.server.stats.bytesOut;
      const fast = await call(f.url, path, { headers: { 'X-Request-Id': 'same-id' } });
      const slow = await call(expressUrl, path, { headers: { 'X-Request-Id': 'same-id' } });
      expect(fast.status).toBe(200);
      expect(fast.status).toBe(slow.status);
      expect(fast.text).toBe(slow.text);
      for (const h of SAME_HEADERS) expect([h, fast.headers.get(h)]).toEqual([h, slow.headers.get(h)]);
      expect(fast.headers.get('x-request-id')).toBe('same-id');
      expect(f.sim.server.stats.bytesOut).toBe(before); // hits: no device I/O
    });
  }

  it('If-None-Match gives 304 on both paths', async () => {
    const first = await call(f.url, '/device/event/0/waveform?device=demo');
    const etag = first.headers.get('etag')!;
    for (const base of [f.url, expressUrl]) {
      const r = await call(base, '/device/event/0/waveform?device=demo', { headers: { 'If-None-Match': etag } });
      expect(r.status).toBe(304);
    }
  });

  it('bad input on a hit route still gets the express error (the fast path steps aside)', async () => {
    const r = await call(f.url, '/device/info?device=demo&colour=red');
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('INVALID_REQUEST');
    const t = await call(f.url, '/device/info?host=8.8.8.8');
    expect(t.status).toBe(403);
  });

  it('a hit is logged like any request', async () => {
    const n = f.logs.length;
    await call(f.url, '/device/info?device=demo');
    const line = JSON.parse(f.logs.slice(n).find((l) => l.includes('"request"'))!);
    expect(line).toMatchObject({ method: 'GET', path: '/device/info', status: 200, cache: 'hit' });
  });
});

describe('fast path ≡ express path on the archive\'s reads', () => {
  const paths = async () => {
    const [e] = (await call(f.url, '/db/events?limit=1')).json.events as { id: number }[];
    const withWaveform = ((await call(f.url, '/db/events?limit=100')).json.events as { id: number; has_waveform: boolean }[]).find((x) => x.has_waveform)!;
    return [
      '/db/units', '/db/units/BE18189', '/db/units/NOT-SEEN', '/db/events?limit=2', '/db/events?serial=BE18189&min_pvs_ips=0.01&limit=3',
      `/db/events/${e!.id}`, '/db/events/987654', `/db/events/${withWaveform.id}/waveform`, `/db/events/${withWaveform.id}/waveform?format=csv`,
      `/db/events/${withWaveform.id}/analysis?standard=osmre-chart`, '/db/sessions?limit=1', '/db/export.csv?limit=5', '/db/events?cursor=not-a-cursor',
      '/api/sfm/db/units',
    ];
  };

  it('the same status, body and headers, answered or refused', async () => {
    for (const path of await paths()) {
      const fast = await call(f.url, path, { headers: { 'X-Request-Id': 'same-id' } });
      const slow = await call(expressUrl, path, { headers: { 'X-Request-Id': 'same-id' } });
      expect([path, fast.status]).toEqual([path, slow.status]);
      expect(fast.text).toBe(slow.text);
      for (const h of SAME_HEADERS) expect([path, h, fast.headers.get(h)]).toEqual([path, h, slow.headers.get(h)]);
    }
  });

  it('an error is logged with its code, and an unexpected one as such, with no detail in the answer', async () => {
    let n = f.logs.length;
    await call(f.url, '/db/events/987654');
    expect(JSON.parse(f.logs.slice(n).find((l) => l.includes('"request"'))!)).toMatchObject({ method: 'GET', path: '/db/events/987654', status: 404, code: 'NOT_FOUND' });
    const units = f.relay.store.archive.units;
    f.relay.store.archive.units = async () => {
      throw new TypeError('kaboom: /srv/sfm/secret');
    };
    try {
      n = f.logs.length;
      const r = await call(f.url, '/db/units');
      expect([r.status, r.json.error.code]).toEqual([500, 'INTERNAL']);
      expect(r.text).not.toContain('kaboom');
      expect(f.logs.slice(n).some((l) => l.includes('unexpected error') && l.includes('kaboom'))).toBe(true);
    } finally {
      f.relay.store.archive.units = units;
    }
  });
});
