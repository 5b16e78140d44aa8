/** The store-sqlite plugin: the cache in a SQLite file (the default, ./data/sfm.db). */
import { TOKENS, instanceCachingFactory, type SfmPlugin } from '@sfm/core';
import { SqliteStore } from './sqlite-store.js';

export const plugin: SfmPlugin = {
  name: 'store-sqlite',
  provides: 'store',
  register(c, config) {
    const s = config.store;
    if (s.kind !== 'sqlite') return; // loaded but not chosen
    c.register(TOKENS.Store, { useFactory: instanceCachingFactory(() => new SqliteStore(s.path)) });
  },
};
