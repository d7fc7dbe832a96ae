import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Built into the Python package, where `yc-chat serve --demo` serves it at /demo/.
export default defineConfig({
  base: '/demo/',
  build: {
    outDir: fileURLToPath(new URL('../src/yc_chat/entrypoints/console', import.meta.url)),
    emptyOutDir: true,
    // stream-chat is large; one chunk is fine for a local tool.
    chunkSizeWarningLimit: 2000,
  },
});
