/** @sfm/store-postgres — the cache Store on PostgreSQL, shared by several relays. */
export * from './postgres-store.js';
export { MIGRATIONS, SCHEMA_VERSION, migrate, type Migration } from './schema.js';
export { CHANNEL } from './change-feed.js';
export * from './plugin.js';
