/** @sfm/call-home — takes the calls of units that dial in (Auto Call Home) and archives what they hold. */
export * from './settings.js';
export * from './budget.js';
export * from './captures.js';
export * from './server.js';
export { plugin } from './plugin.js';
