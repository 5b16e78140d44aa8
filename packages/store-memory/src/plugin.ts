/** The store-memory plugin: the cache in process memory, bounded by bytes (`store: "memory"`; nothing persists). */
import { Type } from '@sinclair/typebox';
import { TOKENS, type SfmPlugin } from '@sfm/core/kernel';
import { DEFAULT_MAX_BYTES, MemoryStore } from './memory-store.js';

const settings = Type.Object({
  store_max_bytes: Type.Integer({ description: 'the memory store\'s byte budget over every kind', default: DEFAULT_MAX_BYTES, minimum: 1024 * 1024, maximum: 64 * 1024 ** 3 }),
});

export const plugin: SfmPlugin<typeof settings> = {
  name: 'store-memory',
  provides: [TOKENS.Store],
  storeSchemes: ['memory'],
  settings,
  register(ctx) {
    ctx.provide(TOKENS.Store, { factory: () => new MemoryStore({ maxBytes: ctx.settings.store_max_bytes }) });
  },
};
