/**
 * Negotiated compression (br, gzip) on both HTTP paths: compressed and plain bodies decode to the
 * same bytes; Vary, Content-Encoding, Content-Length and ETags say what was sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { startFixture, type Fixture } from '@sfm/test-support';
import { negotiateEncoding } from './reply.js';

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request with exactly the headers given (fetch would add and undo its own Accept-Encoding). */
function raw(base: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(base + path, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function decode(r: Raw): Buffer {
  const enc = r.headers['content-encoding'];
  return enc === 'br' ? brotliDecompressSync(r.body) : enc === 'gzip' ? gunzipSync(r.body) : r.body;
}

let f: Fixture;
const D = '?device=demo';
beforeAll(async () => {
  f = await startFixture({ sim: { events: 3, recordTimeS: 2 } });
  for (const p of ['/device/info', '/device/monitor/status', '/device/events', '/device/event/1/waveform']) expect((await f.call(`${p}${D}`)).status).toBe(200);
  await f.relay.idle();
});
afterAll(() => f.close());

describe('Accept-Encoding is negotiated', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['identity', undefined],
    ['gzip', 'gzip'],
    ['br', 'br'],
    ['gzip, deflate, br', 'br'],
    ['gzip;q=1, br;q=0.5', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['br;q=0', undefined],
    ['*', 'br'],
    ['*;q=0.1, br;q=0', 'gzip'],
    ['GZIP ; Q=0.8', 'gzip'],
    ['deflate', undefined],
    ['br;q=abc, gzip;q=0.2', 'gzip'],
  ])('%j → %s', (header, want) => {
    expect(negotiateEncoding(header)).toBe(want);
  });
});

describe('compressed and plain bodies are the same bytes', () => {
  const paths = ['/device/events', '/device/event/1', '/device/event/1/waveform', '/device/event/1/waveform?format=csv', '/openapi.json', '/device/info', '/device/monitor/status'];
  for (const path of paths) {
    const url = path === '/openapi.json' ? path : path.includes('?') ? `${path}&device=demo` : `${path}${D}`;
    it(`${path}: br and gzip decode to the plain body; Vary and Content-Length are right`, async () => {
      const plain = await raw(f.url, url);
      expect(plain.status).toBe(200);
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.headers.vary).toBe('Accept-Encoding');
      for (const enc of ['br', 'gzip'] as const) {
        const r = await raw(f.url, url, { 'Accept-Encoding': enc });
        expect(r.status).toBe(200);
        expect(r.headers.vary).toBe('Accept-Encoding');
        expect(decode(r).equals(plain.body)).toBe(true);
        if (plain.body.length < 1024) {
          // too small to be worth it: sent as it is
          expect(r.headers['content-encoding']).toBeUndefined();
          continue;
        }
        expect(r.headers['content-encoding']).toBe(enc);
        if (r.headers['content-length'] !== undefined) expect(Number(r.headers['content-length'])).toBe(r.body.length);
        expect(r.body.length).toBeLessThan(plain.body.length / 2);
      }
    });
  }

  it('HEAD says what GET would send, without the body', async () => {
    const get = await raw(f.url, `/device/event/1/waveform${D}`, { 'Accept-Encoding': 'gzip' });
    const head = await raw(f.url, `/device/event/1/waveform${D}`, { 'Accept-Encoding': 'gzip' }, 'HEAD');
    expect(head.body.length).toBe(0);
    for (const h of ['content-encoding', 'content-length', 'etag', 'vary']) expect([h, head.headers[h]]).toEqual([h, get.headers[h]]);
  });

  it('express answers as the fast path does (a miss goes through express)', async () => {
    // A forced read always takes the express path.
    const viaExpress = await raw(f.url, `/device/event/1${D}&force=true`, { 'Accept-Encoding': 'br' });
    const viaFast = await raw(f.url, `/device/event/1${D}`, { 'Accept-Encoding': 'br' });
    expect(decode(viaExpress).equals(decode(viaFast))).toBe(true);
    expect(viaExpress.headers.vary).toBe(viaFast.headers.vary);
  });
});

describe('ETags per coding', () => {
  it('a tag names its coding; any coding\'s tag of the same waveform answers 304', async () => {
    const plain = await raw(f.url, `/device/event/1/waveform${D}`);
    const br = await raw(f.url, `/device/event/1/waveform${D}`, { 'Accept-Encoding': 'br' });
    const tag = String(plain.headers.etag);
    expect(br.headers.etag).toBe(`${tag.slice(0, -1)}-br"`);
    expect((await raw(f.url, `/device/event/1/waveform${D}`, { 'If-None-Match': String(br.headers.etag) })).status).toBe(304);
    expect((await raw(f.url, `/device/event/1/waveform${D}`, { 'If-None-Match': tag, 'Accept-Encoding': 'gzip' })).status).toBe(304);
    expect((await raw(f.url, `/device/event/1/waveform${D}`, { 'If-None-Match': '"other-br"', 'Accept-Encoding': 'br' })).status).toBe(200);
  });
});

describe('the hot tier keeps compressed forms and counts them', () => {
  it('a compressed hit is made once, then sent as held; its bytes count in the budget', async () => {
    await raw(f.url, `/device/event/0/waveform${D}`);
    const before = (await f.relay.cacheStats()).hot_tier.bytes;
    // (its gzip form was made with the download, for the store: br is new)
    const first = await raw(f.url, `/device/event/0/waveform${D}`, { 'Accept-Encoding': 'br' });
    const grown = (await f.relay.cacheStats()).hot_tier.bytes;
    expect(grown - before).toBe(first.body.length);
    const second = await raw(f.url, `/device/event/0/waveform${D}`, { 'Accept-Encoding': 'br' });
    expect(second.body.equals(first.body)).toBe(true);
    expect((await f.relay.cacheStats()).hot_tier.bytes).toBe(grown);
  });
});
