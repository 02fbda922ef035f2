/**
 * The part of the scenario lifecycle that the SQL harness (lib/k6/harness.ts) and the API harness
 * (lib/api/harness.ts) share: per-VU session checks and probe keys, the probe's metrics, options, setup,
 * reconciliation in teardown and the report files. One copy, so that a SQL run and an API run of the same
 * measurement record the same metrics, log the same lines and write the same reports. It also makes runs fail
 * fast and say why once: setup checks every endpoint and the run id before any load (lib/k6/preflight.ts), and
 * every exec function runs inside `iteration`, which counts and rate-limits errors (lib/k6/failures.ts).
 */
import exec from 'k6/execution';
import type { Options, Scenario } from 'k6/options';
import type { Config } from '../config.ts';
import { type ProbeOutcome, runProbe } from '../probe.ts';
import { ledgerFlushScenarios, profileDurationMs, profileScenario, type Workload } from '../profiles.ts';
import { type ReconcileResult, reconcile } from '../reconcile.ts';
import { SessionChecker } from '../session.ts';
import type { ProbeKey, ProbeTarget, ReconcileSource } from '../store.ts';
import { SUMMARY_TREND_STATS, type SummaryData } from '../summary/data.ts';
import { summaryFiles } from '../summary/index.ts';
import type { ReportPlan } from '../summary/sections.ts';
import type { Thresholds } from '../thresholds.ts';
import { k6Clock } from './clock.ts';
import { classifyError, FAILURE_LOG_DEFAULTS, type Failure, FailureLog, reasonOf } from './failures.ts';
import { METRICS } from './metrics.ts';
import {
  abortReason,
  type CheckFailure,
  type EndpointCheck,
  failureLine,
  type RunHoldings,
  reusedIdReason,
  reuseSeqBase,
  runEndpointChecks,
} from './preflight.ts';
import { type RunInfo, resolveRunInfo, vuId } from './run-info.ts';

const RECONCILE_POLL_MS = 100;

/** What setup checks before any load is sent (lib/k6/preflight.ts). */
export interface SetupChecks {
  /** Every endpoint the scenario uses. */
  readonly endpoints: readonly EndpointCheck[];
  /** What holds the run id already; null for a scenario that keeps no rows per run (api-seed-compat). */
  readonly holdings: RunHoldings | null;
}

/**
 * Ends the test from setup: k6 skips the iterations and teardown, runs handleSummary, prints `test aborted:
 * <reason>` (no stack) and exits 108. The throw is for runtimes where abort returns (tests' stubs).
 */
function abort(reason: string): never {
  exec.test.abort(reason);
  throw new Error(`test aborted: ${reason}`);
}

export type MetricTags = Readonly<Record<string, string>>;

/** What a scenario may add to its main workload; the rest comes from the config. */
export type WorkloadExtras = Pick<Workload, 'maxIterationMs' | 'tags'>;

/** What the end-of-run flush empties in each VU: its buffered acknowledgements (lib/ledger.ts). */
export interface LedgerFlusher {
  flush(): void;
}

export interface HarnessCore {
  /** `exec` at CQRS_RATE/s (open model), bounded by CQRS_VUS, shaped by CQRS_PROFILE over CQRS_DURATION. */
  openWorkload(exec: string, extras?: WorkloadExtras): Scenario;
  /** The scenarios plus the ledger flush (ledgerFlushScenarios), which runs `flushLedger` once in every VU at the end. */
  options(scenarios: Record<string, Scenario>, thresholds: Thresholds): Options;
  /** The ledger_flush scenario's exec function: scenarios export it as `flushLedger`. */
  flushLedger(): void;
  /** Checks the endpoints and the run id (aborting the test with one line per cause), then names the run. */
  setup(checks: SetupChecks): RunInfo;
  /**
   * Wraps an exec function: whatever it throws is classified, counted in iteration_errors{kind} and logged a
   * few at a time, never rethrown (k6 would log each with its stack trace). exec.test.abort cannot be caught.
   */
  iteration<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  /** Reconciles `source` and records the result; a reconciliation that cannot run counts as an error. */
  reconcile(source: ReconcileSource, run: RunInfo): void;
  /** The report files: `plan`'s sections, and its verdicts as the only thresholds listed. */
  handleSummary(data: SummaryData, plan: ReportPlan): Record<string, string>;
  nextKey(run: RunInfo): ProbeKey;
  session(): SessionChecker;
  /** Runs `fn` and adds any new session violations to the counters, tagged `tags`. */
  checked<T>(fn: () => T, tags: MetricTags): T;
  /** The read-after-write probe against `target`, with its metrics and session checks recorded. */
  probe(target: ProbeTarget, run: RunInfo, tags: MetricTags): ProbeOutcome;
}

