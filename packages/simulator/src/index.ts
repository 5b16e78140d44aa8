/** @sfm/simulator — an emulated MiniMate Plus unit that answers the wire protocol like the real one. */
export * from './unit.js';
export * from './session.js';
export * from './server.js';
export * from './link.js';
export * from './faults.js';
export * from './stats.js';
export * from './control.js';
export * from './start.js';
export { synthesizeEvent, computePeaks, type EventChannels, type SignalSpec } from './signals.js';
export { Prng, mixSeed } from './prng.js';
export { duplexPair } from './pipe.js';
export { SessionHarness } from './harness.js';
export { WireClient } from './wire-client.js';
export * from './plugin.js';
