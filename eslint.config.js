// Lint rules that carry the architecture: the dependency direction between folders
// (DESIGN.md §2) is checked here, not remembered.
import { builtinModules } from 'node:module';

import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

/** Zones: `target` may not import from `from`. */
const zones = [
  {
    target: './protocol',
    from: ['./certs', './proxy-server', './proxy-agent', './hub', './sandbox', './test'],
  },
  {
    target: './certs',
    from: ['./protocol', './proxy-server', './proxy-agent', './hub', './sandbox', './test'],
  },
  { target: './proxy-agent', from: ['./proxy-server', './hub', './sandbox', './test'] },
  { target: './proxy-server', from: ['./proxy-agent', './hub', './sandbox', './test'] },
  // client/ is the library hub code embeds: protocol/ only, nothing else of the server.
  {
    target: './proxy-server/client',
    from: [
      './proxy-server/agent-listener',
      './proxy-server/sessions',
      './proxy-server/frontend',
      './proxy-server/testing',
      './certs',
    ],
  },
  { target: './proxy-server/client', from: ['./proxy-server/*.ts'] },
  {
    target: './sandbox',
    from: ['./protocol', './proxy-server', './proxy-agent', './hub', './test'],
  },
  { target: './hub', from: ['./proxy-agent', './test'] },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.js'],
    plugins: { 'import-x': importX },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones }],
      // Built-ins only with the node: prefix (as undici does).
      'no-restricted-imports': [
        'error',
        {
          paths: builtinModules
            .filter((m) => !m.startsWith('_') && !m.includes(':'))
            .map((name) => ({ name, message: `import 'node:${name}' instead` })),
        },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name='only']",
          message: 'Do not commit .only tests.',
        },
        {
          selector:
            "CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name='skip']",
          message: 'Do not commit skipped tests.',
        },
      ],
    },
  },
);
