// Mutation testing of the measurement core: `npm run mutate` (all of it) or `npm run mutate -- --mutate
// lib/session.ts` (one file). See docs/testing.md.
/** The goal for each core file (build/mutation-gate.ts judges them one by one after the run). */
export const MUTATION_GOAL = 85;

/** The files whose every number users read. */
export const CORE_FILES = [
  'lib/probe.ts',
  'lib/session.ts',
  'lib/reconcile.ts',
  'common/heartbeat.ts',
  'lib/summary/figures.ts',
  'lib/summary/sections.ts',
  'api/read/plan.ts',
  'api/read/execute.ts',
  'common/dialect.ts',
  'lib/config.ts',
];

/**
 * Where the reports and the incremental state go. CQRS_MUTATION_DIR moves them, so that runs on different files
 * can go side by side without sharing a report or a sandbox.
 */
const OUT = process.env.CQRS_MUTATION_DIR || 'reports/mutation';
const RUN = OUT.replace(/[^A-Za-z0-9]+/g, '-');

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  // related: false, since vitest's related-file lookup misses imports that spell out the .ts extension.
  vitest: { configFile: 'vitest.mutate.config.ts', related: false },
  // A mutant that does not type-check could never ship: it is not counted.
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.mutate.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  mutate: CORE_FILES,
  coverageAnalysis: 'perTest',
  concurrency: 2,
  thresholds: { high: 90, low: MUTATION_GOAL, break: MUTATION_GOAL },
  reporters: ['clear-text', 'progress', 'html', 'json'],
  // The survivors and the per-file table, without the list of every test.
  clearTextReporter: { logTests: false, reportTests: false },
  htmlReporter: { fileName: `${OUT}/index.html` },
  jsonReporter: { fileName: `${OUT}/mutation.json` },
  // Reruns only the mutants whose code or tests changed since the last run (a developer's loop).
  incrementalFile: `${OUT}/stryker-incremental.json`,
  tempDirName: `node_modules/.cache/stryker-${RUN}`,
  cleanTempDir: 'always',
};
