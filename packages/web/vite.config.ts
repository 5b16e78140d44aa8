import { defineConfig } from 'vite';

// Static files for sfm serve to serve at /: hashed names under assets/ (cached for good), no
// source maps, nothing loaded from elsewhere at run time.
export default defineConfig({
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022', assetsInlineLimit: 0, chunkSizeWarningLimit: 200 },
  resolve: { conditions: ['sfm-source'] },
});
