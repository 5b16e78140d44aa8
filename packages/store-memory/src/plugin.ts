/** The store-memory plugin: the cache in process memory, bounded by bytes (nothing persists). */
import { TOKENS, instanceCachingFactory, type SfmPlugin } from '@sfm/core';
import { MemoryStore } from './memory-store.js';

export const plugin: SfmPlugin = {
  name: 'store-memory',
  provides: 'store',
  register(c, config) {
    const s = config.store;
    if (s.kind !== 'memory') return; // loaded but not chosen
    c.register(TOKENS.Store, { useFactory: instanceCachingFactory(() => new MemoryStore({ maxBytes: s.maxBytes })) });
  },
};
