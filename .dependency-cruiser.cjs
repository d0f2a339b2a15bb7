// The library's layer rules, checked by `npm run lint` (so by `npm test` and CI). ARCHITECTURE.md
// explains the layers; a file imports only from its own layer or the layers below it:
//   core < gpu < model < kernels < plan < run < { onnx, importers } < index.ts
const LAYERS = ['core', 'gpu', 'model', 'kernels', 'plan', 'run'];
const TOP = ['onnx', 'importers'];
const layerRules = LAYERS.map((layer, i) => ({
  name: `layer-${layer}`,
  comment: `src/${layer} may import only ${['its own layer', ...LAYERS.slice(0, i)].join(', ')}`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${[...LAYERS.slice(i + 1), ...TOP].join('|')})/|^src/index\\.ts$` },
}));
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'no import cycles, type-only imports included', from: {}, to: { circular: true } },
    ...layerRules,
    ...TOP.map((top) => ({
      name: `top-${top}`,
      comment: `src/${top} sits beside ${TOP.filter((t) => t !== top).join(', ')} and imports the layers below, never its sibling or index.ts`,
      severity: 'error',
      from: { path: `^src/${top}/` },
      to: { path: `^src/(${TOP.filter((t) => t !== top).join('|')})/|^src/index\\.ts$` },
    })),
    {
      name: 'library-stays-inside',
      comment: 'the library never imports tests, demos, scripts, common/ or ../shared (CI alone has shared/ beside the checkout)',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|demo|scripts|common)/|^\\.\\./|(^|/)shared/' },
    },
    {
      name: 'no-orphans',
      comment: 'every module is imported by something, or is an entry point (tests, pages, scripts, configs)',
      severity: 'error',
      from: {
        orphan: true,
        pathNot: [
          '\\.d\\.ts$',
          // named by vitest.config.ts as a string
          '^test/support/summary-reporter\\.ts$',
          // the demo app's service worker, copied verbatim into the build (a worker's scope is its folder)
          '^demo/app/sw\\.js$',
        ],
      },
      to: {},
    },
    {
      name: 'library-reachable',
      comment: 'every library module is reachable from the package entry, src/index.ts',
      severity: 'error',
      from: { path: '^src/index\\.ts$' },
      to: { path: '^src/', pathNot: '\\.d\\.ts$', reachable: false },
    },
    {
      name: 'tools-do-not-import-tests',
      comment: 'the demo, the scripts and common/ never import test/ (shared code lives in common/)',
      severity: 'error',
      from: { path: '^(demo|scripts|common)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|dist-bench|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    moduleSystems: ['es6', 'cjs'],
  },
};
