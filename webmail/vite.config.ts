import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// Built into webmail/dist, which the server reads at start (src/web/static.ts). No inline script
// or style is emitted, so the pages run under a policy that allows scripts from this origin only.
export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
    reportCompressedSize: false,
  },
});
