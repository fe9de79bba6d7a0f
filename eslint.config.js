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
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' }],
    },
  },
  {
    // Only the entry point touches the process; everything else gets it through the context.
    files: ['src/**/*.ts'],
    ignores: ['src/cli.ts', 'src/context.ts'],
    rules: {
      'no-restricted-globals': ['error', { name: 'process', message: 'Use the context (io, env) instead of process.' }],
      'no-restricted-imports': ['error', { paths: [{ name: 'chalk', message: 'Use io/theme.ts.' }] }],
    },
  },
  {
    files: ['src/io/theme.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
