// @ts-check
import js from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', '.lab/**', 'ui/vendor/**', '.stryker-tmp/**', 'reports/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Forgetting to await an activity, a workflow API or a query is the classic Temporal bug.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O packages.
    // Activities may only be imported as types (the samples' rule), domain/ and messages are pure.
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Node built-ins are not allowed in workflow code (non-deterministic sandbox).',
          })),
          patterns: [
            {
              // anything but @temporalio/workflow|common, a sibling in workflows/, or domain/
              regex: '^(?!@temporalio/(workflow|common)$|\\./[^/]+$|\\.\\./domain/[^/]+$)',
              allowTypeImports: true,
              message:
                'Workflow code may import only @temporalio/workflow, @temporalio/common, workflows/* and domain/*; import activities with `import type`.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The dashboard: ES modules run by the browser as they are (no build step).
    files: ['ui/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        ['window', 'document', 'location', 'sessionStorage', 'fetch', 'URLSearchParams', 'AbortController', 'CustomEvent', 'setTimeout', 'clearTimeout', 'console'].map((g) => [g, 'readonly']),
      ),
    },
  },
);
