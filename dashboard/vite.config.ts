/**
 * The dashboard build: Preact (JSX through esbuild, no plugin needed) into
 * dashboard/dist, which `docket serve` serves at `/`. `vite --config
 * dashboard/vite.config.ts` serves it with hot reload and sends /api to a
 * Docket server on DOCKET_API (default http://127.0.0.1:8080).
 */
import { defineConfig } from 'vite'

const api = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.DOCKET_API

export default defineConfig({
  root: new URL('.', import.meta.url).pathname,
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 300,
  },
  server: {
    proxy: { '/api': { target: api ?? 'http://127.0.0.1:8080', ws: true } },
  },
})
