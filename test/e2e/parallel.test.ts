import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { mysqlUrl } from '../../common/endpoints.ts';
import { K6_METRICS } from '../../common/metrics.ts';
import { LOCAL_STACK_STRATEGIES } from '../../common/strategies.ts';
import { K6_BUILTIN_METRICS } from '../../lib/summary/data.ts';
import {
  describeWithBinary,
  describeWithK6Bin,
  type K6RunnerRun,
  STOCK_K6,
  STOCK_K6_MISSING,
  useK6Runs,
} from '../helpers/k6-e2e.ts';
import type { TestStack } from '../kit/stack.ts';

const M = K6_METRICS;

/**
 * The load, set explicitly so the schedule is known: the smoke profile is a constant arrival rate, so each
 * workload scenario schedules RATE × DURATION iterations (k6 may start one more at the schedule's last instant).
 */
const RATE = 10;
const DURATION_S = 5;
const LOAD = { CQRS_PROFILE: 'smoke', CQRS_RATE: String(RATE), CQRS_DURATION: `${DURATION_S}s` };
const SCHEDULE = RATE * DURATION_S;

/** Per runner id, a count of the writer's rows of one run id. */
type PerRunner = Record<string, number>;

const ACKS_PER_RUNNER = 'SELECT runner, COUNT(*) AS n FROM probe_acks WHERE run_id = ? GROUP BY runner';
const PROBE_ROWS_PER_RUNNER = 'SELECT runner, COUNT(*) AS n FROM probe_rows WHERE run_id = ? GROUP BY runner';
/** API probe users carry their key in the email: `<run>+<runner>+<vu>+<seq>@probe.example` (lib/api/sql.ts). */
const USERS_PER_RUNNER =
  "SELECT SUBSTRING_INDEX(SUBSTRING_INDEX(email, '+', 2), '+', -1) AS runner, COUNT(*) AS n FROM users " +
  "WHERE email LIKE CONCAT(?, '+%@probe.example') GROUP BY runner";
const VUS = 'SELECT DISTINCT runner, vu FROM probe_acks WHERE run_id = ?';

const count = (r: K6RunnerRun, name: string): number => r.summary?.metrics[name]?.values.count ?? 0;
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** A writer pool on the suite's stack, opened once the stack is up. */
function useWriter(stack: () => TestStack) {
  let db: Pool | undefined;
  beforeAll(() => {
    db = createPool({ uri: mysqlUrl(stack().endpoints.writer), connectionLimit: 2 });
  });
  afterAll(async () => {
    await db?.end();
  });
  const pool = () => {
    if (!db) throw new Error('the writer pool is not open (beforeAll has not run)');
    return db;
  };
  return {
    perRunner: async (sql: string, runId: string): Promise<PerRunner> => {
      const [rows] = await pool().query<RowDataPacket[]>(sql, [runId]);
      return Object.fromEntries(rows.map((r) => [String(r.runner), Number(r.n)]));
    },
    /** Per runner, the VU ids it acknowledged writes of. */
    vus: async (runId: string): Promise<Record<string, number[]>> => {
      const [rows] = await pool().query<RowDataPacket[]>(VUS, [runId]);
      const out: Record<string, number[]> = {};
      for (const r of rows) out[String(r.runner)] = [...(out[String(r.runner)] ?? []), Number(r.vu)];
      return out;
    },
  };
}

/**
 * What every runner of a healthy run must show: it passed, named its own runner id (from its instance_id tag),
 * reconciled exactly the writes it acknowledged (all in the ledger, none missing), and the writer's ledger
 * holds exactly that many rows of the run id under its runner id, and nothing under any other.
 */
function expectScopedPerRunner(runs: readonly K6RunnerRun[], ledger: PerRunner): void {
  for (const r of runs) {
    expect(r.exitCode, r.output).toBe(0);
    expect(r.output).toContain(`run ${r.testId}, runner ${r.runner};`);
    const f = r.figures;
    expect(f, r.output).not.toBeNull();
    const acked = f?.reconcile.acknowledged ?? 0;
    expect(acked, r.output).toBeGreaterThan(0);
    expect(f?.reconcile.inLedger, r.output).toBe(acked);
    expect(f?.reconcile.checked, r.output).toBe(acked);
    expect(f?.reconcile.missingWriter, r.output).toBe(0);
    expect(f?.reconcile.missingReader, r.output).toBe(0);
    expect(r.output).toContain(
      `reconciliation (run ${r.testId}, runner ${r.runner}): ${acked} acknowledged, 0 missing on writer, 0 missing on reader`,
    );
    expect(ledger[r.runner], `runner ${r.runner}'s rows in probe_acks`).toBe(acked);
  }
  expect(Object.keys(ledger).sort()).toEqual(runs.map((r) => r.runner).sort());
}

