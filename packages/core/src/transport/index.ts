export * from './transport.js';
export * from './stream-link.js';
export * from './registry.js';
export * from './address.js';
