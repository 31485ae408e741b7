/// <reference types="vitest/config" />
// The build output goes where the caller says (--outDir): the CMake target puts it in
// <build>/webui, which the coordinator serves. No inline scripts or styles are emitted
// (the coordinator's Content-Security-Policy forbids them).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8081' },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
