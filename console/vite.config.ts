import { defineConfig } from 'vite';

// Served by the gateway at /console; everything the page needs is in dist/, nothing is fetched from elsewhere.
export default defineConfig({
  base: '/console/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 600,
    rolldownOptions: {
      onLog(level, log, handler) {
        // @triad/contracts also exports the webhook verifier (node:crypto); the page never imports it, and the bundle
        // leaves it out, so the note that node:crypto has no browser version is noise here.
        if (log.plugin === 'rolldown:vite-resolve' && log.message.includes('"node:crypto"')) return;
        handler(level, log);
      },
    },
  },
  // Preact's automatic JSX runtime (tsconfig's jsxImportSource), through Vite's built-in transform.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
