/**
 * The parts of k6's end-of-test summary data (`handleSummary(data)`, the legacy JSON shape k6 v2 still passes)
 * that the reports read, and typed accessors for them. Runtime-neutral, so Node tools (npm start's comparison
 * table) read the same JSON files with the same code.
 */
export interface SummaryMetric {
  readonly type: 'counter' | 'gauge' | 'rate' | 'trend';
  readonly contains?: 'time' | 'default' | 'data';
  readonly values: Readonly<Record<string, number>>;
  readonly thresholds?: Readonly<Record<string, { readonly ok: boolean }>>;
}

export interface SummaryData {
  readonly metrics: Readonly<Record<string, SummaryMetric>>;
  /** Whole run, setup and teardown included. */
  readonly state?: { readonly testRunDurationMs?: number };
  readonly setup_data?: unknown;
}

/**
 * k6's built-in metrics that the reports read. `dropped_iterations` (counter) appears in the summary only when
 * an arrival-rate executor could not start an iteration on time (no free VU, pool at maxVUs); `iterations`
 * counts the iterations that started, over every scenario; `vus` is the gauge of VUs busy, `vus_max` of VUs
 * allocated.
 */
export const K6_BUILTIN_METRICS = {
  iterations: 'iterations',
  droppedIterations: 'dropped_iterations',
  vus: 'vus',
  vusMax: 'vus_max',
} as const;

/**
 * Percentiles kept beyond the usual ones so a trend's distribution can be drawn: the t-visibility curve
 * (freshness.ts) runs through these points.
 */
export const CURVE_PERCENTILES = [1, 5, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9] as const;

/** The summary key of a kept percentile. */
export const percentileStat = (p: number): string => (p === 50 ? 'med' : `p(${p})`);

/** Trend stats the scenarios ask k6 to keep (options.summaryTrendStats); `med` is p(50). */
export const SUMMARY_TREND_STATS = [
  'avg',
  'min',
  'max',
  'count',
  ...CURVE_PERCENTILES.map((p) => percentileStat(p)),
];

export interface TrendView {
  readonly count: number;
  readonly avg: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export function trend(data: SummaryData, name: string): TrendView | null {
  const m = data.metrics[name];
  if (m?.type !== 'trend') return null;
  const v = m.values;
  const num = (k: string) => v[k] ?? Number.NaN;
  return {
    count: num('count'),
    avg: num('avg'),
    p50: num('med'),
    p95: num('p(95)'),
    p99: num('p(99)'),
    max: num('max'),
  };
}

/** A counter's total; 0 when it never got a sample. */
export function count(data: SummaryData, name: string): number {
  return data.metrics[name]?.values.count ?? 0;
}

export function perSecond(data: SummaryData, name: string): number {
  return data.metrics[name]?.values.rate ?? 0;
}

export function gaugeMax(data: SummaryData, name: string): number | null {
  const m = data.metrics[name];
  return m && m.type === 'gauge' ? (m.values.max ?? m.values.value ?? null) : null;
}

/** Threshold expressions by metric or submetric key, as k6's options.thresholds takes them. */
export type Thresholds = Record<string, string[]>;

export interface ThresholdResult {
  readonly metric: string;
  readonly expression: string;
  /** null: the summary holds no result for it (k6 ran with --no-thresholds). */
  readonly ok: boolean | null;
}

/**
 * One result per verdict: the user-facing thresholds (defaults, then CQRS_THRESHOLDS), never the keep-only
 * ones k6 also evaluated (sections.ts). The summary data carries every expression k6 was given, so the
 * distinction comes from `verdicts`, not from the data: a user's `count>=0` on a kept submetric is a verdict.
 */
export function thresholdResults(data: SummaryData, verdicts: Readonly<Thresholds>): ThresholdResult[] {
  const out: ThresholdResult[] = [];
  for (const [metric, expressions] of Object.entries(verdicts)) {
    for (const expression of new Set(expressions))
      out.push({ metric, expression, ok: data.metrics[metric]?.thresholds?.[expression]?.ok ?? null });
  }
  return out.sort((a, b) => a.metric.localeCompare(b.metric) || a.expression.localeCompare(b.expression));
}

/** How many passed, failed and were not evaluated. */
export function thresholdTally(results: readonly ThresholdResult[]): {
  readonly passed: number;
  readonly failed: number;
  readonly unevaluated: number;
} {
  const n = (ok: boolean | null) => results.filter((r) => r.ok === ok).length;
  return { passed: n(true), failed: n(false), unevaluated: n(null) };
}

/** Submetric key as k6 names it, e.g. `db_query_duration{endpoint:writer}`. */
export function submetric(name: string, tags: Readonly<Record<string, string>>): string {
  const inner = Object.entries(tags)
    .map(([k, v]) => `${k}:${v}`)
    .join(',');
  return `${name}{${inner}}`;
}
