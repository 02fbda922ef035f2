/**
 * Default thresholds, overridable with CQRS_THRESHOLDS (JSON: metric → expressions; [] drops a default).
 * Metric names come from the registry. Passive thresholds (`max>=0`, `count>=0`) only make k6 keep tagged
 * submetrics in the summary: every one the report's Endpoints table reads (ENDPOINT_SUBMETRICS, the same
 * declaration the table uses, so the two cannot drift).
 */
import { K6_METRICS, type K6MetricKind } from '../common/metrics.ts';
import { ENDPOINT_SUBMETRICS, endpointSubmetricList } from './summary/figures.ts';

export type Thresholds = Record<string, string[]>;

const M = K6_METRICS;

/** A threshold that always passes, by metric kind: it only makes k6 keep the (sub)metric in the summary. */
const PASSIVE: Record<K6MetricKind, string> = {
  counter: 'count>=0',
  trend: 'max>=0',
  gauge: 'value>=0',
  rate: 'rate>=0',
};

/** Keeps every per-endpoint submetric the Endpoints table reads. */
export const ENDPOINT_KEEP: Thresholds = Object.fromEntries(
  endpointSubmetricList().map(({ key, kind }) => [key, [PASSIVE[kind]]]),
);

/**
 * Every scenario, SQL and API: an iteration that failed fails the run (the harness counts errors instead of
 * letting k6 print them, lib/k6/failures.ts).
 */
export const EVERY_SCENARIO: Thresholds = { [M.iterationErrors.name]: ['count==0'] };

/** Every SQL scenario: no failed statements, and reconciliation finds every acknowledged write. */
export const COMMON_THRESHOLDS: Thresholds = {
  ...EVERY_SCENARIO,
  [M.dbErrors.name]: ['count==0'],
  [M.reconcileMissingWriter.name]: ['count==0'],
  [M.reconcileMissingReader.name]: ['count==0'],
  // A reconciliation that failed must not pass silently as "0 missing".
  [M.reconcileErrors.name]: ['count==0'],
  ...ENDPOINT_KEEP,
};

export const SCENARIO_THRESHOLDS = {
  'sql-read-after-write': {
    // Stale reads are the measurement, not a failure; writes that never show up are.
    [M.visibilityTimeouts.name]: ['count==0'],
    [M.visibilityLag.name]: ['p(99)<1000'],
  },
  'sql-replica-lag': { [M.heartbeatLag.name]: ['p(95)<1000'] },
  'sql-write-load': { [ENDPOINT_SUBMETRICS.writer.latency]: ['p(95)<50'] },
  'sql-read-load': {
    [ENDPOINT_SUBMETRICS.reader.latency]: ['p(95)<20'],
    [M.monotonicViolations.name]: ['count==0'],
  },
  'sql-mixed': {
    [M.visibilityTimeouts.name]: ['count==0'],
    [M.heartbeatLag.name]: ['p(95)<1000'],
    [M.monotonicViolations.name]: ['count==0'],
  },
} as const satisfies Record<string, Thresholds>;

export type SqlScenarioName = keyof typeof SCENARIO_THRESHOLDS;

/** Defaults for a scenario, then the user's overrides (an empty list removes that metric's thresholds). */
export function resolveThresholds(defaults: Thresholds, overrides: Thresholds): Thresholds {
  const out: Thresholds = { ...defaults };
  for (const [metric, exprs] of Object.entries(overrides)) {
    if (exprs.length === 0) delete out[metric];
    else out[metric] = [...exprs];
  }
  return out;
}

export function thresholdsFor(scenario: SqlScenarioName, overrides: Thresholds): Thresholds {
  return resolveThresholds({ ...COMMON_THRESHOLDS, ...SCENARIO_THRESHOLDS[scenario] }, overrides);
}
