export * from './errors.js';
export * from './request-channel.js';
export * from './device-event.js';
export * from './minimate-client.js';
