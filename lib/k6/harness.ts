/**
 * What every SQL scenario shares: config (read once per VU), per-VU pools, the store and heartbeat sampling,
 * on top of harness-core.ts (session checks, the probe, setup/teardown/handleSummary, the setup checks and the
 * error wrapper). A scenario file only declares its workload shape and what one iteration does, and exports
 * each exec function through `iteration`.
 */
import type { Options, Scenario } from 'k6/options';
import { dialectFor } from '../../common/dialect.ts';
import { redact, withGoDsnParams } from '../../common/dsn.ts';
import { syncBeforeDsnParams } from '../../common/mysql-strategies.ts';
import { type Config, describeConfig, loadConfig } from '../config.ts';
import { numberCell } from '../decode.ts';
import { sampleHeartbeat } from '../heartbeat.ts';
import type { ProbeOutcome } from '../probe.ts';
import type { SessionChecker } from '../session.ts';
import { SQL } from '../sql/statements.ts';
import type { ProbeKey } from '../store.ts';
import type { SummaryData } from '../summary/data.ts';
import { type SqlScenarioName, sqlReportPlan } from '../thresholds.ts';
import { k6Clock } from './clock.ts';
import { openDb, type TimedDb } from './db.ts';
import { createHarnessCore, type WorkloadExtras } from './harness-core.ts';
import { loadOrFail } from './init-error.ts';
import { METRICS } from './metrics.ts';
import { CHECK_TIMEOUT, type EndpointCheck, sqlHoldings } from './preflight.ts';
import type { RunInfo } from './run-info.ts';
import { SqlStore } from './sql-store.ts';

export type { RunInfo } from './run-info.ts';

export interface SqlRunInfo extends RunInfo {
  /** The writer's clock at setup, µs: heartbeats older than this belong to an earlier run. */
  readonly heartbeatFromUs: number;
}

/** Seconds_Behind is coarse (whole seconds): sample it once per this many heartbeat samples. */
const SECONDS_BEHIND_EVERY = 10;

/** The scenarios that sample heartbeats, and so ask the replica monitor login for Seconds_Behind. */
const USES_MONITOR: readonly SqlScenarioName[] = ['sql-replica-lag', 'sql-mixed'];

export interface SqlHarness {
  readonly config: Config;
  readonly store: SqlStore;
  /** `exec` at CQRS_RATE/s (open model), bounded by CQRS_VUS, shaped by CQRS_PROFILE over CQRS_DURATION. */
  openWorkload(exec: string, extras?: WorkloadExtras): Scenario;
  options(scenarios: Record<string, Scenario>): Options;
  setup(): SqlRunInfo;
  teardown(run: RunInfo): void;
  handleSummary(data: SummaryData): Record<string, string>;
  nextKey(run: RunInfo): ProbeKey;
  session(): SessionChecker;
  /** The read-after-write probe, with its metrics and session checks recorded. */
  probe(run: RunInfo): ProbeOutcome;
  heartbeatWrite(): void;
  /** One heartbeat lag sample; beats from before this run's setup are ignored. */
  heartbeatSample(run: SqlRunInfo): void;
  /** The ledger_flush scenario's exec function (scenarios export it as `flushLedger`). */
  flushLedger(): void;
  /** Runs `fn` and adds any new session violations to the counters. */
  checked<T>(fn: () => T): T;
  /** Wraps an exec function: its errors are counted and logged a few at a time, never thrown to k6. */
  iteration<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
}

