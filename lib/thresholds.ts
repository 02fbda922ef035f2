/**
 * Default thresholds of the SQL scenarios, overridable with CQRS_THRESHOLDS (JSON: metric → expressions; []
 * drops a default), and the report paths each scenario uses. Metric names come from the registry. These are
 * the verdicts; the keep-only thresholds that make k6 keep the submetrics the report reads come from the
 * report's own sections (`sqlReportPlan`, lib/summary/sections.ts), never from a list here.
 */
import { K6_METRICS } from '../common/metrics.ts';
import type { Thresholds } from './summary/data.ts';
import { ENDPOINT_SUBMETRICS } from './summary/figures.ts';
import { type ReportPath, type ReportPlan, reportPlan, sectionsFor } from './summary/sections.ts';

export type { Thresholds } from './summary/data.ts';

const M = K6_METRICS;

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

/** What each SQL scenario's workload does (ReportPath): its report shows those sections and no others. */
export const SQL_REPORT_PATHS: Readonly<Record<SqlScenarioName, readonly ReportPath[]>> = {
  'sql-read-after-write': ['probe', 'session', 'ledger', 'sql'],
  // The heartbeat stream is checked for monotonic reads; background writes are ledgered.
  'sql-replica-lag': ['heartbeat', 'session', 'ledger', 'sql'],
  'sql-write-load': ['ledger', 'sql'],
  // MAX(id) is checked for monotonic reads; the rows setup seeds are ledgered.
  'sql-read-load': ['session', 'ledger', 'sql'],
  'sql-mixed': ['probe', 'heartbeat', 'session', 'ledger', 'sql'],
};

/** Defaults for a scenario, then the user's overrides (an empty list removes that metric's thresholds). */
export function resolveThresholds(defaults: Thresholds, overrides: Thresholds): Thresholds {
  const out: Thresholds = { ...defaults };
  for (const [metric, exprs] of Object.entries(overrides)) {
    if (exprs.length === 0) delete out[metric];
    else out[metric] = [...exprs];
  }
  return out;
}

/** The verdicts of a SQL scenario: its defaults, then the user's overrides. */
export function thresholdsFor(scenario: SqlScenarioName, overrides: Thresholds): Thresholds {
  return resolveThresholds({ ...COMMON_THRESHOLDS, ...SCENARIO_THRESHOLDS[scenario] }, overrides);
}

/** A SQL scenario's sections, verdicts and the thresholds k6 gets (verdicts plus what the sections keep). */
export function sqlReportPlan(scenario: SqlScenarioName, overrides: Thresholds): ReportPlan {
  return reportPlan(sectionsFor(SQL_REPORT_PATHS[scenario]), [], thresholdsFor(scenario, overrides));
}
