/**
 * Default thresholds of the API scenarios (overridable with CQRS_THRESHOLDS like the SQL ones): no failed API
 * calls, nothing acknowledged missing at the end, and the per-strategy submetrics the report compares.
 * Stale reads are the measurement, not a failure. Runtime-neutral.
 */
import { K6_METRICS } from '../../common/metrics.ts';
import { EVERY_SCENARIO, resolveThresholds, type Thresholds } from '../thresholds.ts';
import { strategyThresholds } from './report.ts';

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

export function apiThresholds(
  scenario: ApiScenarioName,
  strategies: readonly string[],
  overrides: Thresholds,
): Thresholds {
  return resolveThresholds(
    {
      ...EVERY_SCENARIO,
      [M.apiErrors.name]: ['count==0'],
      ...BY_SCENARIO[scenario],
      ...strategyThresholds(strategies),
    },
    overrides,
  );
}
