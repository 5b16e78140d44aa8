import { defineConfig } from 'vitest/config';

// Workspace packages resolve to their TypeScript sources (the "sfm-source" export condition),
// so tests never run a stale build.
const conditions = ['sfm-source', 'module', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['sfm-source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts'],
    setupFiles: ['./packages/test-support/src/setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
