import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
  {
    files: ['src/**/*.ts'],
    ignores: ['src/io/theme.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'chalk', message: 'Use io/theme.ts.' }] }],
    },
  },
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
