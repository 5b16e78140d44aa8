/** Test helpers shared by every package's tests (not part of the runtime API). */
export * from './golden.js';
