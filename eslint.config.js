import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** One-way imports between workspaces (ARCHITECTURE.md §2). */
const restrict = (files, group, message) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns: [{ group, message }] }] },
});

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.tsbuild/**', 'data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Rules that need types: a promise nobody awaits loses its error; a switch over a union must cover it.
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
    },
  },
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  restrict(['shared/**/*.ts'], ['@concord/*', 'dexie', 'hono', 'node:*'], 'shared depends on nothing but zod'),
  restrict(['server/**/*.ts'], ['@concord/client', '**/client/src/**'], 'the server never imports client code'),
  restrict(
    ['client/**/*.ts'],
    ['@concord/server', '**/server/src/**', 'node:*'],
    'the client never imports server or Node code',
  ),
);
