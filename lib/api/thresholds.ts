/**
 * Default thresholds of the API scenarios (overridable with CQRS_THRESHOLDS like the SQL ones): no failed API
 * calls, nothing acknowledged missing at the end. Stale reads are the measurement, not a failure. The
 * per-strategy submetrics the report compares are kept by `apiReportPlan` from the strategy comparison's own
 * needs, and are no verdicts. Runtime-neutral.
 */
import { K6_METRICS } from '../../common/metrics.ts';
import { type ReportPath, type ReportPlan, reportPlan, sectionsFor } from '../summary/sections.ts';
import { EVERY_SCENARIO, resolveThresholds, type Thresholds } from '../thresholds.ts';
import { STRATEGY_COMPARISON } from './report.ts';

const M = K6_METRICS;

export type ApiScenarioName = 'api-read-after-write' | 'api-mixed' | 'api-seed-compat';

const BY_SCENARIO: Record<ApiScenarioName, Thresholds> = {
  'api-read-after-write': {
    [M.reconcileErrors.name]: ['count==0'],
    [M.reconcileMissingWriter.name]: ['count==0'],
    [M.reconcileMissingReader.name]: ['count==0'],
    [M.visibilityTimeouts.name]: ['count==0'],
  },
  'api-mixed': {
    [M.reconcileErrors.name]: ['count==0'],
    [M.reconcileMissingWriter.name]: ['count==0'],
    [M.reconcileMissingReader.name]: ['count==0'],
  },
  // GET /get writes rows the scenario cannot name in advance: nothing to reconcile.
  'api-seed-compat': {},
};

/** What each API scenario's workload does (ReportPath): its report shows those sections and no others. */
export const API_REPORT_PATHS: Readonly<Record<ApiScenarioName, readonly ReportPath[]>> = {
  'api-read-after-write': ['probe', 'session', 'ledger', 'api'],
  // Reads back its own writes (read-your-writes): a miss is a stale read.
  'api-mixed': ['stale', 'session', 'ledger', 'api'],
  // GET /get counts stale reads but checks no session and acknowledges nothing.
  'api-seed-compat': ['stale', 'api'],
};

/** The verdicts of an API scenario: its defaults, then the user's overrides. */
export function apiThresholds(scenario: ApiScenarioName, overrides: Thresholds): Thresholds {
  return resolveThresholds(
    { ...EVERY_SCENARIO, [M.apiErrors.name]: ['count==0'], ...BY_SCENARIO[scenario] },
    overrides,
  );
}

/** An API scenario's sections, verdicts and the thresholds k6 gets (verdicts plus what the sections keep). */
export function apiReportPlan(
  scenario: ApiScenarioName,
  strategies: readonly string[],
  overrides: Thresholds,
): ReportPlan {
  return reportPlan(
    sectionsFor(API_REPORT_PATHS[scenario], [STRATEGY_COMPARISON]),
    strategies,
    apiThresholds(scenario, overrides),
  );
}
