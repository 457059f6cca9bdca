/// <reference types="vitest/config" />
// Builds the web client into dist/ (served by the Hearth server at /). No inline scripts or styles, so the
// page runs under a strict Content-Security-Policy (server/src/http/routes/home.ts).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, modulePreload: { polyfill: false }, assetsInlineLimit: 0 },
  server: { proxy: { '/fhir': 'http://127.0.0.1:8080', '/auth': 'http://127.0.0.1:8080' } },
  test: { environment: 'jsdom', include: ['src/**/*.test.{ts,tsx}'] },
});
