export * from './device-registry.js';
export * from './logger.js';
export * from './http-contract.js';
