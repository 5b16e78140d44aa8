/**
 * The events sync decision as a pure function: what the cache holds for a unit and what the probe
 * just read (storage range SUB 06 + lifetime counter SUB 08) → what to do. The relay carries the
 * plan out; sync-plan.test.ts is the table of cases.
 *
 * Why the counter: after an erase keys restart at 01110000 and are address-based, so an erase
 * followed by as many equal-sized events gives the same range. The SUB 08 counter counts every
 * record the unit ever made and survives an erase (protocol.md §9.1 note): the same range with a
 * higher counter is an erase and a refill.
 */
import type { EventSyncState } from './store.js';

export interface ProbeReading {
  first: number;
  /** The key the next record will get (first === last: the unit is empty). */
  last: number;
  /** The lifetime record counter; null when the unit gave none. */
  counter: number | null;
}

export interface CachedList {
  /** Events in the cached live list. */
  count: number;
  /** Key of the cached list's first event (undefined when the list is empty). */
  firstKey: number | undefined;
  sync: EventSyncState | undefined;
}

export type ResyncReason =
  | 'cold' // nothing cached
  | 'forced'
  | 'counter-went-back' // another unit, or its counter was reset
  | 'erased-and-refilled' // same range, more records
  | 'erased' // the unit is empty now
  | 'first-key-changed'
  | 'range-shrank'
  | 'changed-without-record'; // the range moved although nothing was recorded

export type SyncPlan =
  /** The cached list is the unit's list: nothing to read. */
  | { action: 'none' }
  /**
   * Read the records after the last cached one. `expectNew` is how many the counter says were
   * recorded since a complete sync (null: unknown); a different number read means the list changed
   * under the cache, and it is re-read.
   */
  | { action: 'continue'; expectNew: number | null }
  /** Drop the cached list and read it from the start (cached waveforms stay: they are identity-checked). */
  | { action: 'resync'; reason: ResyncReason };

export function planSync(cached: CachedList, probe: ProbeReading, force: boolean): SyncPlan {
  const { sync } = cached;
  if (force) return { action: 'resync', reason: 'forced' };
  if (cached.count === 0 && !sync) return { action: 'resync', reason: 'cold' };
  const counted = sync !== undefined && sync.counter !== null && probe.counter !== null;
  if (counted && probe.counter! < sync.counter!) return { action: 'resync', reason: 'counter-went-back' };
  const sameRange = sync !== undefined && sync.first === probe.first && sync.last === probe.last;
  const recorded = counted ? probe.counter! - sync.counter! : null;
  if (sameRange) {
    if (recorded !== null && recorded > 0) return { action: 'resync', reason: 'erased-and-refilled' };
    return sync.complete ? { action: 'none' } : { action: 'continue', expectNew: null };
  }
  if (probe.first === probe.last) return { action: 'resync', reason: 'erased' };
  if (cached.firstKey !== undefined && cached.firstKey !== probe.first) return { action: 'resync', reason: 'first-key-changed' };
  if (sync !== undefined && probe.last < sync.last) return { action: 'resync', reason: 'range-shrank' };
  if (recorded === 0) return { action: 'resync', reason: 'changed-without-record' };
  return { action: 'continue', expectNew: sync?.complete && recorded !== null ? recorded : null };
}

/**
 * How many events the unit holds, estimated from the probe's storage range and where the event at
 * `index` starts: keys are offsets in the unit's event memory, so the `index` events before it
 * fill `key - first` of the range's `last - first` (events differ in size: an estimate). Null when
 * nothing before it tells (the first event).
 */
export function estimateEventCount(probe: Pick<ProbeReading, 'first' | 'last'>, index: number, key: number): number | null {
  const used = (key - probe.first) >>> 0;
  const span = (probe.last - probe.first) >>> 0;
  if (index < 1 || used === 0 || used > span) return null;
  return Math.max(index + 1, Math.round((index * span) / used));
}
