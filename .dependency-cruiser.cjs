// The layer rule of ARCHITECTURE.md, checked by `npm run lint` (depcruise):
//
//   model <- ports <- core <- runtime <- {lanes, daemon} <- cli
//   stores/* and providers/ are shells beside the runtime; platform/ is the lowest shell, the only
//   place with ambient time, randomness, threads and process control (the ESLint config bans those
//   elsewhere). errors.ts is shared by every layer and imports nothing.
//
// Each rule names what a layer may NOT import; `no-circular` forbids import cycles anywhere in src/.
const forbid = (name, from, to, why) => ({
  name,
  severity: 'error',
  comment: why,
  from: { path: from },
  to: { path: to },
});

const layer = (dir) => `^src/${dir}/`;
const any = (...dirs) => `^src/(${dirs.join('|')})/`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make initialisation order fragile and hide layering mistakes.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    forbid('errors-import-nothing', '^src/errors\\.ts$', '^src/(?!errors\\.ts$)', 'errors.ts is the bottom of every layer.'),
    forbid(
      'model-is-the-base',
      layer('model'),
      any('ports', 'core', 'runtime', 'lanes', 'daemon', 'cli', 'stores', 'platform', 'providers', 'testing'),
      'model/ holds records and ids only.',
    ),
    forbid(
      'ports-are-interfaces',
      layer('ports'),
      any('core', 'runtime', 'lanes', 'daemon', 'cli', 'stores', 'platform', 'providers', 'testing'),
      'ports/ are interfaces over model/.',
    ),
    forbid(
      'core-is-pure',
      layer('core'),
      any('runtime', 'lanes', 'daemon', 'cli', 'stores', 'platform', 'providers', 'testing'),
      'core/ is pure decisions: no I/O, no shells.',
    ),
    forbid(
      'platform-is-the-bottom-shell',
      layer('platform'),
      any('core', 'runtime', 'lanes', 'daemon', 'cli', 'stores', 'providers', 'testing'),
      'platform/ depends only on ports and model.',
    ),
    forbid(
      'stores-beside-runtime',
      layer('stores'),
      any('runtime', 'lanes', 'daemon', 'cli', 'providers', 'testing'),
      'stores/ implement ports; they never reach the runtime.',
    ),
    forbid(
      'providers-beside-runtime',
      layer('providers'),
      any('runtime', 'lanes', 'daemon', 'cli', 'stores', 'testing'),
      'providers/ implement the provider port.',
    ),
    forbid(
      'runtime-below-surfaces',
      layer('runtime'),
      any('lanes', 'daemon', 'cli', 'stores', 'testing'),
      'runtime/ reaches stores only through the port.',
    ),
    forbid(
      'lanes-below-surfaces',
      layer('lanes'),
      any('daemon', 'cli', 'stores', 'testing'),
      'lanes/ reaches stores only through the port.',
    ),
    forbid('daemon-below-cli', layer('daemon'), any('cli', 'testing'), 'the daemon is used by the CLI, not the other way round.'),
    forbid(
      'product-code-uses-the-public-api',
      '^examples/',
      '^src/(?!index\\.ts$|testing\\.ts$|postgres\\.ts$)',
      "Product code imports 'holdfast', 'holdfast/testing' or 'holdfast/postgres' only (K9).",
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|coverage|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs'],
    },
  },
};
