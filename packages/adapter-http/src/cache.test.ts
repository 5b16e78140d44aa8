/**
 * Cache behaviour per route through HTTP: X-Cache (miss, hit, refresh, force) and Age; every
 * invalidation (config write, monitor start/stop, erase, DELETE /cache/device); waveform ETags
 * with If-None-Match → 304 answered from the cache without device I/O.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { headersOnly, startFixture, type Fixture } from '@sfm/test-support';

const q = '?device=demo';
const T = 'cache-token';
let f: Fixture;

beforeEach(async () => {
  f = await startFixture({ token: T });
});
afterEach(async () => {
  await f.close();
});

const xc = (r: { headers: Headers }) => r.headers.get('x-cache');
const age = (r: { headers: Headers }) => r.headers.get('age');
/** Connections the emulated unit has accepted: unchanged = no device I/O. */
const conns = () => f.sim.server.stats.connectionsTotal;

describe('X-Cache and Age per cached route', () => {
  it('info: miss, hit (Age grows, no device I/O), force → refresh, connect → refresh', async () => {
    const miss = await f.call(`/device/info${q}`);
    expect([xc(miss), age(miss)]).toEqual(['miss', '0']);
    f.clock.advance(7_400);
    const before = conns();
    const hit = await f.call(`/device/info${q}`);
    expect([xc(hit), age(hit)]).toEqual(['hit', '7']);
    expect(hit.text).toBe(miss.text);
    expect(conns()).toBe(before);
    const forced = await f.call(`/device/info${q}&force=true`);
    expect([xc(forced), age(forced)]).toEqual(['refresh', '0']);
    expect(conns()).toBe(before + 1);
    expect(xc(await f.call(`/device/info${q}&force=false`))).toBe('hit');
    const connect = await f.call(`/device/connect${q}`, { method: 'POST' });
    expect([xc(connect), age(connect)]).toEqual(['refresh', '0']);
  });

  it('events: miss, hit after the probe, refresh when the unit recorded more, force → refresh', async () => {
    const miss = await f.call(`/device/events${q}`);
    expect(xc(miss)).toBe('miss');
    expect(age(miss)).toBe('0');
    expect(miss.json.events).toEqual(headersOnly(f.sim.unit.events));
    await f.relay.idle(); // the project text is read after the answer
    const hit = await f.call(`/device/events${q}`);
    expect(xc(hit)).toBe('hit');
    expect(hit.json.events).toEqual(f.sim.unit.events);
    f.sim.unit.recordEvent();
    const grown = await f.call(`/device/events${q}`);
    expect(xc(grown)).toBe('refresh');
    expect(grown.json.count).toBe(4);
    expect(grown.json.events).toEqual([...hit.json.events, ...headersOnly(f.sim.unit.events.slice(3))]);
    await f.relay.idle();
    const forced = await f.call(`/device/events${q}&force=true`);
    expect(xc(forced)).toBe('refresh');
    // Read again from the unit, headers first: the text the archive already holds is kept.
    expect(forced.json).toEqual({ ...grown.json, events: f.sim.unit.events });
  });

  it('event: miss on a cold cache, then hit from the events cache without device I/O; force → refresh', async () => {
    const miss = await f.call(`/device/event/1${q}`);
    expect(xc(miss)).toBe('miss');
    f.clock.advance(3_000);
    const before = conns();
    const hit = await f.call(`/device/event/1${q}`);
    expect([xc(hit), age(hit)]).toEqual(['hit', '3']);
    expect(hit.json).toEqual(miss.json);
    expect(conns()).toBe(before);
    expect(xc(await f.call(`/device/event/1${q}&force=true`))).toBe('refresh');
  });

  it('waveform: miss, hit (Age, same bytes and ETag, no device I/O), force → refresh with the same ETag', async () => {
    const miss = await f.call(`/device/event/2/waveform${q}`);
    expect(xc(miss)).toBe('miss');
    const etag = miss.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{20,}"$/);
    f.clock.advance(12_000);
    const before = conns();
    const hit = await f.call(`/device/event/2/waveform${q}`);
    expect([xc(hit), age(hit)]).toEqual(['hit', '12']);
    expect(hit.text).toBe(miss.text);
    expect(hit.headers.get('etag')).toBe(etag);
    expect(conns()).toBe(before);
    const forced = await f.call(`/device/event/2/waveform${q}&force=true`);
    expect([xc(forced), age(forced)]).toEqual(['refresh', '0']);
    expect(forced.headers.get('etag')).toBe(etag);
    // another event: another tag
    expect((await f.call(`/device/event/1/waveform${q}`)).headers.get('etag')).not.toBe(etag);
  });

  it('monitor status: miss, hit within the TTL, refresh after it, force → refresh', async () => {
    expect(xc(await f.call(`/device/monitor/status${q}`))).toBe('miss');
    f.clock.advance(20_000);
    const hit = await f.call(`/device/monitor/status${q}`);
    expect([xc(hit), age(hit)]).toEqual(['hit', '20']);
    f.clock.advance(11_000);
    const stale = await f.call(`/device/monitor/status${q}`);
    expect([xc(stale), age(stale)]).toEqual(['refresh', '0']);
    expect(xc(await f.call(`/device/monitor/status${q}&force=true`))).toBe('refresh');
  });

  it('identical concurrent requests share one device transaction', async () => {
    const before = conns();
    const replies = await Promise.all([1, 2, 3, 4].map(() => f.call(`/device/events${q}`)));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(new Set(replies.map((r) => r.text)).size).toBe(1);
    expect(conns()).toBe(before + 1);
  });

  it('uncached and service routes carry no X-Cache', async () => {
    for (const path of [`/device/events/storage-range${q}`, `/device/call-home${q}`, '/health', '/cache/stats']) {
      const r = await f.call(path);
      expect(r.status, path).toBe(200);
      expect(xc(r), path).toBeNull();
    }
    // nor does a refused request on a cached route
    const bad = await f.call(`/device/info${q}&force=1`);
    expect(bad.status).toBe(400);
    expect(xc(bad)).toBeNull();
  });

  it('GET /cache/stats counts the outcomes', async () => {
    await f.call(`/device/info${q}`);
    await f.call(`/device/info${q}`);
    await f.call(`/device/info${q}&force=true`);
    const s = (await f.call('/cache/stats')).json;
    expect(s.kinds.device_info).toMatchObject({ entries: 1, hits: 1, misses: 1, refreshes: 1 });
  });
});

