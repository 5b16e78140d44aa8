/** @sfm/core — the protocol codec, the device client and the cache policy engine. */
export * from './model.js';
export * from './protocol/index.js';
export * from './transport/index.js';
export * from './client/errors.js';
