/** @sfm/test-support — what the packages' tests share (imported by name, never shipped). */
export * from './clock.js';
export * from './golden.js';
export * from './http.js';
export * from './units.js';
export * from './metrics.js';
