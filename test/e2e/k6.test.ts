/**
 * End-to-end: the built bundles run in a real k6 against a test stack (with the API). Runs only when K6_BIN
 * points at a k6 with xk6-sql and the MySQL driver (see build/xk6/README.md); otherwise the suite is skipped with
 * that message. The bounds asserted here are the ones docs/k6-scenarios.md states ("How each number is measured").
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleScenarios } from '../../build/bundle.ts';
import { K6_METRICS } from '../../common/metrics.ts';
import { strategyRows } from '../../lib/api/report.ts';
import type { SummaryData } from '../../lib/summary/data.ts';
import { count } from '../../lib/summary/data.ts';
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
  summary: SummaryData | null;
}

const M = K6_METRICS;
/** The heartbeat bound at the default 10 Hz: ±max(2 ms, one beat interval / 10). */
const HEARTBEAT_BOUND_MS = 10;

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
    const file = join(work, 'reports', testId, 'summary.json');
    const summary = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SummaryData) : null;
    return {
      exitCode: child.exitCode ?? -1,
      output: child.all ?? '',
      figures: summary && consistencyFigures(summary),
      summary,
    };
  }

  /** Every acknowledged write reached the ledger (the ledger_flush scenario ran in every VU) and was checked. */
  function expectEveryAckChecked(r: Run): void {
    const s = r.summary as SummaryData;
    const acked = count(s, M.ackedWrites.name);
    expect(acked, r.output).toBeGreaterThan(0);
    expect(count(s, M.ledgerFlushed.name), r.output).toBe(acked);
    expect(count(s, M.reconcileChecked.name), r.output).toBe(acked);
  }

  beforeAll(async () => {
    k6 = (await findK6({ ...process.env, K6_BIN })).path;
    work = mkdtempSync(join(tmpdir(), 'cqrs-e2e-'));
    await bundleScenarios({ outDir: join(work, 'dist'), typecheck: false });
    stack = await startTestStack({ api: true });
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
        expectEveryAckChecked(r);
      }, 120_000);
    }

    for (const lagMs of [0, 50]) {
      it(`heartbeat lag p50 is within ±${HEARTBEAT_BOUND_MS} ms of an injected ${lagMs} ms (10 Hz)`, async () => {
        await stack.setLag(lagMs === 0 ? '0' : `${lagMs}ms`);
        try {
          const r = await run('sql-replica-lag');
          expect(r.exitCode, r.output).toBe(0);
          const hb = (r.figures as ConsistencyFigures).heartbeatLag;
          expect(hb?.count, r.output).toBeGreaterThan(30);
          expect(Math.abs((hb?.p50 as number) - lagMs), r.output).toBeLessThanOrEqual(HEARTBEAT_BOUND_MS);
          // No sample from an earlier run's heartbeat (those read as minutes of lag).
          expect(hb?.max as number, r.output).toBeLessThan(lagMs + 100);
        } finally {
          await stack.setLag('0');
        }
      }, 120_000);
    }

    for (const lagMs of [5, 50]) {
      it(`visibility lag p50 − injected ${lagMs} ms is within [0, 2] ms, with sub-millisecond values`, async () => {
        await stack.setLag(`${lagMs}ms`);
        try {
          const r = await run('sql-read-after-write');
          expect(r.exitCode, r.output).toBe(0);
          const lag = (r.figures as ConsistencyFigures).visibilityLag;
          const excess = (lag?.p50 as number) - lagMs;
          expect(excess, r.output).toBeGreaterThanOrEqual(0);
          expect(excess, r.output).toBeLessThanOrEqual(2);
          // A whole-millisecond client clock could only give whole values.
          expect(
            [lag?.p50, lag?.avg, lag?.max].some((v) => !Number.isInteger(v)),
            r.output,
          ).toBe(true);
          expect(count(r.summary as SummaryData, M.visibilityLagUpperBound.name)).toBe(0);
        } finally {
          await stack.setLag('0');
        }
      }, 120_000);
    }

    it('API comparison at 50 ms: eventual ≥ 90% stale; the other strategies 0 stale, primary/sticky/cache lag p50 ≤ 1 ms', async () => {
      await stack.setLag('50ms');
      try {
        const r = await run('api-read-after-write');
        expect(r.exitCode, r.output).toBe(0);
        const rows = Object.fromEntries(
          strategyRows(r.summary as SummaryData, ['eventual', 'primary', 'gtid-wait', 'sticky', 'cache']).map(
            (row) => [row.strategy, row],
          ),
        );
        expect(rows.eventual?.staleRate, r.output).toBeGreaterThanOrEqual(0.9);
        for (const strategy of ['primary', 'gtid-wait', 'sticky', 'cache']) {
          expect(rows[strategy]?.staleRate, `${strategy}\n${r.output}`).toBe(0);
        }
        for (const strategy of ['primary', 'sticky', 'cache']) {
          expect(rows[strategy]?.lagP50, `${strategy}\n${r.output}`).toBeLessThanOrEqual(1);
        }
        expectEveryAckChecked(r);
      } finally {
        await stack.setLag('0');
      }
    }, 180_000);

    it('with 50 ms injected lag: stale rate ≥ 0.9 and visibility lag p50 within 50–52 ms', async () => {
      await stack.setLag('50ms');
      try {
        const r = await run('sql-read-after-write');
        expect(r.exitCode, r.output).toBe(0);
        const f = r.figures as ConsistencyFigures;
        expect(f.staleRate).toBeGreaterThanOrEqual(0.9);
        expect(f.visibilityLag?.p50).toBeGreaterThanOrEqual(50);
        expect(f.visibilityLag?.p50).toBeLessThanOrEqual(52);
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