/** One client read that should have seen a write: counted, and counted stale when it did not. */
export function recordRead(stale: boolean, tags: MetricTags): void {
  METRICS.probeReads.add(1, tags);
  METRICS.staleReads.add(stale ? 1 : 0, tags);
  METRICS.staleReadRatio.add(stale, tags);
}

/** Called in init code, so every VU (its own JS runtime) gets its own sequence and session checker. */
export function createHarnessCore(
  scenario: string,
  config: Config,
  configLines: readonly string[],
  ledger: LedgerFlusher,
): HarnessCore {
  let seq = 0;
  let checker: SessionChecker | undefined;
  const failures = new FailureLog({
    ...FAILURE_LOG_DEFAULTS,
    now: () => Date.now(),
    log: (line) => console.error(line),
    label: () => `vu ${vuId()}`,
  });
  /** An error caught by `iteration`, or one the probe handled (a failed read): counted, logged a few at a time. */
  const reportError = (err: unknown, context?: string): void => {
    const f = classifyError(err);
    METRICS.iterationErrors.add(1, { kind: f.kind });
    failures.report(context ? ({ kind: f.kind, reason: `${context}: ${f.reason}` } satisfies Failure) : f);
  };
  const session = (): SessionChecker => {
    checker ??= new SessionChecker(vuId(), config.violationLogLimit, (line) => console.warn(line));
    return checker;
  };

  const nextKey = (run: RunInfo): ProbeKey => ({
    runId: run.runId,
    runner: run.runner,
    vu: vuId(),
    seq: run.seqBase + seq++,
  });

  const checked = <T>(fn: () => T, tags: MetricTags): T => {
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

  return {
    openWorkload: (exec, extras) =>
      profileScenario(config.profile, {
        exec,
        model: 'open',
        rate: config.rate,
        vus: config.vus,
        durationMs: config.durationMs,
        ...extras,
      }),
    options: (scenarios, thresholds) => ({
      scenarios: { ...scenarios, ...ledgerFlushScenarios(scenarios) },
      thresholds,
      summaryTrendStats: SUMMARY_TREND_STATS,
      // Reconciliation may wait for the reader to catch up.
      teardownTimeout: `${Math.ceil(config.catchupTimeoutMs / 1000) + 60}s`,
    }),
    setup: (checks) => {
      const run = resolveRunInfo(config, scenario, Date.now());
      const refuse = (failed: readonly CheckFailure[]): never => {
        for (const f of failed) console.error(failureLine(scenario, f));
        return abort(abortReason(scenario, failed, checks.endpoints.length));
      };
      const failed = runEndpointChecks(checks.endpoints);
      if (failed.length > 0) refuse(failed);
      let held: string | null = null;
      if (checks.holdings) {
        try {
          held = checks.holdings.find(run);
        } catch (err) {
          refuse([{ ...checks.holdings.check, reason: reasonOf(err) }]);
        }
      }
      const reuse = config.reuseTestId === '1';
      if (held !== null && !reuse) abort(reusedIdReason(scenario, run.runId, run.runner, held));
      // Always added (even 0) so the counter and its threshold are in every summary.
      METRICS.iterationErrors.add(0);
      const reusing = held === null ? '' : ` (reused: ${held}; they count in this run's reconciliation)`;
      console.log(`${scenario}: run ${run.runId}${reusing}, runner ${run.runner}; ${configLines.join(' ')}`);
      return reuse ? { ...run, seqBase: reuseSeqBase(run.startedAtMs) } : run;
    },
    iteration:
      (fn) =>
      (...args) => {
        try {
          fn(...args);
        } catch (err) {
          reportError(err);
        }
        failures.tick();
      },
    reconcile: (source, run) => {
      let result: ReconcileResult;
      try {
        result = reconcile(source, k6Clock, run, {
          catchupTimeoutMs: config.catchupTimeoutMs,
          pollIntervalMs: RECONCILE_POLL_MS,
        });
      } catch (err) {
        // A reconciliation that could not run must fail the run, not pass it silently.
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
      const gaps =
        result.vusWithGaps.length > 0 ? `; VUs with gaps: ${result.vusWithGaps.slice(0, 20).join(',')}` : '';
      console.log(
        `reconciliation (run ${run.runId}, runner ${run.runner}): ${result.acked} acknowledged, ` +
          `${result.missingWriter} missing on writer, ${result.missingReader} missing on reader${gaps}`,
      );
    },
    handleSummary: (data, plan) => {
      const run = data.setup_data as Partial<RunInfo> | undefined;
      // Setup refused to start (k6 still calls handleSummary): no load ran, and writing reports now would
      // overwrite the ones of the run that holds the id.
      if (!run?.runId)
        return { stdout: `${scenario}: setup did not finish, so no load ran and no report was written\n` };
      return summaryFiles(data, {
        scenario,
        testId: run.runId,
        runner: run.runner ?? (config.runner || '0'),
        reportDir: config.reportDir,
        title: `Consistency report: ${scenario} (${run.runId})`,
        configLines,
        sections: plan.sections,
        strategies: plan.strategies,
        verdicts: plan.verdicts,
        // Rates over the workload's own schedule, comparable with CQRS_RATE (not diluted by setup/teardown).
        workloadMs: profileDurationMs(config.profile, config.durationMs),
      });
    },
    flushLedger: () => {
      try {
        ledger.flush();
      } catch (err) {
        // Its acknowledgements stay unchecked (counted as unverified in the report), never missing. Logged like
        // any iteration's error: after an outage every VU's flush fails alike.
        reportError(err, 'ledger flush');
      }
      // The VU's last exec: whatever errors are still unlogged get their line now.
      failures.flush();
    },
    nextKey,
    session,
    checked,
    probe: (target, run, tags) => {
      const outcome = checked(
        () =>
          runProbe(
            target,
            k6Clock,
            nextKey(run),
            { timeoutMs: config.probeTimeoutMs, pollIntervalMs: config.pollIntervalMs },
            session(),
          ),
        tags,
      );
      // Every acknowledged probe write is a probe, an error-probe too (lib/probe.ts).
      METRICS.probeWrites.add(1, tags);
      if (outcome.readError !== 'immediate') recordRead(outcome.stale, tags);
      METRICS.visibilityPolls.add(outcome.polls, tags);
      if (outcome.readError) {
        METRICS.probeErrors.add(1, { ...tags, read: outcome.readError });
        reportError(outcome.error, `probe's ${outcome.readError} read`);
      } else METRICS.probeErrors.add(0, tags);
      METRICS.visibilityTimeouts.add(outcome.timedOut ? 1 : 0, tags);
      if (outcome.visibilityLagMs !== null) METRICS.visibilityLag.add(outcome.visibilityLagMs, tags);
      if (outcome.clientLagMs !== null) METRICS.visibilityLagClient.add(outcome.clientLagMs, tags);
      if (outcome.basis === 'read-time') METRICS.visibilityLagUpperBound.add(1, tags);
      return outcome;
    },
  };
}
