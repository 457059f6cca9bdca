// One linter (ESLint + typescript-eslint); formatting is Prettier's alone.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.hearth-data/**', 'fhir-profiles/**', 'client/**'] },
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