describe('invalidations', () => {
  it('a config write marks info dirty: the next GET refetches and shows the new value', async () => {
    const first = await f.call(`/device/info${q}`);
    expect(first.json.compliance.project).not.toBe('Bridge 9');
    expect(xc(await f.call(`/device/info${q}`))).toBe('hit');
    const w = await f.call(`/device/config${q}`, { method: 'POST', token: T, body: { project: 'Bridge 9', geo_range: 'sensitive' } });
    expect(w.status).toBe(200);
    const after = await f.call(`/device/info${q}`);
    expect(xc(after)).toBe('refresh');
    expect(after.json.compliance).toMatchObject({ project: 'Bridge 9', geo_range: 'sensitive' });
    expect(after.json.compliance.geo_full_scale_ips).not.toBe(first.json.compliance.geo_full_scale_ips);
    expect(xc(await f.call(`/device/info${q}`))).toBe('hit');
  });

  it('monitor start/stop drop the cached status: it is refetched and shows the change', async () => {
    const idle = await f.call(`/device/monitor/status${q}`);
    expect(idle.json.is_monitoring).toBe(false);
    expect(xc(await f.call(`/device/monitor/status${q}`))).toBe('hit');
    expect((await f.call(`/device/monitor/start${q}`, { method: 'POST', token: T })).status).toBe(200);
    const on = await f.call(`/device/monitor/status${q}`);
    expect(xc(on)).not.toBe('hit');
    expect(on.json.is_monitoring).toBe(true);
    expect(xc(await f.call(`/device/monitor/status${q}`))).toBe('hit');
    expect((await f.call(`/device/monitor/stop${q}`, { method: 'POST', token: T })).status).toBe(200);
    const off = await f.call(`/device/monitor/status${q}`);
    expect(xc(off)).not.toBe('hit');
    expect(off.json.is_monitoring).toBe(false);
  });

  it('erase drops events and waveforms: re-synced list, and the new event 0 is served, not the old waveform', async () => {
    const oldEvents = await f.call(`/device/events${q}`);
    const old0 = await f.call(`/device/event/0/waveform${q}`);
    expect(old0.status).toBe(200);
    expect(xc(await f.call(`/device/event/0/waveform${q}`))).toBe('hit');
    const erased = await f.call(`/device/events/erase${q}&confirm=true`, { method: 'POST', token: T });
    expect(erased.status).toBe(200);
    const empty = await f.call(`/device/events${q}`);
    expect(empty.json).toMatchObject({ count: 0, events: [] });
    expect((await f.call(`/device/event/0${q}`)).status).toBe(404);
    f.clock.advance(60_000);
    const fresh = f.sim.unit.recordEvent();
    const w = await f.call(`/device/event/0/waveform${q}`);
    expect(w.status).toBe(200);
    expect(xc(w)).not.toBe('hit');
    expect(w.json.timestamp).toBe(fresh.timestamp);
    expect(w.json.timestamp).not.toBe(old0.json.timestamp);
    expect(w.headers.get('etag')).not.toBe(old0.headers.get('etag'));
    expect(w.text).not.toBe(old0.text);
    const list = await f.call(`/device/events${q}`);
    expect(list.json.count).toBe(1);
    expect(list.json.events[0].timestamp).not.toBe(oldEvents.json.events[0].timestamp);
  });

  it('DELETE /cache/device forgets the unit: every kind is asked again; the archived waveform is not downloaded twice', async () => {
    await f.call(`/device/info${q}`);
    await f.call(`/device/event/0/waveform${q}`);
    await f.call(`/device/monitor/status${q}`);
    const cleared = await f.call(`/cache/device${q}`, { method: 'DELETE', token: T });
    // A cold waveform request reads the list only up to its index: one event cached. The
    // waveform is the archive's: it stays.
    expect(cleared.json.cleared).toEqual({ device_info: 1, events: 1, waveform: 0, monitor_status: 1 });
    expect(xc(await f.call(`/device/info${q}`))).toBe('miss');
    const chunks = f.sim.server.stats.framesBySub['5A'];
    // Confirmed against the unit (its list read again, the event still at index 0), then served from the archive.
    expect(xc(await f.call(`/device/event/0/waveform${q}`))).toBe('hit');
    expect(f.sim.server.stats.framesBySub['5A']).toBe(chunks);
    expect(xc(await f.call(`/device/monitor/status${q}`))).toBe('miss');
  });
});

