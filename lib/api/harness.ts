/**
 * What every API scenario shares (the HTTP twin of lib/k6/harness.ts): config read once per VU, one API
 * client and store per VU and strategy, and a consistency report with the strategy comparison, on top of
 * lib/k6/harness-core.ts (session checks, the probe, reconciliation in teardown).
 */
import type { Options, Scenario } from 'k6/options';
import type { Strategy } from '../../common/strategies.ts';
import { type Config, describeConfig, loadConfig } from '../config.ts';
import { openDb } from '../k6/db.ts';
import { createHarnessCore, type WorkloadExtras } from '../k6/harness-core.ts';
import { type RunInfo, vuId } from '../k6/run-info.ts';
import type { ProbeOutcome } from '../probe.ts';
import type { SessionChecker } from '../session.ts';
import type { ProbeKey } from '../store.ts';
import type { SummaryData } from '../summary/data.ts';
import { ApiClient } from './client.ts';
import { type ApiScenarioConfig, describeApiScenarioConfig, loadApiScenarioConfig } from './config.ts';
import { strategyComparison } from './report.ts';
import { ApiLedger, ApiStore } from './store.ts';
import { type ApiScenarioName, apiThresholds } from './thresholds.ts';

export type { RunInfo } from '../k6/run-info.ts';

export interface ApiHarness {
  readonly config: Config;
  readonly api: ApiScenarioConfig;
  /** What the scenario compares: CQRS_API_STRATEGIES for api-read-after-write, else CQRS_API_STRATEGY alone. */
  readonly strategies: readonly Strategy[];
  /** `exec` at CQRS_RATE/s (open model), bounded by CQRS_VUS, shaped by CQRS_PROFILE over CQRS_DURATION. */
  openWorkload(exec: string, extras?: WorkloadExtras): Scenario;
  /** With the thresholds that keep the report's per-strategy submetrics (see `strategies`). */
  options(scenarios: Record<string, Scenario>): Options;
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
  const core = createHarnessCore(scenario, config, [
    ...describeConfig(config),
    ...describeApiScenarioConfig(api),
  ]);

  let client: ApiClient | undefined;
  const stores = new Map<Strategy, ApiStore>();
  const getClient = () => {
    client ??= new ApiClient(config.apiUrl, `k6-vu-${vuId()}`);
    return client;
  };
  const store = (strategy: Strategy) => {
    let s = stores.get(strategy);
    if (!s) {
      s = new ApiStore(getClient(), strategy, ledger);
      stores.set(strategy, s);
    }
    return s;
  };

  const strategies = scenario === 'api-read-after-write' ? api.strategies : [api.strategy];

  return {
    config,
    api,
    strategies,
    openWorkload: core.openWorkload,
    options: (scenarios) => core.options(scenarios, apiThresholds(scenario, strategies, config.thresholds)),
    setup: core.setup,
    teardown: (run) => {
      // api-seed-compat writes through GET /get and acknowledges nothing in the ledger: nothing to reconcile.
      if (scenario === 'api-seed-compat') return;
      core.reconcile(ledger, run);
    },
    handleSummary: (data) => core.handleSummary(data, [strategyComparison(strategies)]),
    client: getClient,
    store,
    nextKey: core.nextKey,
    session: core.session,
    probe: (run, strategy) => core.probe(store(strategy), run, { strategy }),
    checked: (fn, strategy) => core.checked(fn, { strategy }),
  };
}
