import { defineConfig } from 'vite';

// Served by the gateway at /console; everything the page needs is in dist/, nothing is fetched from elsewhere.
export default defineConfig({
  base: '/console/',
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 600 },
  // Preact's automatic JSX runtime (tsconfig's jsxImportSource), through Vite's built-in transform.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
