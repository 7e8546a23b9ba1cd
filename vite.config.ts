/**
 * Builds the web app (web/) into dist/web, which the server serves on its own port.
 * Vite compiles TSX itself (automatic React runtime), so no framework plugin is needed.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('./web', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  // Copied as is to the site root: the service worker must be served from `/`.
  publicDir: fileURLToPath(new URL('./web/public', import.meta.url)),
  build: {
    outDir: fileURLToPath(new URL('./dist/web', import.meta.url)),
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1000,
    // On a busy machine the bundler otherwise prints a timing report in every build.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:3000',
      '/socket.io': { target: 'ws://127.0.0.1:3000', ws: true },
    },
  },
});