/**
 * The iteration split. k6 gives each runner a share of a scenario's arrival schedule in proportion to its share
 * of the scenario's VUs, striped over the segment sequence: with the smoke profile's 2 VUs per scenario and 2
 * runners, runner 1 (`0:1/2`) starts iterations 0, 2, 4, … and runner 2 (`1/2:1`) 1, 3, 5, … So per workload
 * scenario each runner starts SCHEDULE/2 iterations, runner 1 one more when k6 starts the one at the schedule's
 * last instant, and together they start SCHEDULE or SCHEDULE + 1: the whole schedule, none twice. `done` counts
 * one runner's started iterations (the workload's own counter, plus any k6 dropped for want of a VU).
 */
function expectScheduleSplit(
  runs: readonly K6RunnerRun[],
  scenarios: number,
  done: (r: K6RunnerRun) => number,
) {
  const started = runs.map((r) => done(r) + count(r, K6_BUILTIN_METRICS.droppedIterations));
  for (const [i, n] of started.entries()) {
    expect(n, `runner ${runs[i]?.runner}`).toBeGreaterThanOrEqual((SCHEDULE / 2) * scenarios);
    expect(n, `runner ${runs[i]?.runner}`).toBeLessThanOrEqual((SCHEDULE / 2 + 1) * scenarios);
  }
  expect(sum(started)).toBeGreaterThanOrEqual(SCHEDULE * scenarios);
  expect(sum(started)).toBeLessThanOrEqual((SCHEDULE + 1) * scenarios);
}

/** One line per runner for the test log: the numbers a reader of CI output wants to see. */
function logRuns(label: string, runs: readonly K6RunnerRun[], db: Record<string, PerRunner>): void {
  const lines = runs.map(
    (r) =>
      `  runner ${r.runner}: exit ${r.exitCode}, ${r.wallMs} ms, acked ${r.figures?.reconcile.acknowledged}, ` +
      `checked ${r.figures?.reconcile.checked}, probes ${r.figures?.probes}, ` +
      `writes ${count(r, M.sqlWrites.name)}, dropped ${count(r, K6_BUILTIN_METRICS.droppedIterations)}`,
  );
  console.log([`${label}: ${JSON.stringify(db)}`, ...lines].join('\n'));
}

describeWithK6Bin('parallel runners on a real k6 (SQL bundles)', (k6Bin) => {
  const k6 = useK6Runs(async () => k6Bin);
  const writer = useWriter(() => k6.stack);

  it('sql-read-after-write, 2 runners side by side: each reconciles exactly its own writes, and the sums are right', async () => {
    const runs = await k6.runParallel('sql-read-after-write', 2, LOAD);
    const runId = runs[0]?.testId ?? '';
    const acks = await writer.perRunner(ACKS_PER_RUNNER, runId);
    const rows = await writer.perRunner(PROBE_ROWS_PER_RUNNER, runId);
    logRuns('sql-read-after-write ×2', runs, { acks, rows });
    expectScopedPerRunner(runs, acks);
    // Every probe row of the run id is an acknowledged write of exactly one runner: per runner and in sum.
    expect(rows).toEqual(acks);
    expect(sum(Object.values(rows))).toBe(sum(runs.map((r) => r.figures?.reconcile.acknowledged ?? 0)));
    expectScheduleSplit(runs, 1, (r) => count(r, M.probeWrites.name));
    // With the segment sequence k6 numbers VUs across runners, so no VU id appears under both runner ids (keys
    // carry the runner anyway: test/k6/run-scope.test.ts gives both runners the same VU id).
    const vus = await writer.vus(runId);
    expect((vus['1'] ?? []).filter((vu) => (vus['2'] ?? []).includes(vu))).toEqual([]);
  }, 180_000);

  it('sql-write-load, runner 2 starting after runner 1 has finished: not refused, and each reconciles only its own', async () => {
    const env = { ...LOAD, CQRS_TEST_ID: `e2e-${process.pid}-late-runner` };
    const first = await k6.runRunner('sql-write-load', { index: 1, count: 2 }, env);
    // Runner 1's rows are on the writer under this run id: runner 2's setup must not take them for its own.
    const late = await k6.runRunner('sql-write-load', { index: 2, count: 2 }, env);
    const acks = await writer.perRunner(ACKS_PER_RUNNER, env.CQRS_TEST_ID);
    const rows = await writer.perRunner(PROBE_ROWS_PER_RUNNER, env.CQRS_TEST_ID);
    logRuns('sql-write-load, runner 2 after runner 1', [first, late], { acks, rows });
    expectScopedPerRunner([first, late], acks);
    expect(rows).toEqual(acks);
    expect(late.output).not.toContain('already used');
    expectScheduleSplit([first, late], 1, (r) => count(r, M.sqlWrites.name));

    // Runner 2 again (a restarted pod): refused at setup, naming its own rows only, not the run id's total.
    const again = await k6.runRunner('sql-write-load', { index: 2, count: 2 }, env);
    expect(again.exitCode, again.output).toBe(108);
    expect(again.output).toContain(
      `CQRS_TEST_ID=${env.CQRS_TEST_ID} is already used (runner 2): the writer holds ${rows['2']} probe_rows and ${acks['2']} probe_acks rows of it`,
    );
    expect(await writer.perRunner(ACKS_PER_RUNNER, env.CQRS_TEST_ID)).toEqual(acks);
  }, 180_000);
});

