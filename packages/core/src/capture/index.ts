/** @sfm/core/capture — raw session captures: the file format, a writer and a reader, recording links and relayed streams. */
export * from './format.js';
export * from './writer.js';
export * from './record-link.js';
export * from './relay.js';
export * from './timeline.js';
