export * from './transport.js';
export * from './stream-link.js';
