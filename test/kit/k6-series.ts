/**
 * Synthetic k6 runs as remote-write series, named and labelled the way k6 v2.2's experimental-prometheus-rw
 * output sends them (common/metrics.ts has the naming, /work/shared/reference/k6.md the rules): every metric of
 * K6_METRICS plus the k6 builtins the dashboards use (dashboards/src/k6-builtins.ts), per runner (`instance_id`), at each push. Counters and
 * rates are cumulative, gauges raw (time gauges stay in ms), trends either native histograms in seconds or
 * one gauge per trend stat, cumulative over the run like k6's sink.
 */
import { REMOTE_WRITE_TREND_STATS } from '../../common/k6-output.ts';
import {
  K6_METRICS,
  type K6MetricDef,
  type K6MetricKey,
  nativeHistogramSeries,
  remoteWriteSeries,
} from '../../common/metrics.ts';
import { K6_BUILTINS } from '../../dashboards/src/k6-builtins.ts';
import { nativeHistogram, type WriteSeries } from './remote-write.ts';

type Tags = Readonly<Record<string, string>>;

const HTTP_TAGS: Tags = {
  method: 'POST',
  name: 'http://127.0.0.1/users',
  url: 'http://127.0.0.1/users',
  status: '201',
  expected_response: 'true',
  proto: 'HTTP/1.1',
};

/**
 * The tag sets each metric is added with (grep `METRICS.<key>.add(`); `{}` is a series with run tags only.
 * Keyed by every K6_METRICS key, so a new metric does not compile until its tags are listed here.
 */
const METRIC_TAGS = {
  probeWrites: [{}],
  probeReads: [{}],
  staleReads: [{}],
  staleReadRatio: [{}],
  visibilityLag: [{}],
  visibilityLagClient: [{}],
  visibilityLagUpperBound: [{}],
  visibilityTimeouts: [{}],
  visibilityPolls: [{}],
  heartbeatLag: [{}],
  heartbeatLagNow: [{}],
  secondsBehind: [{}],
  dbQueryDuration: [
    { endpoint: 'writer', op: 'probe_insert' },
    { endpoint: 'reader', op: 'probe_read' },
    { endpoint: 'reader', op: 'probe_poll' },
  ],
  dbQueries: [
    { endpoint: 'writer', op: 'probe_insert' },
    { endpoint: 'reader', op: 'probe_read' },
    { endpoint: 'reader', op: 'probe_poll' },
  ],
  dbErrors: [
    { endpoint: 'writer', op: 'probe_insert' },
    { endpoint: 'reader', op: 'probe_read' },
  ],
  rywViolations: [{}],
  monotonicViolations: [{}],
  reconcileMissingWriter: [{}],
  reconcileMissingReader: [{}],
  reconcileChecked: [{}],
  reconcileErrors: [{}],
  ackedWrites: [{}],
  ledgerFlushed: [{}],
  reconcileCatchup: [{}],
  sqlWrites: [{ endpoint: 'writer' }],
  sqlReads: [{ endpoint: 'reader' }, { endpoint: 'writer' }],
  apiReads: [{ source: 'replica' }, { source: 'primary' }],
  apiReadDuration: [{}],
  apiWriteDuration: [{}],
  apiErrors: [{ route: 'POST /users' }, { route: 'GET /users/:id' }],
  iterationErrors: [{}, { kind: 'db-unreachable' }],
  probeErrors: [{}, { read: 'immediate' }, { read: 'poll' }],
} as const satisfies Record<K6MetricKey, readonly Tags[]>;

const BUILTIN_TAGS = {
  vus: [{}],
  vusMax: [{}],
  iterations: [{}],
  droppedIterations: [{}],
  httpReqs: [HTTP_TAGS, { ...HTTP_TAGS, status: '503', expected_response: 'false' }],
  httpReqDuration: [HTTP_TAGS],
  httpReqFailed: [HTTP_TAGS],
} as const satisfies Record<keyof typeof K6_BUILTINS, readonly Tags[]>;

/**
 * Samples k6 takes outside any scenario carry no `scenario` tag: the VU gauges (the engine's own) and the
 * reconciliation's counters (teardown).
 */
const OUTSIDE_SCENARIOS = new Set<string>([
  'vus',
  'vus_max',
  'reconcile_missing_writer',
  'reconcile_missing_reader',
  'reconcile_checked',
  'reconcile_errors',
  'reconcile_catchup',
]);

export type TrendMode = 'native' | 'stats';

/** One k6 run (one testid), as the project's runner and k6-operator tag it. */
export interface K6RunSpec {
  readonly testid: string;
  readonly script: string;
  readonly strategy: string;
  readonly lag: string;
  /** k6's `scenario` tag: the scenario key inside the bundle. */
  readonly scenario: string;
  /** k6-operator's TestRun name; its runners get `instance_id` 0..runners-1. */
  readonly testrunName: string;
  readonly runners: number;
  /** `native`: K6_FEATURES=native-histograms (histograms only); `stats`: REMOTE_WRITE_TREND_STATS gauges. */
  readonly trends: TrendMode;
}

