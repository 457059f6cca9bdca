// One linter (ESLint + typescript-eslint); formatting is Prettier's alone.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.hearth-data/**', 'fhir-profiles/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      'no-restricted-imports': 'off',
    },
  },
  {
    // The web client runs in the browser. No React hooks plugin is in the offline package store, so the client
    // gets the TypeScript rules only (hooks' dependency lists are reviewed by hand).
    files: ['client/**/*.{ts,tsx}'],
    languageOptions: {
      globals: {
        window: 'readonly',
        document: 'readonly',
        location: 'readonly',
        history: 'readonly',
        sessionStorage: 'readonly',
        localStorage: 'readonly',
        crypto: 'readonly',
        fetch: 'readonly',
        WebSocket: 'readonly',
        TextEncoder: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        btoa: 'readonly',
        atob: 'readonly',
      },
    },
  },
  {
    // Only client/src/fhir talks to the server (STYLE.md, principle 1).
    files: ['client/src/**/*.{ts,tsx}'],
    ignores: ['client/src/fhir/**', 'client/src/**/*.test.{ts,tsx}'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'fetch', message: 'Only client/src/fhir talks to the server.' },
        { name: 'WebSocket', message: 'Only client/src/fhir talks to the server.' },
      ],
    },
  },
  {
    // Only http/ imports Fastify; only store/ runs SQL (STYLE.md, principle 1).
    files: ['server/src/**/*.ts'],
    ignores: ['server/src/http/**', 'server/src/app.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'fastify', message: 'Only server/src/http imports Fastify.' }] },
      ],
    },
  },
);
