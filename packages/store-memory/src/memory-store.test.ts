import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CACHE_KINDS, StoreError, unitScope } from '@sfm/core/cache';
import { everyArchived, everySession, sampleHolder, sampleInfo, sampleKey, sampleSession, sampleStatus, sampleSync, sampleWaveform, storedEvents, storeContractSuite } from '@sfm/test-kit';
import { DEFAULT_MAX_BYTES, MemoryStore } from './index.js';

storeContractSuite('memory', () => new MemoryStore(), { describe, it, expect, beforeEach, afterEach });

const ADDRESS = 'tcp:10.20.0.7:12345';
const U = 'BE18189';
const V = 'BE20001';
const T0 = 1_775_000_000_000;
const WAVEFORM_BYTES = 4 * 10240 * 2; // one 10-s, 1024-sps waveform's samples
/** Bytes of the cache's kinds (what Store#stats reports). */
const cacheBytes = async (s: MemoryStore): Promise<number> => {
  const st = await s.stats();
  return CACHE_KINDS.reduce((n, k) => n + st[k].bytes, 0);
};
/** Bytes of everything the LRU holds, the archive's events and sessions included, by the store's own count. */
const total = (s: MemoryStore): number => Object.values(s['totals']).reduce((n, k) => n + k.bytes, 0);
const wf = (i: number) => sampleWaveform(sampleKey(i), `2026-04-09T07:00:${String(i).padStart(2, '0')}`, 10240, { index: i, seed: i });

/** Rejects with StoreError (the contract's failure), not a synchronous throw. */
async function expectStoreError(call: () => Promise<unknown>): Promise<void> {
  await expect(call()).rejects.toBeInstanceOf(StoreError);
}

