/**
 * What every API scenario shares (the HTTP twin of lib/k6/harness.ts): config read once per VU, one API
 * client and store per VU and strategy, session checks, the probe with its metrics, reconciliation in
 * teardown, and a consistency report with the strategy comparison.
 */
import type { Options, Scenario } from 'k6/options';
import type { Strategy } from '../../common/strategies.ts';
import { type Config, describeConfig, loadConfig } from '../config.ts';
import { k6Clock } from '../k6/clock.ts';
import { openDb } from '../k6/db.ts';
import { METRICS } from '../k6/metrics.ts';
import { type RunInfo, resolveRunInfo, vuId } from '../k6/run-info.ts';
import { type ProbeOutcome, runProbe } from '../probe.ts';
import { type ReconcileResult, reconcile } from '../reconcile.ts';
import { SessionChecker } from '../session.ts';
import type { ProbeKey } from '../store.ts';
import { SUMMARY_TREND_STATS, type SummaryData } from '../summary/data.ts';
import { summaryFiles } from '../summary/index.ts';
import { ApiClient } from './client.ts';
import { type ApiScenarioConfig, describeApiScenarioConfig, loadApiScenarioConfig } from './config.ts';
import { strategyComparison } from './report.ts';
import { ApiLedger, ApiStore } from './store.ts';
import { type ApiScenarioName, apiThresholds } from './thresholds.ts';

export type { RunInfo } from '../k6/run-info.ts';

const RECONCILE_POLL_MS = 100;

export interface ApiHarness {
  readonly config: Config;
  readonly api: ApiScenarioConfig;
  options(scenarios: Record<string, Scenario>, strategies: readonly Strategy[]): Options;
  setup(): RunInfo;
  teardown(run: RunInfo): void;
  handleSummary(data: SummaryData): Record<string, string>;
  client(): ApiClient;
  store(strategy: Strategy): ApiStore;
  nextKey(run: RunInfo): ProbeKey;
  session(): SessionChecker;
  /** The read-after-write probe through the API, with its metrics (tagged strategy) and session checks. */
  probe(run: RunInfo, strategy: Strategy): ProbeOutcome;
  /** Runs `fn` and adds any new session violations to the counters. */
  checked<T>(fn: () => T, strategy: Strategy): T;
}

export function createApiHarness(
  scenario: ApiScenarioName,
  env: Record<string, string | undefined>,
): ApiHarness {
  const config = loadConfig(env);
  const api = loadApiScenarioConfig(env);
  // Only the ledger and reconciliation use SQL; one connection per endpoint and VU is plenty.
  const pool = { maxOpenConns: 1 };
  // sql.open must run in init code (per VU), so both are opened here, not lazily inside an iteration.
  const ledger = new ApiLedger(
    openDb('writer', config.writerDsn, pool),
    openDb('reader', config.readerDsn, pool),
  );

  let seq = 0;
  let client: ApiClient | undefined;
  let checker: SessionChecker | undefined;
  const stores = new Map<Strategy, ApiStore>();
  const getClient = () => {
    client ??= new ApiClient(config.apiUrl, `k6-vu-${vuId()}`);
    return client;
  };
  const session = () => {
    checker ??= new SessionChecker(vuId(), config.violationLogLimit, (line) => console.warn(line));
    return checker;
  };
  const store = (strategy: Strategy) => {
    let s = stores.get(strategy);
    if (!s) {
      s = new ApiStore(getClient(), strategy, ledger);
      stores.set(strategy, s);
    }
    return s;
  };
  const nextKey = (run: RunInfo): ProbeKey => ({
    runId: run.runId,
    runner: run.runner,
    vu: vuId(),
    seq: seq++,
  });

  const checked = <T>(fn: () => T, strategy: Strategy): T => {
    const s = session();
    const ryw = s.counts['read-your-writes'];
    const mono = s.counts['monotonic-reads'];
    try {
      return fn();
    } finally {
      const tags = { strategy };
      if (s.counts['read-your-writes'] > ryw)
        METRICS.rywViolations.add(s.counts['read-your-writes'] - ryw, tags);
      if (s.counts['monotonic-reads'] > mono)
        METRICS.monotonicViolations.add(s.counts['monotonic-reads'] - mono, tags);
    }
  };

  const configLines = [...describeConfig(config), ...describeApiScenarioConfig(api)];
  let reportStrategies: readonly Strategy[] = api.strategies;

  return {
    config,
    api,
    options: (scenarios, strategies) => {
      reportStrategies = strategies;
      return {
        scenarios,
        thresholds: apiThresholds(scenario, strategies, config.thresholds),
        summaryTrendStats: SUMMARY_TREND_STATS,
        teardownTimeout: `${Math.ceil(config.catchupTimeoutMs / 1000) + 60}s`,
      };
    },
    setup: () => {
      const run = resolveRunInfo(config, scenario, Date.now());
      console.log(`${scenario}: run ${run.runId}, runner ${run.runner}; ${configLines.join(' ')}`);
      return run;
    },
    teardown: (run) => {
      if (scenario === 'api-seed-compat') return;
      let result: ReconcileResult;
      try {
        result = reconcile(ledger, k6Clock, run, {
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
      METRICS.reconcileErrors.add(0);
      METRICS.reconcileChecked.add(result.acked);
      METRICS.reconcileMissingWriter.add(result.missingWriter);
      METRICS.reconcileMissingReader.add(result.missingReader);
      if (result.catchupMs !== null) METRICS.reconcileCatchup.add(result.catchupMs);
      console.log(
        `reconciliation (run ${run.runId}, runner ${run.runner}): ${result.acked} acknowledged, ` +
          `${result.missingWriter} missing on writer, ${result.missingReader} missing on reader`,
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
        configLines,
        extraSections: [strategyComparison(reportStrategies)],
      });
    },
    client: getClient,
    store,
    nextKey,
    session,
    probe: (run, strategy) => {
      const tags = { strategy };
      const outcome = checked(
        () =>
          runProbe(
            store(strategy),
            k6Clock,
            nextKey(run),
            { timeoutMs: config.probeTimeoutMs, pollIntervalMs: config.pollIntervalMs },
            session(),
          ),
        strategy,
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
    checked,
  };
}
