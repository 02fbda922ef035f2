import { defineConfig } from 'vitest/config';

// The test files Stryker runs against each mutant (npm run mutate): the unit tests of the measurement core,
// which need no server, so thousands of mutants finish in minutes. Integration tests stay in `npm test`.
export const MUTATION_TESTS = [
  'test/k6/**/*.test.ts',
  'test/common/**/*.test.ts',
  'test/config/**/*.test.ts',
  'test/api/read-plan.test.ts',
  'test/api/execute.test.ts',
  'test/api/strategy-registry.test.ts',
];

export default defineConfig({
  test: { include: MUTATION_TESTS, testTimeout: 30_000 },
});