describe('ETag and If-None-Match', () => {
  it('a cached waveform with a matching If-None-Match is 304 without a body or device I/O', async () => {
    const first = await f.call(`/device/event/0/waveform${q}`);
    const etag = first.headers.get('etag')!;
    const before = conns();
    const r = await fetch(`${f.url}/device/event/0/waveform${q}`, { headers: { 'If-None-Match': etag } });
    expect(r.status).toBe(304);
    expect(await r.text()).toBe('');
    expect(r.headers.get('etag')).toBe(etag);
    expect(r.headers.get('x-cache')).toBe('hit');
    expect(conns()).toBe(before);
    // lists, weak tags and * match too; another tag does not
    for (const inm of [`"nope", ${etag}`, `W/${etag}`, '*']) {
      expect((await fetch(`${f.url}/device/event/0/waveform${q}`, { headers: { 'If-None-Match': inm } })).status, inm).toBe(304);
    }
    const other = await fetch(`${f.url}/device/event/0/waveform${q}`, { headers: { 'If-None-Match': '"something-else"' } });
    expect(other.status).toBe(200);
    expect(await other.text()).toBe(first.text);
  });

  it('the CSV form has its own tag and honours it', async () => {
    const json = await f.call(`/device/event/1/waveform${q}`);
    const csv = await f.call(`/device/event/1/waveform${q}&format=csv`);
    const tag = csv.headers.get('etag')!;
    expect(tag).toMatch(/-csv(-br|-gzip)?"$/); // the coding fetch accepted, if any, is part of the tag
    expect(tag).not.toBe(json.headers.get('etag'));
    expect((await fetch(`${f.url}/device/event/1/waveform${q}&format=csv`, { headers: { 'If-None-Match': tag } })).status).toBe(304);
    expect((await fetch(`${f.url}/device/event/1/waveform${q}&format=csv`, { headers: { 'If-None-Match': json.headers.get('etag')! } })).status).toBe(200);
  });

  it('an If-None-Match on an uncached waveform takes the normal path (downloads and answers)', async () => {
    const r = await fetch(`${f.url}/device/event/2/waveform${q}`, { headers: { 'If-None-Match': '"stale"' } });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-cache')).toBe('miss');
    expect(((await r.json()) as { index: number }).index).toBe(2);
  });

  it('the CSV matches the JSON samples', async () => {
    const json = (await f.call(`/device/event/0/waveform${q}`)).json;
    const lines = (await f.call(`/device/event/0/waveform${q}&format=csv`)).text.trimEnd().split('\n');
    expect(lines).toHaveLength(json.channels[0].samples.length + 1);
    const row = lines[101]!.split(',').map(Number);
    expect(row.slice(1)).toEqual(json.channels.map((c: { samples: number[] }) => c.samples[100]));
    expect(row[0]).toBeCloseTo(json.t0_s + 100 / json.sample_rate, 6);
  });
});
