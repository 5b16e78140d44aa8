/** @sfm/core/kernel — the microkernel, its DI tokens, the plugin contract and the settings. */
export * from './device-registry.js';
export * from './logger.js';
export * from './metrics.js';
export * from './tokens.js';
export * from './plugin.js';
export * from './settings.js';
export * from './config.js';
export * from './kernel.js';
