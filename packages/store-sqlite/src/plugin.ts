/** The store-sqlite plugin: the cache in a SQLite file (`store: "sqlite:PATH"`, the default ./data/sfm.db). */
import { ConfigError } from '@sfm/core';
import { TOKENS, type SfmPlugin } from '@sfm/core/kernel';
import { SqliteStore } from './sqlite-store.js';

export const plugin: SfmPlugin = {
  name: 'store-sqlite',
  provides: [TOKENS.Store],
  storeSchemes: ['sqlite'],
  register(ctx) {
    const path = ctx.config.settings.store.slice('sqlite:'.length);
    if (path === '') throw new ConfigError('store: sqlite: needs a path, as in sqlite:./data/sfm.db');
    ctx.provide(TOKENS.Store, { factory: () => new SqliteStore(path) });
  },
};
