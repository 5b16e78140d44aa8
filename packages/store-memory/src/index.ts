/** @sfm/store-memory — the in-process cache Store on lru-cache, bounded by bytes. */
export * from './memory-store.js';
export * from './plugin.js';
