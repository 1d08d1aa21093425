// Lint: typescript-eslint's recommended rules over src/, test/, bench/ and scripts/, and the dependency rule
// (the pure core never imports an adapter; test/conformance/boundaries.test.ts checks the same from files).
import tseslint from 'typescript-eslint';

const ADAPTERS = ['broker', 'api', 'store', 'keys', 'cluster', 'telemetry', 'cli', 'main', 'web'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'data/**', 'walkthrough/**', 'bench/results/**', 'coverage/**', '.tmp/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore marks a binding kept on purpose (a rest-omitted key, a callback's signature).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/{kernel,pki,policy,registry,access,provisioning}/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ADAPTERS.map((a) => `**/${a}/**`).concat(ADAPTERS.map((a) => `../${a}`)), message: 'the core never imports an adapter' },
            { group: ['node:net', 'node:tls', 'node:http', 'node:https', 'node:fs', 'node:fs/*', 'fastify', 'mqtt-packet', 'kysely', 'better-sqlite3', 'pg', 'pino', 'commander'], message: 'the core does no I/O' },
          ],
        },
      ],
    },
  },
);