describe('MemoryStore', () => {
  it("is kind 'memory', not persistent, evicting, not shared, with a 256 MiB default budget", () => {
    const s = new MemoryStore();
    expect(s.kind).toBe('memory');
    expect(s.capabilities).toEqual({ persistent: false, evicts: true, shared: false });
    expect(s.maxBytes).toBe(DEFAULT_MAX_BYTES);
    expect(DEFAULT_MAX_BYTES).toBe(256 * 1024 * 1024);
    expect(() => new MemoryStore({ maxBytes: 0 })).toThrow(StoreError);
    expect(() => new MemoryStore({ maxBytes: 1.5 })).toThrow(StoreError);
  });

  it('evicts the least recently used waveforms to stay within maxBytes', async () => {
    const maxBytes = 10 * WAVEFORM_BYTES; // room for 9 (each also carries a small overhead)
    const s = new MemoryStore({ maxBytes });
    for (let i = 0; i < 9; i++) await s.putWaveform(U, wf(i));
    expect((await s.stats()).waveform.entries).toBe(9);
    // Touch 0 and 1: now 2 is the least recently used.
    expect(await s.getWaveform(U, sampleKey(0), wf(0).timestamp)).not.toBeUndefined();
    expect(await s.getWaveform(U, sampleKey(1), wf(1).timestamp)).not.toBeUndefined();
    for (let i = 9; i < 30; i++) {
      await s.putWaveform(U, wf(i));
      expect(total(s)).toBeLessThanOrEqual(maxBytes);
    }
    // After 21 more puts the 9 most recent remain.
    const kept: number[] = [];
    for (let i = 0; i < 30; i++) if ((await s.getWaveform(U, sampleKey(i), wf(i).timestamp)) !== undefined) kept.push(i);
    expect(kept).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29]);
    expect((await s.stats()).waveform.entries).toBe(9);

    // Recency decides, not insertion order: with room for 9, touching 21 saves it from the next put.
    await s.getWaveform(U, sampleKey(21), wf(21).timestamp);
    await s.putWaveform(U, wf(30));
    expect(await s.getWaveform(U, sampleKey(21), wf(21).timestamp)).not.toBeUndefined();
    expect(await s.getWaveform(U, sampleKey(22), wf(22).timestamp)).toBeUndefined();
  });

  it('charges honest sizes: samples by byteLength, JSON by text length, the sync state once', async () => {
    const s = new MemoryStore();
    await s.putWaveform(U, wf(0));
    const w = (await s.stats()).waveform.bytes;
    expect(w).toBeGreaterThanOrEqual(WAVEFORM_BYTES);
    expect(w).toBeLessThan(WAVEFORM_BYTES + 512);
    const events = storedEvents(0, 100);
    await s.appendEvents(U, events);
    const text = events.reduce((n, e) => n + JSON.stringify(e.event).length, 0);
    // each event's text plus the joined array text kept for getEventsJson
    const listBytes = (await s.stats()).events.bytes;
    expect(listBytes).toBeGreaterThanOrEqual(2 * text);
    expect(listBytes).toBeLessThan(2 * text + 100 * 128);
    // a sync state adds a little, once, whether set with events or alone
    await s.putEventSync(U, sampleSync(100));
    const withSync = (await s.stats()).events.bytes;
    expect(withSync).toBeGreaterThan(listBytes);
    expect(withSync).toBeLessThan(listBytes + 128);
    await s.putEventSync(U, sampleSync(100, { probedAt: T0 }));
    expect((await s.stats()).events.bytes).toBe(withSync);
    await s.putInfo(U, sampleInfo(U), T0);
    expect((await s.stats()).device_info.bytes).toBeGreaterThanOrEqual(JSON.stringify(sampleInfo(U)).length);
    // an archived event: its fields' text, once
    const archived = (await s.archive.stats()).event_bytes;
    const fieldsText = events.reduce((n, e) => n + JSON.stringify(e.event).length - '"index":,'.length - String(e.event.index).length, 0);
    expect(archived).toBeGreaterThanOrEqual(fieldsText);
    expect(archived).toBeLessThan(fieldsText + 100 * 256);
    expect(total(s)).toBe(s['lru'].calculatedSize);
  });

  it('an evicted live list goes whole, with its sync state; the list restarts from index 0', async () => {
    const s = new MemoryStore({ maxBytes: 4 * WAVEFORM_BYTES });
    await s.appendEvents(U, storedEvents(0, 20), sampleSync(20));
    await s.appendEvents(V, storedEvents(0, 5));
    await s.putInfo(U, sampleInfo(U), T0);
    for (let i = 0; i < 4; i++) await s.putWaveform(U, wf(i)); // pushes out the oldest entries
    expect(await s.eventCount(U)).toBe(0);
    expect(await s.getEvents(U)).toEqual([]);
    expect(await s.getEvent(U, 0)).toBeUndefined();
    expect(await s.getEventsJson(U)).toBeUndefined();
    expect(await s.getEventSync(U)).toBeUndefined();
    expect((await s.stats()).events).toEqual({ entries: 0, bytes: 0 });
    await expectStoreError(() => s.appendEvents(U, storedEvents(20, 1))); // nothing to continue
    await s.appendEvents(U, storedEvents(0, 2));
    expect(await s.eventCount(U)).toBe(2);
  });

  it('a sync state set alone is the list entry: it is evicted as one with the events appended later', async () => {
    const s = new MemoryStore({ maxBytes: 2 * WAVEFORM_BYTES });
    await s.putEventSync(U, sampleSync(0));
    await s.appendEvents(U, storedEvents(0, 3));
    expect([...s['lru'].values()].filter((e) => e.kind === 'events').length).toBe(1);
    await s.putWaveform(V, wf(0));
    await s.putWaveform(V, wf(1)); // the list is the least recently used: it leaves whole
    expect(await s.getEventSync(U)).toBeUndefined();
    expect(await s.eventCount(U)).toBe(0);
    expect((await s.stats()).events).toEqual({ entries: 0, bytes: 0 });
  });

  it('identities and leases sit outside the LRU: byte pressure never evicts them', async () => {
    const s = new MemoryStore({ maxBytes: 2 * WAVEFORM_BYTES });
    const holder = sampleHolder('relay-1:4242:aa#1', T0 + 30_000);
    await s.putIdentity(ADDRESS, { serial: U, confirmedAt: T0 });
    await s.leases.tryAcquire(unitScope(U), holder, { now: T0 });
    await s.putInfo(U, sampleInfo(U), T0);
    for (let i = 0; i < 6; i++) await s.putWaveform(V, wf(i));
    expect(await s.getInfo(U)).toBeUndefined(); // evicted
    expect(await s.getIdentity(ADDRESS)).toEqual({ serial: U, confirmedAt: T0 });
    expect(await s.leases.tryAcquire(unitScope(U), sampleHolder('relay-2:1:bb#1', T0 + 30_001), { now: T0 + 1 })).toEqual({ acquired: false, heldBy: holder });
    // the unit's entries are gone already: clearing counts nothing, and forgets the identity
    expect(await s.clearConnection(ADDRESS)).toEqual({ device_info: 0, events: 0, waveform: 0, monitor_status: 0 });
    expect(await s.getIdentity(ADDRESS)).toBeUndefined();
  });

  it('an entry larger than the whole budget is not kept, and what its key held is dropped', async () => {
    const s = new MemoryStore({ maxBytes: WAVEFORM_BYTES / 2 });
    await s.putWaveform(U, sampleWaveform(sampleKey(0), null, 64));
    expect((await s.stats()).waveform.entries).toBe(1);
    await s.putWaveform(U, sampleWaveform(sampleKey(0), null, 10240));
    expect(await s.getWaveform(U, sampleKey(0), null)).toBeUndefined();
    expect((await s.stats()).waveform).toEqual({ entries: 0, bytes: 0 });
    // a live list that outgrows the budget is dropped whole, sync included
    await s.appendEvents(U, storedEvents(0, 10), sampleSync(10));
    await s.appendEvents(U, storedEvents(10, 200));
    expect(await s.eventCount(U)).toBe(0);
    expect(await s.getEventSync(U)).toBeUndefined();
    expect((await s.stats()).events).toEqual({ entries: 0, bytes: 0 });
    expect(await cacheBytes(s)).toBe(0);
  });

  it('stays consistent under random churn with a small budget', async () => {
    const serials = [U, V, `${U}0`];
    const addressOf = (u: number): string => `tcp:10.20.0.${u}:12345`;
    const op = fc.oneof(
      fc.record({ t: fc.constant('events' as const), u: fc.nat(2), n: fc.integer({ min: 1, max: 30 }), sync: fc.boolean() }),
      fc.record({ t: fc.constant('sync' as const), u: fc.nat(2), n: fc.nat(40) }),
      fc.record({ t: fc.constant('wave' as const), u: fc.nat(2), k: fc.nat(6), len: fc.integer({ min: 1, max: 6000 }) }),
      fc.record({ t: fc.constant('info' as const), u: fc.nat(2) }),
      fc.record({ t: fc.constant('status' as const), u: fc.nat(2) }),
      fc.record({ t: fc.constant('read' as const), u: fc.nat(2), k: fc.nat(6) }),
      fc.record({ t: fc.constant('drop' as const), u: fc.nat(2) }),
      fc.record({ t: fc.constant('identify' as const), u: fc.nat(2) }),
      fc.record({ t: fc.constant('clear' as const), u: fc.nat(2) }),
      fc.record({ t: fc.constant('session' as const), u: fc.nat(2) }),
      fc.record({ t: fc.constant('review' as const), u: fc.nat(2) }),
      fc.record({ t: fc.constant('retain' as const), age: fc.nat(60), budget: fc.integer({ min: 0, max: 60_000 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), fc.integer({ min: 20_000, max: 120_000 }), async (ops, maxBytes) => {
        const s = new MemoryStore({ maxBytes });
        for (const [step, o] of ops.entries()) {
          const serial = o.t === 'retain' ? U : serials[o.u]!;
          if (o.t === 'events') await s.appendEvents(serial, storedEvents(await s.eventCount(serial), o.n, T0 + step), o.sync ? sampleSync(o.n) : undefined);
          else if (o.t === 'sync') await s.putEventSync(serial, sampleSync(o.n));
          else if (o.t === 'wave') await s.putWaveform(serial, sampleWaveform(sampleKey(o.k), null, o.len));
          else if (o.t === 'info') await s.putInfo(serial, sampleInfo(serial), T0);
          else if (o.t === 'status') await s.putStatus(serial, sampleStatus(), T0);
          else if (o.t === 'read') await s.getWaveform(serial, sampleKey(o.k), null);
          else if (o.t === 'drop') await s.dropEvents(serial);
          else if (o.t === 'identify') await s.putIdentity(addressOf(o.u), { serial, confirmedAt: T0 });
          else if (o.t === 'clear') await s.clearConnection(addressOf(o.u));
          else if (o.t === 'session') await s.archive.recordSession(sampleSession(serial, { started_at: new Date(T0 + step).toISOString() }));
          else if (o.t === 'review') {
            const [newest] = (await s.archive.events({ serial, limit: 1 })).items;
            if (newest) await s.archive.review(newest.id, { notes: `step ${step}` });
          } else await s.archive.retain({ receivedBefore: T0 + o.age, waveformBytes: o.budget });

          // The budget holds, and stats agree with what is actually there.
          expect(total(s)).toBeLessThanOrEqual(maxBytes);
          expect(total(s)).toBe(s['lru'].calculatedSize);
          let events = 0;
          let waveforms = 0;
          for (const x of serials) {
            const list = await s.getEvents(x);
            expect(list.map((e) => e.event.index)).toEqual(list.map((_, i) => i)); // never a hole
            expect(await s.eventCount(x)).toBe(list.length);
            if (list.length === 0) expect(await s.getEventsJson(x)).toBeUndefined();
            events += list.length;
            for (let k = 0; k <= 6; k++) if (await s.getWaveform(x, sampleKey(k), null)) waveforms++;
          }
          const st = await s.stats();
          expect(st.events.entries).toBe(events);
          expect(st.waveform.entries).toBe(waveforms);
          // The archive's listings, counts and units agree with what its entries still hold.
          const archived = await everyArchived(s, {}, 7);
          const archive = await s.archive.stats();
          expect(new Set(archived.map((e) => e.id)).size).toBe(archived.length);
          expect(archive.events).toBe(archived.length);
          expect(archive.waveforms).toBe(waveforms);
          expect((await s.archive.units()).reduce((n, u) => n + u.event_count, 0)).toBe(archived.length);
          expect((await everySession(s, undefined, 3)).length).toBe(archive.sessions);
        }
        await s.close();
      }),
      { numRuns: 40 },
    );
  });

  it('archived events and sessions leave under byte pressure like everything else; listings, counts and the fleet stay consistent', async () => {
    // two waveforms and room for a few archived events besides
    const maxBytes = 2 * WAVEFORM_BYTES + 8_000;
    const s = new MemoryStore({ maxBytes });
    await s.putIdentity(ADDRESS, { serial: U, confirmedAt: T0 });
    await s.appendEvents(U, storedEvents(0, 20, T0));
    await s.dropEvents(U);
    await s.archive.recordSession(sampleSession(U));
    const before = await everyArchived(s);
    const [newest] = before;
    const oldest = before.at(-1)!;
    await s.archive.event(newest!.id); // used: the least recently used go first
    for (let i = 0; i < 2; i++) await s.putWaveform(V, wf(i));
    expect(total(s)).toBeLessThanOrEqual(maxBytes);
    expect(total(s)).toBe(s['lru'].calculatedSize);

    const kept = await everyArchived(s);
    expect(kept.length).toBeGreaterThan(1);
    expect(kept.length).toBeLessThan(20);
    expect(kept.map((e) => e.id)).toContain(newest!.id);
    expect(await s.archive.event(oldest.id)).toBeUndefined();
    for (const e of kept) expect(await s.archive.event(e.id)).toEqual(e);
    expect((await s.archive.stats()).events).toBe(kept.length);
    // the unit is still listed, as it was seen
    const unit = (await s.archive.unit(U))!;
    expect([unit.event_count, unit.first_seen, unit.last_address]).toEqual([kept.length, new Date(T0).toISOString(), ADDRESS]);
    expect(unit.last_event).toEqual(kept[0] ?? null);
    // read again from the unit: what was forgotten is archived anew
    expect(await s.appendEvents(U, storedEvents(0, 20, T0 + 1))).toEqual({ archivedNew: 20 - kept.length });
  });

  it('close() releases everything, is idempotent, and later calls reject with StoreError', async () => {
    const s = new MemoryStore();
    await s.putWaveform(U, wf(0));
    await s.putIdentity(ADDRESS, { serial: U, confirmedAt: T0 });
    await s.close();
    await s.close();
    expect(s['lru'].size).toBe(0);
    expect(s['identities'].size).toBe(0);
    await expectStoreError(() => s.stats());
    await expectStoreError(() => s.getIdentity(ADDRESS));
    await expectStoreError(() => s.leases.tryAcquire(unitScope(U), sampleHolder('o#1', T0), { now: T0 }));
  });
});
