/**
 * @sfm/core — what every package shares: the error base, the clock and the contract's types.
 * Everything else is imported from its own subpath: `@sfm/core/protocol` (the codec),
 * `/client` (the device client), `/capture` (raw session captures), `/transport`, `/cache` (the
 * policy engine and the Store contract), `/service` (DeviceAccess, waveforms), `/analysis` (what an
 * event means: figures and compliance), `/schema` (the shapes), `/kernel` (the microkernel and its DI tokens).
 */
export * from './errors.js';
export * from './clock.js';
export type * from './model.js';
