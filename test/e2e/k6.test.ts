/**
 * End-to-end: the built bundles run in a real k6 against a test stack. Runs only when K6_BIN points at a k6
 * with xk6-sql and the MySQL driver (see build/xk6/README.md); otherwise the suite is skipped with that message.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleScenarios } from '../../build/bundle.ts';
import type { SummaryData } from '../../lib/summary/data.ts';
import { type ConsistencyFigures, consistencyFigures } from '../../lib/summary/figures.ts';
import { toEnv } from '../../stack/endpoints.ts';
import { findK6 } from '../../stack/k6-binary.ts';
import { SQL_SCENARIOS } from '../helpers/bundles.ts';
import { startTestStack, type TestStack } from '../helpers/stack.ts';

const K6_BIN = process.env.K6_BIN;

interface Run {
  exitCode: number;
  output: string;
  figures: ConsistencyFigures | null;
}

if (!K6_BIN) {
  describe('k6 end-to-end', () => {
    it.skip('skipped: K6_BIN is not set (point it at a k6 with xk6-sql + MySQL driver; see build/xk6/README.md)', () => {});
  });
} else {
  let stack: TestStack;
  let work: string;
  let k6: string;
  let seq = 0;

  /** Runs one bundle for 5 s against the test stack and reads the summary it wrote. */
  async function run(scenario: string, extraEnv: Record<string, string> = {}): Promise<Run> {
    const testId = `e2e-${process.pid}-${seq++}-${scenario}`;
    const env = {
      ...toEnv(stack.endpoints),
      CQRS_TEST_ID: testId,
      CQRS_DURATION: '5s',
      // Relative to the k6 working directory (the temp folder).
      CQRS_REPORT_DIR: 'reports',
      ...extraEnv,
    };
    // k6 does not create folders for handleSummary's files.
    mkdirSync(join(work, 'reports', testId), { recursive: true });
    const child = await execa(k6, ['run', '--quiet', join(work, 'dist', `${scenario}.js`)], {
      cwd: work,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      extendEnv: false,
      reject: false,
      all: true,
      timeout: 120_000,
    });
    const summary = join(work, 'reports', testId, 'summary.json');
    const figures = existsSync(summary)
      ? consistencyFigures(JSON.parse(readFileSync(summary, 'utf8')) as SummaryData)
      : null;
    return { exitCode: child.exitCode ?? -1, output: child.all ?? '', figures };
  }

  beforeAll(async () => {
    k6 = (await findK6({ ...process.env, K6_BIN })).path;
    work = mkdtempSync(join(tmpdir(), 'cqrs-e2e-'));
    await bundleScenarios({ outDir: join(work, 'dist'), typecheck: false });
    stack = await startTestStack();
  }, 180_000);

  afterAll(async () => {
    await stack?.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describe('k6 end-to-end', () => {
    it('runs the config smoke check', async () => {
      const r = await run('smoke-config');
      expect(r.exitCode, r.output).toBe(0);
      expect(r.output).not.toMatch(/-secret/);
    }, 60_000);

    for (const scenario of SQL_SCENARIOS) {
      it(`${scenario} runs 5 s, passes its thresholds and reconciles with 0 missing`, async () => {
        await stack.setLag('0');
        const r = await run(scenario);
        expect(r.exitCode, r.output).toBe(0);
        expect(r.figures, r.output).not.toBeNull();
        const f = r.figures as ConsistencyFigures;
        expect(f.errors).toBe(0);
        expect(f.reconcile.checked).toBeGreaterThan(0);
        expect(f.reconcile.missingWriter + f.reconcile.missingReader).toBe(0);
      }, 120_000);
    }

    it('with 50 ms injected lag: stale rate ≥ 0.9 and visibility lag p50 within 45–60 ms', async () => {
      await stack.setLag('50ms');
      try {
        const r = await run('sql-read-after-write');
        expect(r.exitCode, r.output).toBe(0);
        const f = r.figures as ConsistencyFigures;
        expect(f.staleRate).toBeGreaterThanOrEqual(0.9);
        expect(f.visibilityLag?.p50).toBeGreaterThanOrEqual(45);
        expect(f.visibilityLag?.p50).toBeLessThanOrEqual(60);
        expect(f.visibilityTimeouts).toBe(0);
        expect(f.reconcile.missingReader).toBe(0);
      } finally {
        await stack.setLag('0');
      }
    }, 120_000);

    it('with a frozen replica: the run completes and reports timeouts, not lag values', async () => {
      await stack.setLag('freeze');
      try {
        const r = await run('sql-read-after-write', {
          CQRS_PROBE_TIMEOUT: '300ms',
          CQRS_CATCHUP_TIMEOUT: '1s',
        });
        // Timeouts and missing reader rows fail thresholds (exit 99), which is a finished run, not a crash.
        expect(r.exitCode, r.output).toBe(99);
        const f = r.figures as ConsistencyFigures;
        expect(f.probes).toBeGreaterThan(0);
        expect(f.visibilityTimeouts).toBe(f.probes);
        expect(f.visibilityLag?.count ?? 0).toBe(0);
        expect(f.reconcile.missingWriter).toBe(0);
      } finally {
        await stack.setLag('thaw');
      }
    }, 120_000);
  });
}
