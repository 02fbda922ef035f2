/** The per-file mutation gate scores each core file on its own, the way Stryker's report does. */
import type { MutationTestResult } from 'mutation-testing-report-schema';
import { describe, expect, it } from 'vitest';
import { fileScores } from '../../build/mutate.ts';

const mutant = (id: number, status: string) => ({
  id: String(id),
  mutatorName: 'EqualityOperator',
  replacement: '>=',
  status,
  location: { start: { line: 1, column: 1 }, end: { line: 1, column: 2 } },
});

const report = (files: Record<string, string[]>): MutationTestResult =>
  ({
    schemaVersion: '2',
    thresholds: { high: 90, low: 85 },
    files: Object.fromEntries(
      Object.entries(files).map(([path, statuses]) => [
        path,
        { language: 'typescript', source: 'x', mutants: statuses.map((s, i) => mutant(i, s)) },
      ]),
    ),
  }) as MutationTestResult;

describe('mutation gate', () => {
  it('scores each file alone: killed and timed out over every mutant that compiled', () => {
    const scores = fileScores(
      report({
        'lib/a.ts': ['Killed', 'Killed', 'Timeout', 'Survived', 'CompileError', 'NoCoverage'],
        'lib/b.ts': ['Killed', 'Killed'],
        'lib/not-core.ts': ['Survived'],
      }),
      ['lib/a.ts', 'lib/b.ts', 'lib/absent.ts'],
    );
    expect(scores).toEqual([
      { file: 'lib/a.ts', score: 60, survived: 1, noCoverage: 1 },
      { file: 'lib/b.ts', score: 100, survived: 0, noCoverage: 0 },
    ]);
  });
});
