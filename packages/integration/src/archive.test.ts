/**
 * The archive end to end, through HTTP on a real SQLite file against the emulated unit: every
 * event ever read is kept once, whatever happens on the unit (an erase through sfm, one through
 * the emulator's own control, a refill that reuses keys, another unit at the address); the fleet
 * lists every unit talked to; sessions record each sync; the operator's review; the CSV export.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '@sfm/store-sqlite';
import { SimulatedUnit } from '@sfm/simulator';
import { startFixture, type Fixture } from '@sfm/test-support';

const T = 'archive-token';
const D = '?device=demo';
let f: Fixture | undefined;
afterEach(async () => {
  await f?.close();
  f = undefined;
});

async function fixture(): Promise<Fixture> {
  f = await startFixture({ store: new SqliteStore(join(mkdtempSync(join(tmpdir(), 'sfm-archive-')), 'sfm.db')), token: T, sim: { events: 3, control: { host: '127.0.0.1', port: 0 } } });
  return f;
}

/** Every archived event of the unit, page by page (the page size small, so paging is exercised). */
async function archived(fx: Fixture, serial: string): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | null = null;
  do {
    const r = await fx.call(`/db/events?serial=${serial}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(r.status).toBe(200);
    out.push(...r.json.events);
    cursor = r.json.next_cursor;
  } while (cursor);
  return out;
}

const identity = (e: { key: string; timestamp: string | null }) => `${e.key}@${e.timestamp}`;

describe('the archive keeps every event ever read', () => {
  it('through an erase by sfm, one by the emulator, a refill reusing keys: old and new events, each once; the old waveform still served', async () => {
    const fx = await fixture();
    const serial = fx.sim.unit.serial;
    const first = await fx.call(`/device/events${D}`);
    await fx.relay.idle();
    const wave = await fx.call(`/device/event/1/waveform${D}`);
    expect(wave.status).toBe(200);
    const gen1 = fx.sim.unit.events.map(identity);

    // An erase through sfm: refused without confirm, then done — the archive keeps all three.
    expect((await fx.call(`/device/events/erase${D}&confirm=true`, { method: 'POST', token: T })).status).toBe(200);
    expect(fx.sim.unit.events).toHaveLength(0);
    for (let i = 0; i < 2; i++) fx.sim.unit.recordEvent({ at: new Date(Date.UTC(2026, 10, 26, 8, i)) });
    expect((await fx.call(`/device/events${D}`)).json.count).toBe(2);
    await fx.relay.idle();
    const gen2 = fx.sim.unit.events.map(identity);
    // The refill reused the keys of the first events: identity is (serial, timestamp, key).
    expect(fx.sim.unit.events[0]!.key).toBe(first.json.events[0].key);

    // An erase the unit's own keypad or the vendor's software did: sfm notices at the next probe.
    const control = fx.sim.controlAddress!;
    expect((await fetch(`http://${control.host}:${control.port}/erase`, { method: 'POST' })).status).toBe(200);
    expect(fx.sim.unit.events).toHaveLength(0);
    fx.sim.unit.recordEvent({ at: new Date(Date.UTC(2026, 10, 27, 9)) });
    expect((await fx.call(`/device/events${D}`)).json.count).toBe(1);
    await fx.relay.idle();
    const gen3 = fx.sim.unit.events.map(identity);

    const all = await archived(fx, serial);
    expect(all.map(identity).sort()).toEqual([...gen1, ...gen2, ...gen3].sort());
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    // Newest first.
    const times = all.map((e) => e.timestamp as string);
    expect(times).toEqual([...times].sort().reverse());
    // Every archived event has its event-time text (the erase read it first) and the old waveform is still served.
    const withWave = all.filter((e) => e.has_waveform);
    expect(withWave).toHaveLength(1);
    const old = await fx.call(`/db/events/${withWave[0].id}/waveform`);
    expect([old.status, old.text]).toEqual([200, wave.text]);
    expect(old.headers.get('etag')).toBe(wave.headers.get('etag'));
    const csv = await fx.call(`/db/events/${withWave[0].id}/waveform?format=csv`);
    expect(csv.text.split('\n')[0]).toBe('t_s,Tran_ips,Vert_ips,Long_ips,MicL_psi');
    expect((await fx.call(`/db/events/${all.find((e) => !e.has_waveform).id}/waveform`)).status).toBe(404);
    expect(all.filter((e) => gen1.includes(identity(e))).every((e) => e.project_pending === false)).toBe(true);
  });

  it('an erase the archive cannot back is refused, and nothing is erased', async () => {
    const store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'sfm-archive-')), 'sfm.db'));
    f = await startFixture({ store, token: T, sim: { events: 3 } });
    await f.call(`/device/events${D}`);
    await f.relay.idle();
    f.sim.unit.recordEvent(); // new since: the erase must archive it first
    store['db'].pragma('query_only = 1'); // the disk refuses writes now
    const r = await f.call(`/device/events/erase${D}&confirm=true`, { method: 'POST', token: T });
    expect([r.status, r.json.error.code]).toEqual([503, 'STORE_UNAVAILABLE']);
    expect(r.json.error.message).toMatch(/the erase was refused, nothing was erased/);
    expect(f.sim.unit.events).toHaveLength(4);
    expect(f.sim.server.stats.framesBySub['A3'] ?? 0).toBe(0); // the erase was never begun
    store['db'].pragma('query_only = 0');
  });

  it('another unit at the address: both units listed; each one\'s events under its own serial', async () => {
    const fx = await fixture();
    const a = fx.sim.unit.serial;
    await fx.call(`/device/info${D}`);
    await fx.call(`/device/events${D}`);
    fx.sim.server.replaceUnit(new SimulatedUnit({ serial: 'BE20001', events: 2, recordTimeS: 1 }));
    fx.clock.advance(10 * 60_000); // past the identity window: the next call confirms who answers
    expect((await fx.call(`/device/events${D}`)).json.serial).toBe('BE20001');
    await fx.relay.idle();
    const units = (await fx.call('/db/units')).json;
    expect(units.map((u: { serial: string }) => u.serial).sort()).toEqual([a, 'BE20001'].sort());
    const ua = units.find((u: { serial: string }) => u.serial === a);
    expect(ua).toMatchObject({ event_count: 3, last_address: fx.devices.resolve('demo') && expect.any(String) });
    expect(ua.info.serial).toBe(a);
    expect(units.every((u: { serial: string }) => u.serial.length > 0)).toBe(true);
    expect((await archived(fx, 'BE20001')).map(identity).sort()).toEqual(fx.sim.unit.events.map(identity).sort());
    expect((await fx.call(`/db/units/${a}`)).json.serial).toBe(a);
    expect((await fx.call('/db/units/NOPE1')).status).toBe(404);
  });

  it('sessions record each sync with what it brought in; the review is token-protected; the export matches the filter', async () => {
    const fx = await fixture();
    await fx.call(`/device/events${D}`);
    await fx.relay.idle();
    await fx.call(`/device/event/0/waveform${D}`);
    await fx.relay.idle();
    const sessions = (await fx.call('/db/sessions')).json.sessions;
    expect(sessions.length).toBeGreaterThanOrEqual(2);
    expect(sessions.at(-1)).toMatchObject({ kind: 'call-up', serial: fx.sim.unit.serial, events_new: 3, result: 'ok', erased: false });
    expect(sessions[0]).toMatchObject({ waveforms_new: 1 });

    const id = (await archived(fx, fx.sim.unit.serial))[0].id;
    expect((await fx.call(`/db/events/${id}`, { method: 'PATCH', body: { false_trigger: true } })).status).toBe(401);
    const reviewed = await fx.call(`/db/events/${id}`, { method: 'PATCH', token: T, body: { false_trigger: true, notes: 'truck passing' } });
    expect([reviewed.status, reviewed.json.false_trigger, reviewed.json.notes]).toEqual([200, true, 'truck passing']);
    expect((await fx.call(`/db/events/${id}`, { method: 'PATCH', token: T, body: { colour: 'red' } })).status).toBe(400);
    expect((await fx.call('/db/events?false_trigger=true')).json.events.map((e: { id: number }) => e.id)).toEqual([id]);
    expect((await fx.call('/db/events?cursor=bogus')).status).toBe(400);
    expect((await fx.call('/db/events?from=2026-13-01')).status).toBe(400);

    const csv = await fx.call(`/db/export.csv?serial=${fx.sim.unit.serial}`);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    const lines = csv.text.trimEnd().split('\r\n');
    expect(lines[0]!.split(',').slice(0, 4)).toEqual(['id', 'serial', 'key', 'timestamp']);
    expect(lines).toHaveLength(4);
    expect(lines.find((l) => l.startsWith(`${id},`))).toContain('truck passing');
  });
});
