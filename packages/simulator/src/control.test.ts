import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { SUB, buildReadFrame, decodeStorageRange, responseContent, tokenParams, FIRST_KEY } from '@sfm/core/protocol';
import { startSimulator, type RunningSimulator } from './start.js';
import { WireClient } from './wire-client.js';

const T0 = new Date('2026-04-08T01:59:45Z');
let sim: RunningSimulator | null = null;

afterEach(async () => {
  await sim?.close();
  sim = null;
});

async function start(): Promise<RunningSimulator> {
  sim = await startSimulator({ now: () => T0, events: 2, baud: 0, control: true });
  return sim;
}

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`http://${sim!.controlAddress!.host}:${sim!.controlAddress!.port}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

describe('startSimulator', () => {
  it('returns the unit, the server, both addresses and a close that stops everything', async () => {
    const s = await start();
    expect(s.address.host).toBe('127.0.0.1');
    expect(s.address.port).toBeGreaterThan(0);
    expect(s.controlAddress!.port).toBeGreaterThan(0);
    const client = await WireClient.connect(s.address);
    client.send(buildReadFrame(SUB.STORAGE_RANGE, 0x24, tokenParams()));
    expect(decodeStorageRange(responseContent(await client.nextFrame())).first).toBe(FIRST_KEY);
    await s.close();
    sim = null;
    await client.closed;
    await expect(fetch(`http://127.0.0.1:${s.controlAddress!.port}/stats`)).rejects.toThrow();
  });

  it('runs without a control API unless asked', async () => {
    sim = await startSimulator({ events: 0, baud: 0 });
    expect(sim.controlAddress).toBeNull();
    expect(sim.unit.events).toEqual([]);
  });
});

describe('control HTTP API', () => {
  it('GET /stats reports the wire counters', async () => {
    const s = await start();
    const client = await WireClient.connect(s.address);
    client.send(buildReadFrame(SUB.POLL, 0));
    await client.nextFrame();
    const { status, json } = await call('GET', '/stats');
    expect(status).toBe(200);
    expect(json).toMatchObject({ framesBySub: { '5B': 1 }, connectionsTotal: 1, sessionsActive: 1, roundTrips: 1 });
    expect((await call('POST', '/stats/reset')).json.framesReceived).toBe(0);
    client.close();
  });

  it('POST /events records events now; GET /events lists them; POST /erase empties the unit', async () => {
    const s = await start();
    const one = await call('POST', '/events');
    expect(one.status).toBe(201);
    expect(one.json.events).toHaveLength(1);
    expect(one.json.events[0]).toMatchObject({ index: 2, timestamp: '2026-04-08T01:59:45', record_type: 'waveform' });
    const two = await call('POST', '/events', { count: 2 });
    expect(two.json.events.map((e: { index: number }) => e.index)).toEqual([3, 4]);
    const list = await call('GET', '/events');
    expect(list.json).toMatchObject({ serial: 'BE18189', count: 5 });
    expect(list.json.events).toEqual(s.unit.events);
    expect((await call('GET', '/unit')).json.storage_range).toMatchObject({ first_key: '01110000', last_key: list.json.events[4].key, is_empty: false });
    expect((await call('POST', '/erase')).json).toEqual({ erased: 5 });
    expect((await call('GET', '/events')).json.count).toBe(0);
    expect((await call('GET', '/unit')).json).toMatchObject({ storage_range: { first_key: '01110000', last_key: null, next_key: '01110000', is_empty: true } });
  });

  it('POST /fault injects each kind and returns the pending faults', async () => {
    await start();
    expect((await call('POST', '/fault', { kind: 'drop', after_bytes: 5 })).json.faults.dropAfterBytes).toBe(5);
    expect((await call('POST', '/fault', { kind: 'corrupt' })).json.faults.corruptNextFrame).toBe(true);
    expect((await call('POST', '/fault', { kind: 'garble', bytes: 12 })).json.faults.garbleNextBytes).toBe(12);
    expect((await call('POST', '/fault', { kind: 'modem-text' })).json.faults.modemTextNext).toBe(true);
    expect((await call('POST', '/fault', { kind: 'stall', ms: 'forever' })).json.faults.stall).toBe('forever');
    expect((await call('POST', '/fault', { kind: 'reboot' })).status).toBe(200);
    const cleared = await call('POST', '/fault', { kind: 'clear' });
    expect(cleared.json).toEqual({ applied: 'clear', faults: { dropAfterBytes: null, corruptNextFrame: false, stall: null, garbleNextBytes: 0, modemTextNext: false } });
    expect((await call('GET', '/faults')).json.stall).toBeNull();
  });

  it('a fault set over HTTP shows on the wire', async () => {
    const s = await start();
    const client = await WireClient.connect(s.address);
    await call('POST', '/fault', { kind: 'drop', after_bytes: 3 });
    client.send(buildReadFrame(SUB.POLL, 0));
    await client.closed;
    expect(client.raw.length).toBe(3);
  });

  it('bad bodies are 400 INVALID_REQUEST naming the problem; unknown paths 404; wrong methods 405', async () => {
    await start();
    const cases: [string, string, unknown, RegExp][] = [
      ['POST', '/fault', { kind: 'explode' }, /kind/],
      ['POST', '/fault', { kind: 'drop' }, /after_bytes/],
      ['POST', '/fault', { kind: 'drop', after_bytes: -1 }, /after_bytes/],
      ['POST', '/fault', { kind: 'stall', ms: 'soon' }, /ms/],
      ['POST', '/fault', { kind: 'garble', bytes: 0 }, /bytes/],
      ['POST', '/fault', '{not json', /JSON/],
      ['POST', '/fault', [1, 2], /object/],
      ['POST', '/events', { count: 0 }, /count/],
      ['POST', '/events', { count: 'two' }, /count/],
    ];
    for (const [method, path, body, message] of cases) {
      const r = await call(method, path, body);
      expect(r.status, `${path} ${JSON.stringify(body)}`).toBe(400);
      expect(r.json.error.code).toBe('INVALID_REQUEST');
      expect(r.json.error.message).toMatch(message);
    }
    const missing = await call('GET', '/nope');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('NOT_FOUND');
    const wrong = await call('GET', '/erase');
    expect(wrong.status).toBe(405);
  });

  it('bodies over 64 KiB are refused', async () => {
    await start();
    const { port, host } = sim!.controlAddress!;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host, port, method: 'POST', path: '/events', headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(JSON.stringify({ count: 1, pad: 'x'.repeat(70 * 1024) }));
    });
    expect(status).toBe(413);
    expect(sim!.unit.events).toHaveLength(2);
  });

  it('POST /events reports a full memory as 409 MEMORY_FULL', async () => {
    sim = await startSimulator({ now: () => T0, events: 1, memoryTotal: 12_000, baud: 0, control: true });
    const r = await call('POST', '/events', { count: 3 });
    expect(r.status).toBe(409);
    expect(r.json.error.code).toBe('MEMORY_FULL');
  });
});
