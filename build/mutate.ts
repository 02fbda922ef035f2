/**
 * `npm run mutate [-- stryker options]`: runs Stryker (stryker.config.mjs) with the options given, e.g.
 * `--mutate lib/session.ts` or `--incremental`, then judges the mutation score of each core file in its JSON
 * report and exits 1 when one is below the goal. Stryker's own `thresholds.break` judges the total only, and a
 * strong file must not hide a weak one. Files the run did not mutate are not judged. Scores come from
 * Stryker's own metrics library, so they match its report to the digit.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { calculateMetrics } from 'mutation-testing-metrics';
import type { MutationTestResult } from 'mutation-testing-report-schema';
import config, { CORE_FILES, MUTATION_GOAL } from '../stryker.config.mjs';

const ROOT = resolve(import.meta.dirname, '..');

export interface FileScore {
  readonly file: string;
  /** Killed or timed out, over every mutant that compiled (survivors and uncovered ones included); NaN: none. */
  readonly score: number;
  readonly survived: number;
  readonly noCoverage: number;
}

export function fileScores(report: MutationTestResult, files: readonly string[]): FileScore[] {
  return files.flatMap((file) => {
    const result = report.files[file];
    if (!result) return [];
    const m = calculateMetrics({ [file]: result }).metrics;
    return [{ file, score: m.mutationScore, survived: m.survived, noCoverage: m.noCoverage }];
  });
}

function gate(): number {
  const path = join(ROOT, config.jsonReporter.fileName);
  let report: MutationTestResult;
  try {
    report = JSON.parse(readFileSync(path, 'utf8')) as MutationTestResult;
  } catch {
    console.error(`mutation gate: no report at ${path}; run npx stryker run first`);
    return 1;
  }
  const scores = fileScores(report, CORE_FILES);
  const below = scores.filter((s) => !(s.score >= MUTATION_GOAL));
  for (const s of scores) {
    const mark = below.includes(s) ? '✗' : '✓';
    console.log(
      `${mark} ${s.file.padEnd(26)} ${s.score.toFixed(2).padStart(6)}%  (${s.survived} survived, ${s.noCoverage} without coverage)`,
    );
  }
  if (below.length > 0) {
    console.error(`mutation gate: ${below.length} core file(s) below ${MUTATION_GOAL}%`);
    return 1;
  }
  console.log(`mutation gate: every mutated core file is at ${MUTATION_GOAL}% or more`);
  return 0;
}

async function main(args: readonly string[]): Promise<number> {
  const stryker = await execa(join(ROOT, 'node_modules', '.bin', 'stryker'), ['run', ...args], {
    cwd: ROOT,
    stdio: 'inherit',
    reject: false,
  });
  const judged = gate();
  return stryker.exitCode === 0 ? judged : (stryker.exitCode ?? 1);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
