/**
 * What the end-to-end suites share: bundles built once into a temp folder, a test stack (with the API when
 * asked), and `run(scenario)`, which runs one bundle for 5 s in a real k6 against that stack and reads back the
 * summary and the consistency report it wrote. Each suite picks its k6 (one with xk6-sql, or a stock one).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe } from 'vitest';
import { bundleScenarios } from '../../build/bundle.ts';
import { toEnv } from '../../common/endpoints.ts';
import type { SummaryData } from '../../lib/summary/data.ts';
import { type ConsistencyFigures, consistencyFigures } from '../../lib/summary/figures.ts';
import { startTestStack, type TestStack } from '../kit/stack.ts';

/** A k6 with xk6-sql and the MySQL driver, for the suites that run the SQL bundles; CI has none. */
export const K6_BIN = process.env.K6_BIN;

/**
 * A suite that needs a binary. Without one every test of the suite is listed as skipped (the summary reporter
 * names each one), under a title that says why; nothing of the suite's set-up runs.
 */
export function describeWithBinary(
  name: string,
  bin: string | undefined,
  missing: string,
  suite: (bin: string) => void,
): void {
  describe.skipIf(!bin)(bin ? name : `${name} (skipped: ${missing})`, () => suite(bin ?? ''));
}

/** A suite that runs the SQL bundles: it needs K6_BIN. */
export function describeWithK6Bin(name: string, suite: (k6Bin: string) => void): void {
  describeWithBinary(
    name,
    K6_BIN,
    'K6_BIN is not set; point it at a k6 with xk6-sql + MySQL driver, see build/xk6/README.md',
    suite,
  );
}

export interface K6Run {
  testId: string;
  exitCode: number;
  output: string;
  summary: SummaryData | null;
  figures: ConsistencyFigures | null;
  /** consistency.md, '' when the run wrote none. */
  report: string;
  /** junit.xml, '' when the run wrote none. */
  junit: string;
}

export interface K6Runs {
  /** The test stack (set in beforeAll). */
  readonly stack: TestStack;
  /** `extraEnv` may name the run's CQRS_TEST_ID; `extraArgs` go between `k6 run` and the script. */
  run(scenario: string, extraEnv?: Record<string, string>, extraArgs?: readonly string[]): Promise<K6Run>;
}

/** Call at the top level of a suite; `k6` resolves the binary in beforeAll. */
export function useK6Runs(k6: () => Promise<string>, opts: { api?: boolean } = {}): K6Runs {
  let stack: TestStack | undefined;
  let work = '';
  let bin = '';
  let seq = 0;

  beforeAll(async () => {
    bin = await k6();
    work = mkdtempSync(join(tmpdir(), 'cqrs-e2e-'));
    await bundleScenarios({ outDir: join(work, 'dist'), typecheck: false });
    stack = await startTestStack({ api: opts.api ?? false });
  }, 180_000);

  afterAll(async () => {
    await stack?.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  return {
    get stack() {
      if (!stack) throw new Error('the test stack is not up (beforeAll has not run)');
      return stack;
    },
    run: async (scenario, extraEnv = {}, extraArgs = []) => {
      const s = stack as TestStack;
      const testId = extraEnv.CQRS_TEST_ID ?? `e2e-${process.pid}-${seq++}-${scenario}`;
      const env = {
        ...toEnv(s.endpoints),
        CQRS_TEST_ID: testId,
        CQRS_DURATION: '5s',
        // Relative to the k6 working directory (the temp folder).
        CQRS_REPORT_DIR: 'reports',
        ...extraEnv,
      };
      // k6 does not create folders for handleSummary's files.
      const dir = join(work, 'reports', testId);
      mkdirSync(dir, { recursive: true });
      const child = await execa(bin, ['run', '--quiet', ...extraArgs, join(work, 'dist', `${scenario}.js`)], {
        cwd: work,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
        extendEnv: false,
        reject: false,
        all: true,
        timeout: 120_000,
      });
      const file = join(dir, 'summary.json');
      const summary = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SummaryData) : null;
      const md = join(dir, 'consistency.md');
      const junit = join(dir, 'junit.xml');
      return {
        testId,
        exitCode: child.exitCode ?? -1,
        output: child.all ?? '',
        summary,
        figures: summary && consistencyFigures(summary),
        report: existsSync(md) ? readFileSync(md, 'utf8') : '',
        junit: existsSync(junit) ? readFileSync(junit, 'utf8') : '',
      };
    },
  };
}
