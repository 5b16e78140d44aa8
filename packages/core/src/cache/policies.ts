/**
 * The cache policy of each kind of data, in one table, and what each write does to the cache.
 * The relay service reads its rules from here; the tests check the rules against this table.
 */
import type { CacheKind } from './store.js';

export type PolicyRule =
  /** Kept until sfm writes config (then dirty → the next read refetches) or `force`. */
  | { rule: 'until-dirty' }
  /** Append-only: a cheap probe (SUB 06), then only the new events; erase/swap → resync. */
  | { rule: 'append-only' }
  /** Immutable while its identity — (unit serial, event key, timestamp) — holds. */
  | { rule: 'immutable-while-identity' }
  /** Fresh for a time, then refetched. */
  | { rule: 'ttl'; ttlMs: number };

export const DEFAULT_STATUS_TTL_MS = 30_000;

export function cachePolicies(statusTtlMs = DEFAULT_STATUS_TTL_MS): Record<CacheKind, PolicyRule> {
  return {
    device_info: { rule: 'until-dirty' },
    events: { rule: 'append-only' },
    waveform: { rule: 'immutable-while-identity' },
    monitor_status: { rule: 'ttl', ttlMs: statusTtlMs },
  };
}

export type UnitWrite = 'config-write' | 'monitor-start' | 'monitor-stop' | 'erase' | 'call-home-write';

/** What each write through sfm does to the unit's cache. */
export const INVALIDATIONS: Record<UnitWrite, { dirty?: CacheKind[]; drop?: CacheKind[] }> = {
  'config-write': { dirty: ['device_info'] },
  'monitor-start': { drop: ['monitor_status'] },
  'monitor-stop': { drop: ['monitor_status'] },
  erase: { drop: ['events', 'waveform'] },
  'call-home-write': {},
};
