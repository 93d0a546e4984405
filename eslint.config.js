import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** One-way imports between workspaces (ARCHITECTURE.md §2). */
const WORKSPACES = {
  shared: [
    {
      group: ['@concord/*', 'dexie', 'hono', 'node:*'],
      message: 'shared depends on nothing but zod and hash-wasm',
    },
  ],
  server: [{ group: ['@concord/client', '**/client/src/**'], message: 'the server never imports client code' }],
  client: [
    {
      group: ['@concord/server', '**/server/src/**', 'node:*'],
      message: 'the client never imports server or Node code',
    },
  ],
};

/**
 * Layers inside a workspace: each folder of `src/` with what outside itself it may import
 * (folders, or `name.ts` files of `src/`). Folders not listed (the edge: `http/`, the wiring
 * files) may import anything below them.
 */
const LAYERS = {
  shared: { schema: ['errors.ts'], protocol: ['schema', 'errors.ts'], validation: ['schema'] },
  server: {
    auth: [],
    resolvers: [],
    realtime: [],
    storage: [],
    replicas: ['storage', 'auth'],
    permissions: ['storage', 'auth'],
    partitions: ['storage', 'auth'],
    merge: ['resolvers', 'storage', 'replicas', 'auth', 'permissions', 'partitions'],
  },
  client: {
    storage: [],
    tracking: ['storage'],
    sync: ['storage', 'status.ts'],
    conflicts: ['storage', 'sync'],
    tabs: ['sync', 'status.ts'],
    validation: ['storage', 'sync'],
    crdt: ['storage'],
  },
};

/** Refuses an import leaving `src/<folder>/` for anything but `allowed`, from a file `depth` folders below it. */
function leaving(folder, allowed, depth) {
  const targets = allowed.map((name) => (name.endsWith('.ts') ? `${name.slice(0, -3)}$` : `${name}/`));
  return {
    regex: `^(\\.\\./){${depth + 1}}${targets.length ? `(?!${targets.join('|')})` : ''}`,
    message: `${folder}/ imports only ${allowed.join(', ') || 'within itself'}`,
  };
}

/** The stores under `server/src/storage/`: none reaches into another, and the SQL core into no driver. */
const STORES = ['sql', 'sqlite', 'postgres', 'memory'];
const storeConfigs = STORES.map((store) => ({
  files: [`server/src/storage/${store}/*.ts`],
  patterns: [
    ...WORKSPACES.server,
    leaving('storage', [], 1),
    {
      regex: `^\\.\\./(${STORES.filter((other) => other !== store && (store === 'sql' || other !== 'sql')).join('|')})/`,
      message: 'stores do not reach into one another',
    },
  ],
}));

/** One config per file depth: ESLint keeps only the last matching `no-restricted-imports`, so each lists every pattern. */
const layerConfigs = Object.entries(LAYERS).flatMap(([workspace, folders]) =>
  Object.entries(folders).flatMap(([folder, allowed]) =>
    [0, 1].map((depth) => ({
      files: [`${workspace}/src/${folder}/${'*/'.repeat(depth)}*.ts`],
      patterns: [...WORKSPACES[workspace], leaving(folder, allowed, depth)],
    })),
  ),
);

const restrict = (files, patterns) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns }] } });

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
  ...Object.entries(WORKSPACES).map(([workspace, patterns]) => restrict([`${workspace}/**/*.ts`], patterns)),
  ...[...layerConfigs, ...storeConfigs].map(({ files, patterns }) => restrict(files, patterns)),
  restrict(['client/src/status.ts'], [...WORKSPACES.client, { regex: '^\\./', message: 'the status imports nothing' }]),
);
