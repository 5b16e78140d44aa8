/** @sfm/test-kit — the Store contract suite, a reference Store and fixture builders for tests. */
export * from './fixtures.js';
export * from './reference-store.js';
export * from './contract-suite.js';
