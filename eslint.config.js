import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const CHALK = { name: 'chalk', message: 'Use io/theme.ts.' };
const SDK = { group: ['@okta/okta-sdk-nodejs', '@okta/okta-sdk-nodejs/**'], message: 'Only src/adapters/okta-sdk.ts knows the Okta SDK.' };
const ADAPTERS = {
  group: ['**/adapters/*', '**/adapters/**'],
  message: 'Commands, connections and domain never import adapters: declare a port beside its user; context.ts plugs the adapter in.',
};

/** chalk only through io/theme.ts; the Okta SDK only through the seam; adapters never below the context. */
function importBans() {
  const ban = (files, ignores, paths, patterns) => ({
    files,
    ignores,
    rules: { 'no-restricted-imports': ['error', { paths, patterns }] },
  });
  const layered = ['src/commands/**/*.ts', 'src/connections/**/*.ts', 'src/domain/**/*.ts'];
  return [
    ban(['src/**/*.ts'], [...layered, 'src/io/theme.ts', 'src/adapters/okta-sdk.ts', 'src/types/**'], [CHALK], [SDK]),
    ban(layered, [], [CHALK], [SDK, ADAPTERS]),
    ban(['src/adapters/okta-sdk.ts'], [], [CHALK], []),
  ];
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.tmp/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'bin/*.js', 'bench/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
    },
  },
  {
    // Declarations of CommonJS modules describe module.exports as the default export.
    files: ['src/types/**/*.d.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // Only the entry point and the context touch the process; commands get it through the context.
    files: ['src/commands/**/*.ts', 'src/domain/**/*.ts', 'src/io/**/*.ts', 'src/main.ts', 'src/program.ts'],
    rules: {
      'no-restricted-globals': ['error', { name: 'process', message: 'Use the context (io, env) instead of process.' }],
    },
  },
  // Import bans, one rule value per file group (a later block replaces an earlier one's value, it does not add to it).
  ...importBans(),
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', performance: 'readonly', Buffer: 'readonly', fetch: 'readonly' },
    },
  },
  {
    // The command itself is CommonJS (bin/package.json): an ES module entry starts Node's ESM loader on every run.
    files: ['bin/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', __dirname: 'readonly', module: 'readonly', setImmediate: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
