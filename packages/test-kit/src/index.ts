/** @sfm/test-kit — the Store contract suite, reference Stores and fixture builders for tests. */
export * from './fixtures.js';
export * from './reference-store.js';
export * from './shared-reference.js';
export * from './contract-suite.js';
