// Lint, including the layer rule of docs/architecture: model <- ports <- core <- runtime <-
// {lanes, daemon} <- cli; stores/* and platform/ depend only on ports and model (and core's pure
// decisions). Ambient time, randomness and process control are allowed only in src/platform/.
// Import cycles are checked by test/unit/import-graph.test.ts.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (dir, forbidden) => ({
  files: [`src/${dir}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: forbidden.map((f) => ({
          group: [`**/${f}/*`, `**/${f}/**`, `**/${f}.js`],
          message: `src/${dir} may not import from ${f}/ (layering rule, see ARCHITECTURE).`,
        })),
      },
    ],
  },
});

const shells = ['runtime', 'lanes', 'daemon', 'cli', 'stores', 'platform', 'providers'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/**', 'coverage/**', 'dashboard/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/only-throw-error': 'off',
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', Buffer: 'readonly' },
    },
  },
  {
    // Examples are product code: they reach holdfast only through its public entry points (K9).
    files: ['examples/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/src/**', '../**/src/*'], message: "Product code imports 'holdfast' or 'holdfast/testing' only (K9)." }] }],
    },
  },
  layer('model', ['ports', 'core', 'runtime', 'lanes', 'daemon', 'cli', 'stores', 'platform', 'providers']),
  layer('ports', ['core', ...shells]),
  layer('core', shells),
  layer('stores', ['runtime', 'lanes', 'daemon', 'cli', 'platform', 'providers']),
  layer('platform', ['core', 'runtime', 'lanes', 'daemon', 'cli', 'stores', 'providers']),
  layer('providers', ['runtime', 'lanes', 'daemon', 'cli', 'stores']),
  layer('runtime', ['lanes', 'daemon', 'cli', 'stores']),
  layer('lanes', ['daemon', 'cli', 'stores']),
  layer('daemon', ['cli']),
  {
    // No ambient time, randomness or process control outside platform/ (inject Clock/Random).
    files: ['src/**/*.ts'],
    ignores: ['src/platform/**'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'Use the injected Clock (platform/ only).' },
        { object: 'Math', property: 'random', message: 'Use the injected Random (platform/ only).' },
        { object: 'process', property: 'kill', message: 'Process control lives in platform/.' },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use the injected Clock (platform/ only).' },
        { name: 'setInterval', message: 'Use the injected Clock (platform/ only).' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Use the injected Clock.' },
        { selector: "ImportDeclaration[source.value='node:child_process']", message: 'Child processes are spawned in platform/ only.' },
      ],
    },
  },
);
