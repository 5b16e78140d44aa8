export * from './device-registry.js';
export * from './logger.js';
export * from './http-contract.js';
export * from './tokens.js';
export * from './plugin.js';
export * from './config.js';
export * from './kernel.js';
