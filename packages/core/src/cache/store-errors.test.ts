/** countingStoreErrors: the store itself, plus a count of what it could not do, by operation. */
import { describe, expect, it } from 'vitest';
import { ProcessLeases } from './process-leases.js';
import { StoreError, StoreUnavailable, type Store } from './store.js';
import { countingStoreErrors } from './store-errors.js';
import type { Labels, MetricName, Metrics } from '../kernel/metrics.js';

function recorder(): Metrics & { counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  return {
    counts,
    inc<N extends MetricName>(name: N, labels: Labels<N>, by = 1) {
      const k = `${name}:${Object.values(labels).join(',')}`;
      counts[k] = (counts[k] ?? 0) + by;
    },
    set() {},
    observe() {},
  };
}

/** Just enough of a store: answers, one failure of each kind, a synchronous call. */
function fakeStore(): Store {
  let polled = 0;
  return {
    kind: 'fake',
    leases: Object.assign(new ProcessLeases(() => undefined), { release: () => Promise.reject(new StoreUnavailable('read-only')) }),
    pollChanges: () => void polled++,
    getInfo: async () => ({ polled }),
    putInfo: () => Promise.reject(new StoreUnavailable('disk full')),
    markInfoDirty: () => Promise.reject(new StoreError('a bug, not an outage')),
  } as unknown as Store;
}

describe('countingStoreErrors', () => {
  it('passes results and errors through; counts StoreUnavailable by operation, leases included', async () => {
    const m = recorder();
    const s = countingStoreErrors(fakeStore(), m);
    expect(s.pollChanges()).toBeUndefined(); // still synchronous
    expect(await s.getInfo('BE1')).toEqual({ polled: 1 });
    await expect(s.putInfo('BE1', {} as never, 0)).rejects.toBeInstanceOf(StoreUnavailable);
    await expect(s.putInfo('BE1', {} as never, 0)).rejects.toThrow(/disk full/);
    await expect(s.markInfoDirty('BE1')).rejects.toBeInstanceOf(StoreError);
    await expect(s.leases.release('k', 'o')).rejects.toBeInstanceOf(StoreUnavailable);
    expect(await s.leases.tryAcquire('k', { owner: 'o', host: 'h', pid: 1, expiresAt: 10 }, { now: 0 })).toEqual({ acquired: true });
    expect(s.kind).toBe('fake');
    expect(m.counts).toEqual({ 'sfm_store_errors_total:putInfo': 2, 'sfm_store_errors_total:leases.release': 1 });
  });
});
