/**
 * The web console's build (`npm run build` runs it): src/console/ → dist/console/, served by the server at
 * /console/ (server/console-assets.ts). Hashed file names under assets/ are what lets the server cache them
 * as immutable. Nothing is inlined into the HTML: the page's CSP allows scripts and styles from files only.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/console/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/console/', import.meta.url)),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 2048,
  },
});
