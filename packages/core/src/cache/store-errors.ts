/**
 * A view of a store that counts the operations it could not do (StoreUnavailable: read-only,
 * disk full, database down) in `sfm_store_errors_total{operation}`, and is otherwise the store
 * itself: same results, same errors, synchronous calls stay synchronous.
 */
import type { Metrics } from '../kernel/metrics.js';
import { StoreUnavailable, type Store } from './store.js';

export function countingStoreErrors(store: Store, metrics: Metrics): Store {
  const counted = <T extends object>(target: T, prefix: string): T => {
    // One wrapper per method, made on first use (hits call some of them every time).
    const wrappers = new Map<string, (...args: unknown[]) => unknown>();
    return new Proxy(target, {
      get(t, prop, receiver) {
        const v = Reflect.get(t, prop, receiver) as unknown;
        if (typeof v !== 'function' || typeof prop !== 'string') return v;
        let w = wrappers.get(prop);
        if (!w) {
          const operation = prefix + prop;
          w = (...args: unknown[]) => {
            const r = (v as (...a: unknown[]) => unknown).apply(t, args);
            if (!(r instanceof Promise)) return r;
            return r.catch((e: unknown) => {
              if (e instanceof StoreUnavailable) metrics.inc('sfm_store_errors_total', { operation });
              throw e;
            });
          };
          wrappers.set(prop, w);
        }
        return w;
      },
    });
  };
  const view = counted(store, '');
  const leases = counted(store.leases, 'leases.');
  return new Proxy(view, { get: (t, prop, receiver) => (prop === 'leases' ? leases : Reflect.get(t, prop, receiver)) });
}
