/**
 * What every API scenario shares (the HTTP twin of lib/k6/harness.ts): config read once per VU, one API
 * client and store per VU and strategy, one acknowledgement ledger per VU, and a consistency report with the
 * strategy comparison, on top of lib/k6/harness-core.ts (session checks, the probe, the end-of-run ledger
 * flush, reconciliation in teardown, the setup checks, the error wrapper). Everything goes through the API:
 * only k6's built-in modules are used.
 */
import type { Options, Scenario } from 'k6/options';
import { redact } from '../../common/dsn.ts';
import type { Strategy } from '../../common/strategies.ts';
import { type Config, describeConfig, loadConfig } from '../config.ts';
import { createHarnessCore, type WorkloadExtras } from '../k6/harness-core.ts';
import { loadOrFail } from '../k6/init-error.ts';
import { METRICS } from '../k6/metrics.ts';
import { apiHoldings } from '../k6/preflight.ts';
import { type RunInfo, vuId } from '../k6/run-info.ts';
import { AckLedger } from '../ledger.ts';
import type { ProbeOutcome } from '../probe.ts';
import type { SessionChecker } from '../session.ts';
import type { ProbeKey } from '../store.ts';
import type { SummaryData } from '../summary/data.ts';
import { ApiClient } from './client.ts';
import { ApiAckSink, ApiLedger, ApiStore } from './store.ts';
import { type ApiScenarioName, apiReportPlan } from './thresholds.ts';

export type { RunInfo } from '../k6/run-info.ts';

export interface ApiHarness {
  readonly config: Config;
  /** What the scenario compares: CQRS_API_STRATEGIES for api-read-after-write, else CQRS_API_STRATEGY alone. */
  readonly strategies: readonly Strategy[];
  /** `exec` at CQRS_RATE/s (open model), bounded by CQRS_VUS, shaped by CQRS_PROFILE over CQRS_DURATION. */
  openWorkload(exec: string, extras?: WorkloadExtras): Scenario;
  /** With the verdicts, plus keep-only thresholds for the report's per-strategy submetrics (see `strategies`). */
  options(scenarios: Record<string, Scenario>): Options;
  setup(): RunInfo;
  /** The ledger_flush scenario's exec: writes this VU's buffered acknowledgements. Export it as is. */
  flushLedger(): void;
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
  /** Wraps an exec function: its errors are counted and logged a few at a time, never thrown to k6. */
  iteration<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
}

export function createApiHarness(
  scenario: ApiScenarioName,
  env: Record<string, string | undefined>,
): ApiHarness {
  const config = loadOrFail(() => loadConfig(env, 'api'));

  // Per VU (each VU has its own JS runtime); the client is made on first use, when the VU id is known.
  let client: ApiClient | undefined;
  const getClient = () => {
    client ??= new ApiClient(config.apiUrl, `k6-vu-${vuId()}`);
    return client;
  };
  // One ledger per VU, shared by all its strategies' stores: the ledger_flush scenario flushes it once.
  const acks = new AckLedger(new ApiAckSink(getClient), {
    onRecorded: () => METRICS.ackedWrites.add(1),
    onFlushed: (n) => METRICS.ledgerFlushed.add(n),
  });
  const core = createHarnessCore(scenario, config, describeConfig(config), acks);

  const stores = new Map<Strategy, ApiStore>();
  const store = (strategy: Strategy) => {
    let s = stores.get(strategy);
    if (!s) {
      s = new ApiStore(getClient(), strategy, acks);
      stores.set(strategy, s);
    }
    return s;
  };

  const strategies = scenario === 'api-read-after-write' ? config.apiStrategies : [config.apiStrategy];
  // The verdicts, the keep-only thresholds the report's sections need (one set per strategy), and those sections.
  const plan = apiReportPlan(scenario, strategies, config.thresholds);

  const target = redact(config.apiUrl);
  const endpoints = [{ name: 'API', target, run: () => getClient().ready() }];
  // api-seed-compat acknowledges nothing in the ledger: no rows of its run id to collide with.
  const holdings =
    scenario === 'api-seed-compat'
      ? null
      : {
          check: { name: 'API', target },
          find: (run: RunInfo) => apiHoldings(new ApiLedger(getClient).acks('writer', run)),
        };

  return {
    config,
    strategies,
    openWorkload: core.openWorkload,
    options: (scenarios) => ({
      ...core.options(scenarios, plan.thresholds),
      // A request that gets no answer throws (the client counts it, the iteration wrapper logs a few) instead
      // of k6 printing a "Request Failed" warning for every one.
      throw: true,
    }),
    setup: () => core.setup({ endpoints, holdings }),
    flushLedger: core.flushLedger,
    teardown: (run) => {
      // api-seed-compat writes through GET /get and acknowledges nothing in the ledger: nothing to reconcile.
      if (scenario === 'api-seed-compat') return;
      core.reconcile(new ApiLedger(getClient), run);
    },
    handleSummary: (data) => core.handleSummary(data, plan),
    client: getClient,
    store,
    nextKey: core.nextKey,
    session: core.session,
    probe: (run, strategy) => core.probe(store(strategy), run, { strategy }),
    checked: (fn, strategy) => core.checked(fn, { strategy }),
    iteration: core.iteration,
  };
}
