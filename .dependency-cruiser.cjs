/**
 * The import structure, as rules (`npm run lint:deps`; test/structure/imports.test.ts runs the same rules).
 * k6-side code must bundle without Node built-ins or Node-only modules; the services and the stack must not
 * lean on k6-side code; shipped code never imports tests. Type-only imports count too: a type from the wrong
 * side is how a runtime import starts.
 */
const K6_SIDE = '^(lib|scenarios)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'k6-imports-only-lib-and-common',
      comment:
        'k6 code (lib/, scenarios/) runs in k6: it may import lib/, common/ and k6 itself, nothing else.',
      severity: 'error',
      from: { path: K6_SIDE },
      to: { dependencyTypes: ['local'], pathNot: '^(lib|common)/' },
    },
    {
      name: 'k6-side-no-node-builtins',
      comment: 'k6 has no Node built-ins.',
      severity: 'error',
      from: { path: '^(lib|scenarios|common)/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'k6-side-no-credentials',
      comment: 'The lab passwords stay out of bundles (a bundle test also greps dist/ for them).',
      severity: 'error',
      from: { path: K6_SIDE },
      to: { path: '^common/stack-credentials\\.ts$' },
    },
    {
      name: 'common-imports-only-common',
      comment: 'common/ is shared by both runtimes, so it stands on its own.',
      severity: 'error',
      from: { path: '^common/' },
      to: { dependencyTypes: ['local'], pathNot: '^common/' },
    },
    {
      name: 'services-no-k6-code',
      comment: 'The API, the stack and the Node config run in Node and import no k6-side code.',
      severity: 'error',
      from: { path: '^(api|stack|config)/' },
      to: { path: K6_SIDE },
    },
    {
      name: 'nothing-imports-tests',
      comment: 'Shipped code never imports tests.',
      severity: 'error',
      from: { pathNot: '^(test|bench)/' },
      to: { path: '^test/' },
    },
    {
      name: 'bench-imports-only-test-kit',
      comment:
        'Benchmarks share the fixtures of test/kit/ (the fake store, a throwaway stack), not test files.',
      severity: 'error',
      from: { path: '^bench/' },
      to: { path: '^test/', pathNot: '^test/kit/' },
    },
    {
      name: 'no-import-cycles',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|\\.stack|\\.cache|reports)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.node.json' },
  },
};