describeWithBinary('parallel runners on the stock k6 (API bundles)', STOCK_K6, STOCK_K6_MISSING, (stock) => {
  const k6 = useK6Runs(async () => stock, { api: true });
  const writer = useWriter(() => k6.stack);

  it('api-read-after-write, 2 runners side by side: each reconciles exactly its own writes through the API ledger', async () => {
    const runs = await k6.runParallel('api-read-after-write', 2, LOAD);
    const runId = runs[0]?.testId ?? '';
    const acks = await writer.perRunner(ACKS_PER_RUNNER, runId);
    const users = await writer.perRunner(USERS_PER_RUNNER, runId);
    logRuns('api-read-after-write ×2', runs, { acks, users });
    expectScopedPerRunner(runs, acks);
    // Every probe user of the run id is an acknowledged write of exactly one runner.
    expect(users).toEqual(acks);
    expect(sum(Object.values(users))).toBe(sum(runs.map((r) => r.figures?.reconcile.acknowledged ?? 0)));
    // One workload scenario per strategy, each at CQRS_RATE.
    expectScheduleSplit(runs, LOCAL_STACK_STRATEGIES.length, (r) => count(r, M.probeWrites.name));
  }, 180_000);

  it('api-read-after-write, 2 strategies of 3 VUs over 2 runners: every VU of each runner flushes its ledger', async () => {
    // k6 scales each scenario's VUs to the segment on its own: runner 1 holds 2 + 2 VUs, runner 2 1 + 1. One
    // flush scenario of 3 + 3 VUs scaled to 3 in runner 1, so one of its VUs never flushed: its acknowledged
    // writes went unchecked (acked 68, flushed and checked 51, exit 0), before lib/profiles.ts
    // ledgerFlushScenarios gave each workload scenario its own flush.
    const runs = await k6.runParallel('api-read-after-write', 2, {
      ...LOAD,
      CQRS_PROFILE: 'soak', // smoke caps CQRS_VUS at 2
      CQRS_VUS: '3',
      CQRS_API_STRATEGIES: 'eventual,primary',
    });
    const acks = await writer.perRunner(ACKS_PER_RUNNER, runs[0]?.testId ?? '');
    logRuns('api-read-after-write ×2, 3 VUs per strategy', runs, { acks });
    expect(runs.map((r) => r.summary?.metrics[K6_BUILTIN_METRICS.vusMax]?.values.max)).toEqual([4, 2]);
    expectScopedPerRunner(runs, acks);
    // The schedule splits 2:1 with the VUs here, but together the runners still run all of it, once.
    const started = sum(
      runs.map((r) => count(r, M.probeWrites.name) + count(r, K6_BUILTIN_METRICS.droppedIterations)),
    );
    expect(started).toBeGreaterThanOrEqual(SCHEDULE * 2);
    expect(started).toBeLessThanOrEqual((SCHEDULE + 1) * 2);
  }, 180_000);
});
