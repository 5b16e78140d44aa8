import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CACHE_KINDS, StoreError, type UnitId } from '@sfm/core';
import { sampleInfo, sampleKey, sampleStatus, sampleWaveform, storedEvents, storeContractSuite } from '@sfm/test-kit';
import { DEFAULT_MAX_BYTES, MemoryStore } from './index.js';

storeContractSuite('memory', () => new MemoryStore(), { describe, it, expect, beforeEach, afterEach });

const u: UnitId = { connKey: 'tcp:10.20.0.7:12345', serial: 'BE18189' };
const v: UnitId = { connKey: 'tcp:10.20.0.7:12345', serial: 'BE20001' };
const T0 = 1_775_000_000_000;
const WAVEFORM_BYTES = 4 * 10240 * 2; // one 10-s, 1024-sps waveform's samples
const total = (s: MemoryStore): number => CACHE_KINDS.reduce((n, k) => n + s.stats()[k].bytes, 0);
const wf = (i: number) => sampleWaveform(sampleKey(i), `2026-04-09T07:00:${String(i).padStart(2, '0')}`, 10240, { index: i, seed: i });

describe('MemoryStore', () => {
  it("is kind 'memory', not persistent, evicting, with a 256 MiB default budget", () => {
    const s = new MemoryStore();
    expect(s.kind).toBe('memory');
    expect(s.capabilities).toEqual({ persistent: false, evicts: true });
    expect(s.maxBytes).toBe(DEFAULT_MAX_BYTES);
    expect(DEFAULT_MAX_BYTES).toBe(256 * 1024 * 1024);
    expect(() => new MemoryStore({ maxBytes: 0 })).toThrow(StoreError);
    expect(() => new MemoryStore({ maxBytes: 1.5 })).toThrow(StoreError);
  });

  it('evicts the least recently used waveforms to stay within maxBytes', () => {
    const maxBytes = 10 * WAVEFORM_BYTES; // room for 9 (each also carries a small overhead)
    const s = new MemoryStore({ maxBytes });
    for (let i = 0; i < 9; i++) s.putWaveform(u, wf(i));
    expect(s.stats().waveform.entries).toBe(9);
    // Touch 0 and 1: now 2 is the least recently used.
    expect(s.getWaveform(u, sampleKey(0), wf(0).timestamp)).not.toBeUndefined();
    expect(s.getWaveform(u, sampleKey(1), wf(1).timestamp)).not.toBeUndefined();
    for (let i = 9; i < 30; i++) {
      s.putWaveform(u, wf(i));
      expect(total(s)).toBeLessThanOrEqual(maxBytes);
      expect(s.stats().waveform.bytes).toBeLessThanOrEqual(maxBytes);
    }
    // After 21 more puts the 9 most recent remain.
    const kept = Array.from({ length: 30 }, (_, i) => i).filter((i) => s.getWaveform(u, sampleKey(i), wf(i).timestamp) !== undefined);
    expect(kept).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29]);
    expect(s.stats().waveform.entries).toBe(9);

    // Recency decides, not insertion order: with room for 9, touching 21 saves it from the next put.
    s.getWaveform(u, sampleKey(21), wf(21).timestamp);
    s.putWaveform(u, wf(30));
    expect(s.getWaveform(u, sampleKey(21), wf(21).timestamp)).not.toBeUndefined();
    expect(s.getWaveform(u, sampleKey(22), wf(22).timestamp)).toBeUndefined();
  });

  it('charges honest sizes: samples by byteLength, JSON by text length', () => {
    const s = new MemoryStore();
    s.putWaveform(u, wf(0));
    const w = s.stats().waveform.bytes;
    expect(w).toBeGreaterThanOrEqual(WAVEFORM_BYTES);
    expect(w).toBeLessThan(WAVEFORM_BYTES + 512);
    const events = storedEvents(0, 100);
    s.appendEvents(u, events);
    const text = events.reduce((n, e) => n + JSON.stringify(e.event).length, 0);
    // each event's text plus the joined array text kept for getEventsJson
    expect(s.stats().events.bytes).toBeGreaterThanOrEqual(2 * text);
    expect(s.stats().events.bytes).toBeLessThan(2 * text + 100 * 128);
    s.putInfo(u, sampleInfo(u.serial), T0);
    expect(s.stats().device_info.bytes).toBeGreaterThanOrEqual(JSON.stringify(sampleInfo(u.serial)).length);
  });

  it('an evicted event list goes whole, with its sync state; the list restarts from index 0', () => {
    const s = new MemoryStore({ maxBytes: 4 * WAVEFORM_BYTES });
    s.appendEvents(u, storedEvents(0, 20), { first: sampleKey(0), last: sampleKey(19), syncedAt: T0 });
    s.appendEvents(v, storedEvents(0, 5));
    s.putInfo(u, sampleInfo(u.serial), T0);
    for (let i = 0; i < 4; i++) s.putWaveform(u, wf(i)); // pushes out the oldest entries
    expect(s.eventCount(u)).toBe(0);
    expect(s.getEvents(u)).toEqual([]);
    expect(s.getEvent(u, 0)).toBeUndefined();
    expect(s.getEventsJson(u)).toBeUndefined();
    expect(s.getEventSync(u)).toBeUndefined();
    expect(s.stats().events).toEqual({ entries: 0, bytes: 0 });
    expect(() => s.appendEvents(u, storedEvents(20, 1))).toThrow(StoreError); // nothing to continue
    s.appendEvents(u, storedEvents(0, 2));
    expect(s.eventCount(u)).toBe(2);
  });

  it('an entry larger than the whole budget is not kept, and what its key held is dropped', () => {
    const s = new MemoryStore({ maxBytes: WAVEFORM_BYTES / 2 });
    s.putWaveform(u, sampleWaveform(sampleKey(0), null, 64));
    expect(s.stats().waveform.entries).toBe(1);
    s.putWaveform(u, sampleWaveform(sampleKey(0), null, 10240));
    expect(s.getWaveform(u, sampleKey(0), null)).toBeUndefined();
    expect(s.stats().waveform).toEqual({ entries: 0, bytes: 0 });
    // an event list that outgrows the budget is dropped whole, sync included
    s.appendEvents(u, storedEvents(0, 10), { first: 1, last: 2, syncedAt: T0 });
    s.appendEvents(u, storedEvents(10, 200));
    expect(s.eventCount(u)).toBe(0);
    expect(s.getEventSync(u)).toBeUndefined();
    expect(s.stats().events).toEqual({ entries: 0, bytes: 0 });
  });

  it('stays consistent under random churn with a small budget', () => {
    const units: UnitId[] = [u, v, { connKey: 'serial:/dev/ttyS0:38400', serial: 'BE18189' }];
    const op = fc.oneof(
      fc.record({ t: fc.constant('events' as const), u: fc.nat(2), n: fc.integer({ min: 1, max: 30 }), sync: fc.boolean() }),
      fc.record({ t: fc.constant('wave' as const), u: fc.nat(2), k: fc.nat(6), len: fc.integer({ min: 1, max: 6000 }) }),
      fc.record({ t: fc.constant('info' as const), u: fc.nat(2) }),
      fc.record({ t: fc.constant('status' as const), u: fc.nat(2) }),
      fc.record({ t: fc.constant('read' as const), u: fc.nat(2), k: fc.nat(6) }),
      fc.record({ t: fc.constant('drop' as const), u: fc.nat(2) }),
      fc.record({ t: fc.constant('clear' as const), u: fc.nat(2) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 20_000, max: 120_000 }), (ops, maxBytes) => {
        const s = new MemoryStore({ maxBytes });
        for (const o of ops) {
          const unit = units[o.u]!;
          if (o.t === 'events') s.appendEvents(unit, storedEvents(s.eventCount(unit), o.n), o.sync ? { first: 0, last: o.n, syncedAt: T0 } : undefined);
          else if (o.t === 'wave') s.putWaveform(unit, sampleWaveform(sampleKey(o.k), null, o.len));
          else if (o.t === 'info') s.putInfo(unit, sampleInfo(unit.serial), T0);
          else if (o.t === 'status') s.putStatus(unit, sampleStatus(), T0);
          else if (o.t === 'read') s.getWaveform(unit, sampleKey(o.k), null);
          else if (o.t === 'drop') s.dropEvents(unit);
          else s.clearConnection(unit.connKey);

          // The budget holds, and stats agree with what is actually there.
          expect(total(s)).toBeLessThanOrEqual(maxBytes);
          const lru = s['lru'];
          expect(total(s)).toBe(lru.calculatedSize);
          let events = 0;
          let waveforms = 0;
          for (const x of units) {
            const list = s.getEvents(x);
            expect(list.map((e) => e.event.index)).toEqual(list.map((_, i) => i)); // never a hole
            expect(s.eventCount(x)).toBe(list.length);
            if (list.length === 0 && s.getEventSync(x) === undefined) expect(s.getEventsJson(x)).toBeUndefined();
            events += list.length;
            for (let k = 0; k <= 6; k++) if (s.getWaveform(x, sampleKey(k), null)) waveforms++;
          }
          expect(s.stats().events.entries).toBe(events);
          expect(s.stats().waveform.entries).toBe(waveforms);
        }
        s.close();
      }),
      { numRuns: 40 },
    );
  });

  it('close() releases everything', () => {
    const s = new MemoryStore();
    s.putWaveform(u, wf(0));
    s.close();
    expect(s['lru'].size).toBe(0);
    expect(() => s.stats()).toThrow(StoreError);
  });
});