/** The labels of one runner's series: run tags, k6-operator's tags, the metric's own tags, the name. */
export function k6Labels(run: K6RunSpec, runner: number, name: string, tags: Tags = {}): Tags {
  return {
    __name__: name,
    testid: run.testid,
    script: run.script,
    strategy: run.strategy,
    lag: run.lag,
    testrun_name: run.testrunName,
    instance_id: String(runner),
    ...tags,
  };
}

/** k6's TrendSink.P: linear interpolation between the sorted values at rank pct·(n-1). */
export function trendPercentile(sorted: readonly number[], pct: number): number {
  if (sorted.length === 0) return 0;
  const i = pct * (sorted.length - 1);
  const lo = sorted[Math.floor(i)] as number;
  const hi = sorted[Math.ceil(i)] as number;
  return lo + (hi - lo) * (i - Math.floor(i));
}

/** A trend stat of REMOTE_WRITE_TREND_STATS over sorted values. */
export function trendStat(sorted: readonly number[], stat: string): number {
  if (stat === 'max') return sorted.at(-1) ?? 0;
  const m = /^p\((\d+(?:\.\d+)?)\)$/.exec(stat);
  if (!m) throw new Error(`invalid trend stat; expected max or p(N), got ${stat}`);
  return trendPercentile(sorted, Number(m[1]) / 100);
}

/**
 * What one runner observed for a series during one push interval. Deterministic, different per runner,
 * series and push, never zero (a zero counter increase or an all-zero gauge would hide a wrong query).
 */
function observations(seed: number, runner: number, push: number): number[] {
  return Array.from({ length: 8 }, (_, i) => (1 + runner) * (2 + i + ((seed + push) % 5)) * 1.7);
}

/** A float series' value after `push + 1` pushes (counters and rates cumulative, like k6's sinks). */
function floatValue(def: K6MetricDef, seed: number, runner: number, push: number): number {
  switch (def.kind) {
    case 'counter':
      return (push + 1) * (3 + runner + (seed % 4));
    case 'rate':
      // trues over all so far: a constant share per runner, 0..1.
      return (1 + runner) / (4 + runner + (seed % 3));
    case 'gauge': {
      // VUs and Seconds_Behind are whole numbers; a time gauge stays a float in ms.
      const v = observations(seed, runner, push)[push % 8] as number;
      return def.isTime ? v : Math.round(v);
    }
    case 'trend':
      throw new Error(`${def.name} is a trend: its series come from trendSeries`);
  }
}

function trendSeries(
  run: K6RunSpec,
  def: K6MetricDef,
  tags: Tags,
  seed: number,
  runner: number,
  timestampsMs: readonly number[],
): WriteSeries[] {
  const unit = def.isTime ? 1 / 1000 : 1;
  // Cumulative over the run: push k holds every value observed up to it.
  const seen: number[][] = [];
  for (let k = 0; k < timestampsMs.length; k++)
    seen.push([...(seen[k - 1] ?? []), ...observations(seed, runner, k).map((v) => v * unit)]);
  if (run.trends === 'native') {
    return [
      {
        labels: k6Labels(run, runner, nativeHistogramSeries(def), tags),
        histograms: seen.map((values, k) => ({
          histogram: nativeHistogram(values),
          timestampMs: timestampsMs[k] as number,
        })),
      },
    ];
  }
  return REMOTE_WRITE_TREND_STATS.map((stat) => ({
    labels: k6Labels(run, runner, remoteWriteSeries(def, stat), tags),
    samples: seen.map((values, k) => ({
      value: trendStat(
        [...values].sort((a, b) => a - b),
        stat,
      ),
      timestampMs: timestampsMs[k] as number,
    })),
  }));
}

/** Every series of `run`, each with one sample per timestamp (ascending: Prometheus refuses out-of-order). */
export function k6RunSeries(run: K6RunSpec, timestampsMs: readonly number[]): WriteSeries[] {
  const defs: [K6MetricDef, readonly Tags[]][] = [
    ...(Object.keys(K6_METRICS) as K6MetricKey[]).map(
      (k) => [K6_METRICS[k], METRIC_TAGS[k]] as [K6MetricDef, readonly Tags[]],
    ),
    ...(Object.keys(K6_BUILTINS) as (keyof typeof K6_BUILTINS)[]).map(
      (k) => [K6_BUILTINS[k], BUILTIN_TAGS[k]] as [K6MetricDef, readonly Tags[]],
    ),
  ];
  const out: WriteSeries[] = [];
  defs.forEach(([def, tagSets], d) => {
    tagSets.forEach((own, t) => {
      const tags = OUTSIDE_SCENARIOS.has(def.name) ? own : { scenario: run.scenario, ...own };
      const seed = d * 7 + t;
      for (let r = 0; r < run.runners; r++) {
        if (def.kind === 'trend') out.push(...trendSeries(run, def, tags, seed, r, timestampsMs));
        else
          out.push({
            labels: k6Labels(run, r, remoteWriteSeries(def), tags),
            samples: timestampsMs.map((timestampMs, k) => ({
              value: floatValue(def, seed, r, k),
              timestampMs,
            })),
          });
      }
    });
  });
  return out;
}

/** `count` timestamps `stepMs` apart, the last at `endMs` (k6 pushes every 5 s by default). */
export function pushTimes(endMs: number, count: number, stepMs: number): number[] {
  return Array.from({ length: count }, (_, k) => endMs - (count - 1 - k) * stepMs);
}
