import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** A `no-restricted-imports` pattern refusing imports that go through any of `folders`. */
const through = (folders, message) => ({ regex: `(^|/)(${folders.join('|')})/`, message });

/** One-way imports between workspaces (ARCHITECTURE.md §2). */
const SHARED = [{ group: ['@concord/*', 'dexie', 'hono', 'node:*'], message: 'shared depends on nothing but zod' }];
const SERVER = [{ group: ['@concord/client', '**/client/src/**'], message: 'the server never imports client code' }];
const CLIENT = [
  { group: ['@concord/server', '**/server/src/**', 'node:*'], message: 'the client never imports server or Node code' },
];

/** Layers inside a workspace: a folder imports only from the folders below it. */
const STORAGE = [
  ...SERVER,
  through(['merge', 'http', 'replicas', 'realtime', 'resolvers'], 'storage knows only the store contract'),
];
const DRIVERS = ['sql', 'sqlite', 'postgres', 'memory'];
/** Server folders, each with the folders it may not import: http/ is the edge, storage/ the floor. */
const SERVER_LAYERS = {
  resolvers: ['storage', 'merge', 'replicas', 'realtime', 'http'],
  realtime: ['storage', 'merge', 'replicas', 'resolvers', 'http'],
  replicas: ['merge', 'resolvers', 'realtime', 'http'],
  merge: ['realtime', 'http'],
};
const LAYERS = [
  [
    'shared/src/schema/**/*.ts',
    [...SHARED, through(['protocol'], 'the schema and its value rules sit below the protocol')],
  ],
  ...Object.entries(SERVER_LAYERS).map(([folder, above]) => [
    `server/src/${folder}/**/*.ts`,
    [...SERVER, through(above, `${folder}/ sits below ${above.join(', ')}`)],
  ]),
  ['server/src/storage/*.ts', [...STORAGE, through(DRIVERS, 'the store contract never names an implementation')]],
  ...DRIVERS.map((driver) => [
    `server/src/storage/${driver}/*.ts`,
    [
      ...STORAGE,
      through(
        DRIVERS.filter((other) => other !== driver && (driver === 'sql' || other !== 'sql')),
        'stores do not reach into one another',
      ),
    ],
  ]),
];

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
  restrict(['shared/**/*.ts'], SHARED),
  restrict(['server/**/*.ts'], SERVER),
  restrict(['client/**/*.ts'], CLIENT),
  ...LAYERS.map(([files, patterns]) => restrict([files], patterns)),
);