export function createSqlHarness(
  scenario: SqlScenarioName,
  env: Record<string, string | undefined>,
): SqlHarness {
  const config = loadOrFail(() => loadConfig(env, 'sql'));
  const dialect = dialectFor(config.flavor);
  const pool = { maxOpenConns: config.maxOpenConns };
  const writer = openDb('writer', config.writerDsn, pool);
  // sync-before: every reader connection has the cluster's causal reads on, through the DSN (the driver sets
  // the session variable on connect). That includes the heartbeat sampler's and reconciliation's reads on it:
  // under sync-before the heartbeat lag is what a causal read sees (docs/k6-scenarios.md). The monitor login
  // (replica status) keeps plain reads.
  const readerDsn =
    config.sqlStrategy === 'sync-before'
      ? withGoDsnParams(config.readerDsn, syncBeforeDsnParams(config.flavor))
      : config.readerDsn;
  const reader = openDb('reader', readerDsn, pool);
  const monitor = openDb('reader', config.monitorDsn, { maxOpenConns: 1 });
  const store = new SqlStore(
    writer,
    reader,
    monitor,
    {
      dialect,
      strategy: config.sqlStrategy,
      payloadBytes: config.payloadBytes,
      // Fractions allowed (MASTER_GTID_WAIT / WAIT_FOR_EXECUTED_GTID_SET take them): a 500 ms probe timeout
      // must not wait a whole second.
      gtidWaitSeconds: config.probeTimeoutMs / 1000,
      onAck: () => METRICS.ackedWrites.add(1),
      onAcksFlushed: (n) => METRICS.ledgerFlushed.add(n),
    },
    (line) => console.warn(line),
  );
  const tags = { strategy: config.sqlStrategy };
  const core = createHarnessCore(scenario, config, describeConfig(config), {
    flush: () => store.flushAcks(),
  });
  const checked = <T>(fn: () => T): T => core.checked(fn, tags);
  // The verdicts, the keep-only thresholds the report's sections need, and those sections.
  const plan = sqlReportPlan(scenario, config.thresholds);

  // Per-VU state (each VU has its own JS runtime).
  let samples = 0;

  // A real statement each: xk6-sql connects only when the first one runs.
  const ping = (name: string, db: TimedDb, dsn: string): EndpointCheck => ({
    name,
    target: redact(dsn),
    run: () => {
      db.check(CHECK_TIMEOUT, 'SELECT 1');
    },
  });
  const endpoints = [
    ping('writer', writer, config.writerDsn),
    ping('reader', reader, readerDsn),
    ...(USES_MONITOR.includes(scenario) ? [ping('replica monitor', monitor, config.monitorDsn)] : []),
  ];
  const holdings = {
    check: { name: 'writer', target: redact(config.writerDsn) },
    find: ({ runId, runner }: RunInfo) => {
      const row = writer.check(CHECK_TIMEOUT, SQL.runHoldings, runId, runner, runId, runner)[0];
      return sqlHoldings(
        (row && numberCell(row, 'probe_rows_held')) ?? 0,
        (row && numberCell(row, 'probe_acks_held')) ?? 0,
      );
    },
  };

  return {
    config,
    store,
    openWorkload: core.openWorkload,
    options: (scenarios) => core.options(scenarios, plan.thresholds),
    setup: () => {
      const run = core.setup({ endpoints, holdings });
      // Anchors "this run" on the writer's own clock, the one its heartbeats carry.
      return { ...run, heartbeatFromUs: store.writerNowUs() };
    },
    teardown: (run) => core.reconcile(store, run),
    handleSummary: (data) => core.handleSummary(data, plan),
    nextKey: core.nextKey,
    session: core.session,
    probe: (run) => core.probe(store, run, tags),
    heartbeatWrite: core.iteration(() => store.beat()),
    heartbeatSample: core.iteration((run: SqlRunInfo) => {
      const sample = checked(() => sampleHeartbeat(store, run.heartbeatFromUs, k6Clock, core.session()));
      if (sample) {
        METRICS.heartbeatLag.add(sample.lagMs);
        METRICS.heartbeatLagNow.add(sample.lagMs);
      }
      if (samples++ % SECONDS_BEHIND_EVERY === 0) {
        const behind = store.secondsBehind();
        if (behind !== null) METRICS.secondsBehind.add(behind);
      }
    }),
    flushLedger: core.flushLedger,
    checked,
    iteration: core.iteration,
  };
}
