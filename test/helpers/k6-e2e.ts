/**
 * What the end-to-end suites share: bundles built once into a temp folder, a test stack (with the API when
 * asked), and `run(scenario)`, which runs one bundle for 5 s in a real k6 against that stack and reads back the
 * summary and the consistency report it wrote; `runParallel` runs it as several k6-operator runners would, k6
 * processes side by side, each with its own instance_id tag and execution segment. Each suite picks its k6 (one
 * with xk6-sql, or a stock one).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe } from 'vitest';
import { bundleScenarios } from '../../build/bundle.ts';
import { toEnv } from '../../common/endpoints.ts';
import type { SummaryData } from '../../lib/summary/data.ts';
import { type ConsistencyFigures, consistencyFigures } from '../../lib/summary/figures.ts';
import { reportFileName } from '../../lib/summary/index.ts';
import { startTestStack, type TestStack, type TestStackOptions } from '../kit/stack.ts';

/** A k6 with xk6-sql and the MySQL driver, for the suites that run the SQL bundles; CI has none. */
export const K6_BIN = process.env.K6_BIN;

const PINNED_STOCK_K6 = join(resolve(import.meta.dirname, '../..'), '.cache', 'test-k6', 'k6');

/** A stock k6 (no extensions): K6_STOCK_BIN, else the pinned runtime build/test-k6/install.sh installs. */
export const STOCK_K6: string | undefined =
  process.env.K6_STOCK_BIN || (existsSync(PINNED_STOCK_K6) ? PINNED_STOCK_K6 : undefined);

/** Why a suite that needs STOCK_K6 skips. */
export const STOCK_K6_MISSING =
  'no stock k6: K6_STOCK_BIN is unset and .cache/test-k6/k6 is missing; run `bash build/test-k6/install.sh`';

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

/** One runner of a parallel run: its k6 process and the report files it wrote under its runner id. */
export interface K6RunnerRun extends K6Run {
  readonly runner: string;
  /** The process's wall time, ms. */
  readonly wallMs: number;
}

export interface K6Runs {
  /** The test stack (set in beforeAll). */
  readonly stack: TestStack;
  /** `extraEnv` may name the run's CQRS_TEST_ID; `extraArgs` go between `k6 run` and the script. */
  run(scenario: string, extraEnv?: Record<string, string>, extraArgs?: readonly string[]): Promise<K6Run>;
  /**
   * Runner `index` (1..count, as k6-operator numbers them) of a run with `count` runners, alone, with the flags
   * k6-operator gives that runner pod: its execution segment (segmentArgs) and `--tag instance_id=<index> --tag
   * testrun_name=<test id>`. It reads the report files named for its runner id. `extraEnv` should name the
   * CQRS_TEST_ID the runners share.
   */
  runRunner(
    scenario: string,
    runner: { readonly index: number; readonly count: number },
    extraEnv?: Record<string, string>,
    extraArgs?: readonly string[],
  ): Promise<K6RunnerRun>;
  /**
   * One run as k6-operator runs it with parallelism `runners`: runRunner for every index 1..runners, side by
   * side (started together), with one CQRS_TEST_ID. Resolves when every process has ended, in runner order.
   */
  runParallel(
    scenario: string,
    runners: number,
    extraEnv?: Record<string, string>,
    extraArgs?: readonly string[],
  ): Promise<K6RunnerRun[]>;
}

/** `i/n` as k6 writes segment bounds: `0`, `1`, else the fraction. */
const bound = (i: number, n: number): string => (i === 0 ? '0' : i === n ? '1' : `${i}/${n}`);

/**
 * The execution-segment flags of runner `index` (1-based, as its instance_id tag) of `count`, exactly as
 * k6-operator builds them (its segmentation.NewCommandFragments): runner 1 of 2 gets `0:1/2` and the whole
 * sequence `0,1/2,1`.
 */
export function segmentArgs(index: number, count: number): string[] {
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 1 || index > count)
    throw new Error(`invalid runner; reason: expected an index in 1..${count}, got ${index}`);
  const sequence = Array.from({ length: count + 1 }, (_, i) => bound(i, count)).join(',');
  return [
    `--execution-segment=${bound(index - 1, count)}:${bound(index, count)}`,
    `--execution-segment-sequence=${sequence}`,
  ];
}

/** Call at the top level of a suite; `k6` resolves the binary in beforeAll. */
export function useK6Runs(k6: () => Promise<string>, opts: TestStackOptions = {}): K6Runs {
  let stack: TestStack | undefined;
  let work = '';
  let bin = '';
  let seq = 0;

  beforeAll(async () => {
    bin = await k6();
    work = mkdtempSync(join(tmpdir(), 'cqrs-e2e-'));
    await bundleScenarios({ outDir: join(work, 'dist'), typecheck: false });
    stack = await startTestStack(opts);
  }, 180_000);

  afterAll(async () => {
    await stack?.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** One k6 process; `runner` names the report files it is expected to write (reportFileName). */
  const runOne = async (
    scenario: string,
    testId: string,
    runner: string,
    extraEnv: Record<string, string>,
    extraArgs: readonly string[],
  ): Promise<K6RunnerRun> => {
    const s = stack as TestStack;
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
    const started = Date.now();
    const child = await execa(bin, ['run', '--quiet', ...extraArgs, join(work, 'dist', `${scenario}.js`)], {
      cwd: work,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      extendEnv: false,
      reject: false,
      all: true,
      timeout: 120_000,
    });
    const wallMs = Date.now() - started;
    const file = join(dir, reportFileName('summary.json', runner));
    const summary = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SummaryData) : null;
    const md = join(dir, reportFileName('consistency.md', runner));
    const junit = join(dir, reportFileName('junit.xml', runner));
    return {
      runner,
      wallMs,
      testId,
      exitCode: child.exitCode ?? -1,
      output: child.all ?? '',
      summary,
      figures: summary && consistencyFigures(summary),
      report: existsSync(md) ? readFileSync(md, 'utf8') : '',
      junit: existsSync(junit) ? readFileSync(junit, 'utf8') : '',
    };
  };

  const runRunner: K6Runs['runRunner'] = (scenario, { index, count }, extraEnv = {}, extraArgs = []) => {
    const testId = extraEnv.CQRS_TEST_ID ?? `e2e-${process.pid}-${seq++}-${scenario}-r${index}`;
    const tags = ['--tag', `instance_id=${index}`, '--tag', `testrun_name=${testId}`];
    // Each runner pod has its own k6 REST API port; side by side here, each process takes a free one.
    const address = '--address=127.0.0.1:0';
    return runOne(scenario, testId, String(index), extraEnv, [
      ...segmentArgs(index, count),
      address,
      ...tags,
      ...extraArgs,
    ]);
  };

  return {
    get stack() {
      if (!stack) throw new Error('the test stack is not up (beforeAll has not run)');
      return stack;
    },
    run: (scenario, extraEnv = {}, extraArgs = []) =>
      runOne(
        scenario,
        extraEnv.CQRS_TEST_ID ?? `e2e-${process.pid}-${seq++}-${scenario}`,
        '0',
        extraEnv,
        extraArgs,
      ),
    runRunner,
    runParallel: (scenario, runners, extraEnv = {}, extraArgs = []) => {
      const testId = extraEnv.CQRS_TEST_ID ?? `e2e-${process.pid}-${seq++}-${scenario}-x${runners}`;
      const env = { ...extraEnv, CQRS_TEST_ID: testId };
      return Promise.all(
        Array.from({ length: runners }, (_, i) =>
          runRunner(scenario, { index: i + 1, count: runners }, env, extraArgs),
        ),
      );
    },
  };
}
