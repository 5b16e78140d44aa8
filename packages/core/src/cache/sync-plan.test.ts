/** planSync as a table: what the cache holds + what the probe read → what the relay does. */
import { describe, expect, it } from 'vitest';
import { estimateEventCount, planSync, type CachedList, type ProbeReading, type SyncPlan } from './sync-plan.js';
import type { EventSyncState } from './store.js';

const K0 = 0x01110000;
const K1 = 0x01111000;
const K2 = 0x01112000;
const K3 = 0x01113000;

function sync(first: number, last: number, counter: number | null, complete = true): EventSyncState {
  return { first, last, counter, complete, probedAt: 0 };
}
function cached(count: number, s: EventSyncState | undefined, firstKey: number | undefined = count > 0 ? K0 : undefined): CachedList {
  return { count, firstKey, sync: s };
}
function probe(first: number, last: number, counter: number | null): ProbeReading {
  return { first, last, counter };
}

const cases: [name: string, c: CachedList, p: ProbeReading, force: boolean, want: SyncPlan][] = [
  ['nothing cached → read from the start', cached(0, undefined), probe(K0, K2, 2), false, { action: 'resync', reason: 'cold' }],
  ['forced → read again', cached(2, sync(K0, K2, 2)), probe(K0, K2, 2), true, { action: 'resync', reason: 'forced' }],
  ['same range, same counter → nothing', cached(2, sync(K0, K2, 2)), probe(K0, K2, 2), false, { action: 'none' }],
  ['an empty unit stays empty → nothing', cached(0, sync(K0, K0, 5)), probe(K0, K0, 5), false, { action: 'none' }],
  // The case the range alone cannot see: erased elsewhere, then refilled with as many equal-sized events.
  ['same range, counter grew → erased and refilled', cached(2, sync(K0, K2, 2)), probe(K0, K2, 4), false, { action: 'resync', reason: 'erased-and-refilled' }],
  ['counter went down → another unit or a reset', cached(2, sync(K0, K2, 9)), probe(K0, K3, 3), false, { action: 'resync', reason: 'counter-went-back' }],
  ['range grew, counter grew by one → one new event', cached(2, sync(K0, K2, 2)), probe(K0, K3, 3), false, { action: 'continue', expectNew: 1 }],
  ['an empty unit got events → read them, as many as counted', cached(0, sync(K0, K0, 5)), probe(K0, K2, 7), false, { action: 'continue', expectNew: 2 }],
  ['erased elsewhere, nothing since → empty', cached(2, sync(K0, K2, 2)), probe(K0, K0, 2), false, { action: 'resync', reason: 'erased' }],
  ['the first key moved → read again', cached(2, sync(K0, K2, 2)), probe(K1, K3, 3), false, { action: 'resync', reason: 'first-key-changed' }],
  ['the last key went back (erased, refilled less) → read again', cached(3, sync(K0, K3, 3)), probe(K0, K2, 5), false, { action: 'resync', reason: 'range-shrank' }],
  ['the range moved without a record → read again', cached(2, sync(K0, K2, 2)), probe(K0, K3, 2), false, { action: 'resync', reason: 'changed-without-record' }],
  ['a partial list, same range → read the rest', cached(1, sync(K0, K2, 2, false)), probe(K0, K2, 2), false, { action: 'continue', expectNew: null }],
  ['a partial list, range grew → read the rest (count unknown)', cached(1, sync(K0, K2, 2, false)), probe(K0, K3, 3), false, { action: 'continue', expectNew: null }],
  ['a partial list, same range, counter grew → erased and refilled', cached(1, sync(K0, K2, 2, false)), probe(K0, K2, 3), false, { action: 'resync', reason: 'erased-and-refilled' }],
  ['no counter from the unit: range grew → continue, count unknown', cached(2, sync(K0, K2, null)), probe(K0, K3, null), false, { action: 'continue', expectNew: null }],
  ['no counter from the unit: same range → nothing (the range is all it has)', cached(2, sync(K0, K2, null)), probe(K0, K2, null), false, { action: 'none' }],
  ['a cache from before the counter (null), now one → range rules', cached(2, sync(K0, K2, null)), probe(K0, K3, 7), false, { action: 'continue', expectNew: null }],
  ['events cached without a sync state → continue from them', cached(2, undefined), probe(K0, K3, 3), false, { action: 'continue', expectNew: null }],
];

describe('planSync', () => {
  it.each(cases)('%s', (_name, c, p, force, want) => {
    expect(planSync(c, p, force)).toEqual(want);
  });

  it('never answers "none" when the counter moved, whatever the range', () => {
    for (const [, c, p] of cases) {
      const moved = c.sync?.counter != null && p.counter !== null && p.counter !== c.sync.counter;
      if (moved) expect(planSync(c, p, false).action).not.toBe('none');
    }
  });
});

describe('estimateEventCount', () => {
  const probe = { first: 0x01110000, last: 0x01110000 + 5 * 0x2000 };
  it('from where an event starts: the events before it fill that share of the storage range', () => {
    expect(estimateEventCount(probe, 1, 0x01110000 + 0x2000)).toBe(5);
    expect(estimateEventCount(probe, 4, 0x01110000 + 4 * 0x2000)).toBe(5);
    // Events of another size: an estimate, never fewer than the events known to be there.
    expect(estimateEventCount(probe, 2, 0x01110000 + 2 * 0x1000)).toBe(10);
    expect(estimateEventCount(probe, 3, 0x01110000 + 3 * 0x3000)).toBe(4);
  });
  it('nothing to tell from the first event, nor from a key outside the range', () => {
    expect(estimateEventCount(probe, 0, 0x01110000)).toBeNull();
    expect(estimateEventCount(probe, 2, 0x01110000)).toBeNull();
    expect(estimateEventCount(probe, 2, probe.last + 0x100)).toBeNull();
  });
  it('keys that wrap past 0xFFFFFFFF count as offsets in the range', () => {
    expect(estimateEventCount({ first: 0xffff0000, last: 0x00030000 }, 1, 0x00000000)).toBe(4);
  });
});
