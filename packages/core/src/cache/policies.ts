/**
 * The cache policy of each kind of data, in one table, and what each write does to the cache.
 * The relay reads its rules from here (`servable`, `INVALIDATIONS`, `identityTtlMs`); the tests
 * check the rules against this table.
 */
import type { CacheKind } from './store.js';

export type PolicyRule =
  /** Kept until sfm writes config (then dirty → the next read refetches) or `force`. */
  | { rule: 'until-dirty' }
  /** Append-only: a cheap probe (identity, SUB 06, SUB 08), then only the new events; erase/swap → resync. */
  | { rule: 'append-only' }
  /** Immutable while its identity — (unit serial, event key, timestamp) — holds. */
  | { rule: 'immutable-while-identity' }
  /** Fresh for a time, then refetched. */
  | { rule: 'ttl'; ttlMs: number };

export const DEFAULT_STATUS_TTL_MS = 30_000;
export const DEFAULT_IDENTITY_TTL_MS = 300_000;

export interface CachePolicies {
  /** A hit needs no device I/O while the serial at the address was confirmed this recently. */
  identityTtlMs: number;
  kinds: Record<CacheKind, PolicyRule>;
}

export function cachePolicies(opts: { statusTtlMs?: number; identityTtlMs?: number } = {}): CachePolicies {
  return {
    identityTtlMs: opts.identityTtlMs ?? DEFAULT_IDENTITY_TTL_MS,
    kinds: {
      device_info: { rule: 'until-dirty' },
      events: { rule: 'append-only' },
      waveform: { rule: 'immutable-while-identity' },
      monitor_status: { rule: 'ttl', ttlMs: opts.statusTtlMs ?? DEFAULT_STATUS_TTL_MS },
    },
  };
}

/**
 * May a cached entry be served without asking the unit for it (once the unit's identity is
 * confirmed)? Events are decided by the probe (sync-plan.ts), so this answers for what is cached.
 */
export function servable(rule: PolicyRule, entry: { fetchedAt: number; dirty?: boolean }, now: number): boolean {
  switch (rule.rule) {
    case 'until-dirty':
      return entry.dirty !== true;
    case 'ttl':
      return now - entry.fetchedAt < rule.ttlMs;
    case 'append-only':
    case 'immutable-while-identity':
      return true;
  }
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
