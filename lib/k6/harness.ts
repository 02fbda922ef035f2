/**
 * What every SQL scenario shares: config (read once per VU), per-VU pools, the store, session checks and the
 * metric bookkeeping, plus the setup/teardown/handleSummary lifecycle. A scenario file only declares its
 * workload shape and what one iteration does.
 */
import type { Options, Scenario } from 'k6/options';
import { dialectFor } from '../../common/dialect.ts';
import { type Config, describeConfig, loadConfig } from '../config.ts';
import { sampleHeartbeat } from '../heartbeat.ts';
import { type ProbeOutcome, runProbe } from '../probe.ts';
import { type ReconcileResult, reconcile } from '../reconcile.ts';
import { SessionChecker } from '../session.ts';
import type { ProbeKey } from '../store.ts';
import { SUMMARY_TREND_STATS, type SummaryData } from '../summary/data.ts';
import { summaryFiles } from '../summary/index.ts';
import { type SqlScenarioName, thresholdsFor } from '../thresholds.ts';
import { k6Clock } from './clock.ts';
import { openDb } from './db.ts';
import { METRICS } from './metrics.ts';
import { type RunInfo, resolveRunInfo, vuId } from './run-info.ts';
import { SqlStore } from './sql-store.ts';

export type { RunInfo } from './run-info.ts';

/** Seconds_Behind is coarse (whole seconds): sample it once per this many heartbeat samples. */
const SECONDS_BEHIND_EVERY = 10;
const RECONCILE_POLL_MS = 100;

export interface SqlHarness {
  readonly config: Config;
  readonly store: SqlStore;
  options(scenarios: Record<string, Scenario>): Options;
  setup(): RunInfo;
  teardown(run: RunInfo): void;
  handleSummary(data: SummaryData): Record<string, string>;
  nextKey(run: RunInfo): ProbeKey;
  session(): SessionChecker;
  /** The read-after-write probe, with its metrics and session checks recorded. */
  probe(run: RunInfo): ProbeOutcome;
  heartbeatWrite(): void;
  heartbeatSample(): void;
  /** Runs `fn` and adds any new session violations to the counters. */
  checked<T>(fn: () => T): T;
}

export function createSqlHarness(
  scenario: SqlScenarioName,
  env: Record<string, string | undefined>,
): SqlHarness {
  const config = loadConfig(env);
  const dialect = dialectFor(config.flavor);
  const pool = { maxOpenConns: config.maxOpenConns };
  const store = new SqlStore(
    openDb('writer', config.writerDsn, pool),
    openDb('reader', config.readerDsn, pool),
    openDb('reader', config.monitorDsn, { maxOpenConns: 1 }),
    {
      dialect,
      strategy: config.sqlStrategy,
      payloadBytes: config.payloadBytes,
      gtidWaitSeconds: Math.max(1, Math.ceil(config.probeTimeoutMs / 1000)),
    },
    (line) => console.warn(line),
  );
  const tags = { strategy: config.sqlStrategy };

  // Per-VU state (each VU has its own JS runtime).
  let seq = 0;
  let samples = 0;
  let checker: SessionChecker | undefined;
  const session = (): SessionChecker => {
    checker ??= new SessionChecker(vuId(), config.violationLogLimit, (line) => console.warn(line));
    return checker;
  };

  const checked = <T>(fn: () => T): T => {
    const s = session();
    const ryw = s.counts['read-your-writes'];
    const mono = s.counts['monotonic-reads'];
    try {
      return fn();
    } finally {
      if (s.counts['read-your-writes'] > ryw)
        METRICS.rywViolations.add(s.counts['read-your-writes'] - ryw, tags);
      if (s.counts['monotonic-reads'] > mono)
        METRICS.monotonicViolations.add(s.counts['monotonic-reads'] - mono, tags);
    }
  };

  const nextKey = (run: RunInfo): ProbeKey => ({
    runId: run.runId,
    runner: run.runner,
    vu: vuId(),
    seq: seq++,
  });

  return {
    config,
    store,
    options: (scenarios) => ({
      scenarios,
      thresholds: thresholdsFor(scenario, config.thresholds),
      summaryTrendStats: SUMMARY_TREND_STATS,
      // Reconciliation may wait for the reader to catch up.
      teardownTimeout: `${Math.ceil(config.catchupTimeoutMs / 1000) + 60}s`,
    }),
    setup: () => {
      const run = resolveRunInfo(config, scenario, Date.now());
      console.log(`${scenario}: run ${run.runId}, runner ${run.runner}; ${describeConfig(config).join(' ')}`);
      return run;
    },
    teardown: (run) => {
      let result: ReconcileResult;
      try {
        result = reconcile(store, k6Clock, run, {
          catchupTimeoutMs: config.catchupTimeoutMs,
          pollIntervalMs: RECONCILE_POLL_MS,
        });
      } catch (err) {
        METRICS.reconcileErrors.add(1);
        console.error(
          `reconciliation (run ${run.runId}, runner ${run.runner}) could not run: ${String(err)}`,
        );
        return;
      }
      // Always add (even 0) so the counters exist in every summary and their thresholds are evaluated.
      METRICS.reconcileErrors.add(0);
      METRICS.reconcileChecked.add(result.acked);
      METRICS.reconcileMissingWriter.add(result.missingWriter);
      METRICS.reconcileMissingReader.add(result.missingReader);
      if (result.catchupMs !== null) METRICS.reconcileCatchup.add(result.catchupMs);
      const gaps = result.vusWithGaps.length
        ? `; VUs with gaps: ${result.vusWithGaps.slice(0, 20).join(',')}`
        : '';
      console.log(
        `reconciliation (run ${run.runId}, runner ${run.runner}): ${result.acked} acknowledged, ` +
          `${result.missingWriter} missing on writer, ${result.missingReader} missing on reader${gaps}`,
      );
    },
    handleSummary: (data) => {
      const run = data.setup_data as Partial<RunInfo> | undefined;
      return summaryFiles(data, {
        scenario,
        testId: run?.runId ?? (config.testId || scenario),
        runner: run?.runner ?? (config.runner || '0'),
        reportDir: config.reportDir,
        title: `Consistency report: ${scenario} (${run?.runId ?? config.testId})`,
        configLines: describeConfig(config),
      });
    },
    nextKey,
    session,
    probe: (run) => {
      const outcome = checked(() =>
        runProbe(
          store,
          k6Clock,
          nextKey(run),
          { timeoutMs: config.probeTimeoutMs, pollIntervalMs: config.pollIntervalMs },
          session(),
        ),
      );
      METRICS.rawWrites.add(1, tags);
      METRICS.rawReads.add(1, tags);
      METRICS.staleReads.add(outcome.stale ? 1 : 0, tags);
      METRICS.staleRead.add(outcome.stale, tags);
      METRICS.rawPolls.add(outcome.polls, tags);
      METRICS.visibilityTimeouts.add(outcome.timedOut ? 1 : 0, tags);
      if (outcome.visibilityLagMs !== null) METRICS.visibilityLag.add(outcome.visibilityLagMs, tags);
      return outcome;
    },
    heartbeatWrite: () => store.beat(),
    heartbeatSample: () => {
      const sample = checked(() => sampleHeartbeat(store, k6Clock, session()));
      if (sample) {
        METRICS.heartbeatLag.add(sample.lagMs);
        METRICS.heartbeatLagNow.add(sample.lagMs);
      }
      if (samples++ % SECONDS_BEHIND_EVERY === 0) {
        const behind = store.secondsBehind();
        if (behind !== null) METRICS.secondsBehind.add(behind);
      }
    },
    checked,
  };
}
