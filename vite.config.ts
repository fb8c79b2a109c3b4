/**
 * Builds the browser visualizer (web/) into dist/web. No plugin: Vite's oxc compiles TSX with the
 * `jsx`/`jsxImportSource` settings of web/tsconfig.json, and the engine worker is bundled from the
 * same src/ modules the CLI runs.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'web',
  base: './',
  // Examples live beside the app's root; the build may read them (import.meta.glob).
  server: { fs: { allow: ['..'] } },
  worker: { format: 'es' },
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1024,
    // Two pages: the scenario visualizer and the OSTEP homework stepper (ostep.html).
    rolldownOptions: { input: { main: 'web/index.html', ostep: 'web/ostep.html' } },
  },
});
