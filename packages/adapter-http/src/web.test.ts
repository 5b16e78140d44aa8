/**
 * What the web application needs from the HTTP front end: its files at / (cached as built, never
 * out of the directory, never in the way of the API), the configured units, the standards'
 * curves, and the progress of device work as server-sent events.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curvePoints, standardCurve } from '@sfm/core/analysis';
import type { ProgressReport } from '@sfm/core';
import { startFixture, type Fixture } from '@sfm/test-support';

/** A GET with the path sent as it is (fetch would normalise "..") . */
function rawGet(url: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url + path, { method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Reads server-sent `progress` events until `until` says stop; returns them. */
async function readProgress(res: Response, until: (seen: ProgressReport[]) => boolean): Promise<ProgressReport[]> {
  const seen: ProgressReport[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  while (!until(seen)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = /^event: progress\ndata: (.*)$/m.exec(block);
      if (data) seen.push(JSON.parse(data[1]!) as ProgressReport);
    }
  }
  await reader.cancel();
  return seen;
}

describe('the web application\'s files at /', () => {
  let f: Fixture;
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'sfm-web-'));
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>sfm</title><script type="module" src="/assets/app-Ab12.js"></script>');
    writeFileSync(join(root, 'assets', 'app-Ab12.js'), `console.log(${JSON.stringify('x'.repeat(5000))});`);
    writeFileSync(join(tmpdir(), 'sfm-web-outside.txt'), 'secret');
    symlinkSync(join(tmpdir(), 'sfm-web-outside.txt'), join(root, 'assets', 'link.txt'));
    f = await startFixture({ webRoot: root });
  });
  afterAll(async () => {
    await f.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves index.html at /, revalidated every load, under a policy that loads nothing from elsewhere', async () => {
    const r = await f.call('/');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('cache-control')).toBe('no-cache');
    expect(r.headers.get('content-security-policy')).toMatch(/default-src 'self'.*connect-src 'self'/);
    expect(r.text).toContain('<title>sfm</title>');
    const again = await fetch(`${f.url}/`, { headers: { 'if-none-match': r.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('serves the hashed assets for good, compressed when the browser takes it', async () => {
    const r = await fetch(`${f.url}/assets/app-Ab12.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(r.headers.get('content-encoding')).toBe('gzip');
    expect(r.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await r.text()).toBe(`console.log(${JSON.stringify('x'.repeat(5000))});`);
  });

  it('never serves what is outside its directory, and leaves the API and its errors as they are', async () => {
    for (const path of ['/../package.json', '/assets/../../package.json', '/%2e%2e/package.json', '/assets/link.txt', '/assets/none.js', '/index.html%00.js']) {
      const r = await rawGet(f.url, path);
      expect(r.status, path).toBe(404);
      expect(JSON.parse(r.body).error.code, path).toBe('NOT_FOUND');
    }
    expect((await f.call('/health')).json.status).toBe('ok');
    expect((await f.call('/api/sfm/health')).json.status).toBe('ok');
    expect((await f.call('/', { method: 'POST', body: {} })).status).toBe(404);
  });

  it('without a web application, / is an unknown route', async () => {
    const bare = await startFixture();
    try {
      const r = await bare.call('/');
      expect([r.status, r.json.error.code]).toEqual([404, 'NOT_FOUND']);
    } finally {
      await bare.close();
    }
  });
});

describe('what the page reads besides the API of the unit', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture();
  });
  afterAll(() => f.close());

  it('GET /devices: each configured unit with its address, and who answered there once asked', async () => {
    const key = `tcp:${f.sim.address.host}:${f.sim.address.port}`;
    expect((await f.call('/devices')).json).toEqual([{ name: 'demo', connection_key: key, serial: null }]);
    await f.call('/device/info?device=demo');
    expect((await f.call('/devices')).json).toEqual([{ name: 'demo', connection_key: key, serial: f.sim.unit.serial }]);
  });

  it('GET /analysis/curves: the configured standards by default, any asked for, as their corners', async () => {
    const r = (await f.call('/analysis/curves')).json;
    expect(r.map((c: { id: string }) => c.id)).toEqual(['osmre-chart']);
    expect(r[0].points).toEqual(curvePoints(standardCurve('osmre-chart')));
    const two = (await f.call('/analysis/curves?standard=usbm-ri8507-drywall,osmre-distance&distance_ft=250')).json;
    expect(two.map((c: { id: string; points: unknown[] }) => [c.id, c.points.length])).toEqual([['usbm-ri8507-drywall', 5], ['osmre-distance', 2]]);
    expect(two[1].points[0]).toEqual({ hz: 1, ips: 1.25 });
  });
});

describe('GET /device/progress', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await startFixture({ sim: { events: 4 } });
  });
  afterAll(() => f.close());

  it('as JSON: what the address is doing now (idle)', async () => {
    const r = await f.call('/device/progress?device=demo');
    expect(r.json).toEqual({ connection_key: `tcp:${f.sim.address.host}:${f.sim.address.port}`, step: 'idle', done: 0, total: null, estimated: false, counts: 'events', index: null, chunks_done: null, chunks_total: null });
  });

  it('as server-sent events: the sync and the download of a request made elsewhere, then idle', async () => {
    const stream = await fetch(`${f.url}/device/progress?device=demo`, { headers: { accept: 'text/event-stream' } });
    expect(stream.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers.get('content-encoding')).toBeNull();
    const waveform = f.call('/device/event/2/waveform?device=demo');
    const seen = await readProgress(stream, (s) => s.length > 1 && s[s.length - 1]!.step === 'idle');
    expect((await waveform).status).toBe(200);
    expect(seen[0]!.step).toBe('idle'); // the state when the stream opened
    const sync = seen.filter((p) => p.step === 'sync');
    expect(sync[sync.length - 1]).toMatchObject({ done: 3, total: 3, counts: 'events' }); // a cold read stops after index 2
    const download = seen.filter((p) => p.step === 'download');
    expect(download.length).toBeGreaterThan(1);
    expect(download.every((p) => p.index === 2 && p.counts === 'bytes' && p.total! > 0)).toBe(true);
    expect(download[download.length - 1]!.done).toBe(download[download.length - 1]!.total);
    expect(f.relay.progress.followers(seen[0]!.connection_key)).toBeLessThanOrEqual(1);
  });

  it('a stream open when the server closes ends, and does not hold the close up', async () => {
    const g = await startFixture();
    const stream = await fetch(`${g.url}/device/progress?device=demo`, { headers: { accept: 'text/event-stream' } });
    const read = readProgress(stream, () => false);
    await g.close();
    expect((await read).map((p) => p.step)).toEqual(['idle']);
  });
});
