export * from './body.js';
export * from './device-access.js';
export * from './direct-device-access.js';
export * from '../waveform.js';
export * from './archive-export.js';
export * from './progress.js';
