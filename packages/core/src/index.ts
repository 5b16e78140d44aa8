/** @sfm/core — the protocol codec, the device client and the cache policy engine. */
export * from './model.js';
export * from './protocol/index.js';
export * from './transport/index.js';
export * from './client/index.js';
export * from './clock.js';
export * from './waveform.js';
export * from './service/index.js';
export * from './cache/index.js';
export * from './kernel/index.js';
