/** The store-postgres plugin: the cache on a PostgreSQL server (`store: "postgres://user:password@host:port/database"`). */
import { TOKENS, type SfmPlugin } from '@sfm/core/kernel';
import { PostgresStore } from './postgres-store.js';

export const plugin: SfmPlugin = {
  name: 'store-postgres',
  provides: [TOKENS.Store],
  storeSchemes: ['postgres', 'postgresql'],
  async register(ctx) {
    // Connected (and migrated) at boot: a server that cannot be reached stops sfm at once, with the reason.
    ctx.provide(TOKENS.Store, { value: await PostgresStore.open(ctx.config.settings.store) });
  },
};
