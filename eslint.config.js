// Lint: typescript-eslint's recommended rules, type-aware, over the library, grammar, tests and tools.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'site/dist/**', 'examples/web/**/dist/**', '**/*.generated.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-floating-promises': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
      eqeqeq: ['error', 'always'],
      // Input validation matches control characters on purpose; a rethrown test failure needs no cause.
      'no-control-regex': 'off',
      'preserve-caught-error': 'off',
    },
  },
  {
    // Layering: reverse mode needs the IR only; lowering, rewriting and printing around it are the
    // pipeline's (src/pipeline/), which orchestrates the stages.
    files: ['src/autodiff/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['../*', '!../ir', '!../ir/*', '!../errors.js'], message: 'src/autodiff/ imports only src/ir/ (and errors.ts); orchestration belongs in src/pipeline/.' },
            { group: ['../../*', '@tensorflow/*', 'chevrotain'], message: 'src/autodiff/ imports only src/ir/ (and errors.ts).' },
          ],
        },
      ],
    },
  },
  { files: ['examples/web/**/*.js'], languageOptions: { globals: { document: 'readonly', window: 'readonly' } } },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
  },
);
