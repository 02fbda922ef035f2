/**
 * The single registry of metric names. k6 scenarios create their custom metrics from `K6_METRICS`, the API
 * registers its prom-client series from `API_METRICS`, and dashboards and tests derive Prometheus series names
 * from both. Runtime-neutral.
 */
import { trendStatSuffix } from './k6-output.ts';

export type K6MetricKind = 'counter' | 'gauge' | 'rate' | 'trend';

export interface K6MetricDef {
  readonly name: string;
  readonly kind: K6MetricKind;
  /**
   * Trends/gauges in milliseconds: k6 marks them as time. Remote write converts a time trend to seconds (its
   * native histogram and its stats); a time gauge it sends as is, in milliseconds (common/k6-output.ts).
   */
  readonly isTime: boolean;
  readonly help: string;
}

const k6 = <K extends K6MetricKind>(name: string, kind: K, isTime: boolean, help: string) =>
  ({ name, kind, isTime, help }) as const;

/**
 * Custom k6 metrics. Anything that must add up across k6-operator runners is a Counter; percentiles come from
 * Trends (native histograms when remote-written with K6_FEATURES=native-histograms).
 */
export const K6_METRICS = {
  // Read-after-write probe.
  probeWrites: k6('probe_writes', 'counter', false, 'Probe writes acknowledged by the writer'),
  probeReads: k6('probe_reads', 'counter', false, 'Immediate reads after a probe write'),
  staleReads: k6('stale_reads', 'counter', false, 'Immediate reads that missed the acknowledged write'),
  staleReadRatio: k6(
    'stale_read_ratio',
    'rate',
    false,
    'Share of immediate reads that were stale (per runner)',
  ),
  visibilityLag: k6(
    'visibility_lag',
    'trend',
    true,
    'Write to visibility where it was read, from server-side times (replica apply stamp)',
  ),
  visibilityLagClient: k6(
    'visibility_lag_client',
    'trend',
    true,
    'Client-side: ack received to the first read that saw the write returning (k6 clock, whole ms)',
  ),
  visibilityLagUpperBound: k6(
    'visibility_lag_upper_bound',
    'counter',
    false,
    'Probes whose visibility lag is an upper bound (read-time basis: no apply stamp on the replica)',
  ),
  visibilityTimeouts: k6(
    'visibility_timeouts',
    'counter',
    false,
    'Writes not visible within the probe timeout',
  ),
  visibilityPolls: k6('visibility_polls', 'counter', false, 'Visibility polls after a stale immediate read'),
  // Replica lag.
  heartbeatLag: k6(
    'heartbeat_lag',
    'trend',
    true,
    'Replica lag: apply lag of the newest beat there, or the age of the oldest beat it lacks if more',
  ),
  heartbeatLagNow: k6('heartbeat_lag_current', 'gauge', true, 'Latest replica lag sampled by heartbeat'),
  secondsBehind: k6('replica_seconds_behind', 'gauge', false, 'Seconds_Behind_Master/Source, coarse'),
  // Query timings (tags: endpoint=writer|reader, op=...).
  dbQueryDuration: k6(
    'db_query_duration',
    'trend',
    true,
    'Duration of one SQL statement, by endpoint and op',
  ),
  dbQueries: k6('db_queries', 'counter', false, 'SQL statements sent, by endpoint and op'),
  dbErrors: k6('db_errors', 'counter', false, 'SQL statements that failed, by endpoint and op'),
  // Session guarantees.
  rywViolations: k6('ryw_violations', 'counter', false, 'Read-your-writes violations seen by a VU'),
  monotonicViolations: k6('monotonic_violations', 'counter', false, 'Monotonic-read violations seen by a VU'),
  // Reconciliation at teardown.
  reconcileMissingWriter: k6(
    'reconcile_missing_writer',
    'counter',
    false,
    'Acknowledged writes absent on the writer',
  ),
  reconcileMissingReader: k6(
    'reconcile_missing_reader',
    'counter',
    false,
    'Acknowledged writes absent on the reader',
  ),
  reconcileChecked: k6('reconcile_checked', 'counter', false, 'Acknowledged writes checked at the end'),
  reconcileErrors: k6(
    'reconcile_errors',
    'counter',
    false,
    'Reconciliations that could not run (so found nothing)',
  ),
  ackedWrites: k6('acked_writes', 'counter', false, 'Acknowledged writes handed to the ledger'),
  ledgerFlushed: k6(
    'ledger_flushed',
    'counter',
    false,
    'Acknowledgements written to the ledger (acked_writes minus this were never checked)',
  ),
  reconcileCatchup: k6(
    'reconcile_catchup',
    'trend',
    true,
    'Time until the reader held every acknowledged write',
  ),
  // Load scenarios (tag endpoint=writer|reader).
  sqlWrites: k6('sql_writes', 'counter', false, 'Rows written by the load scenarios'),
  sqlReads: k6('sql_reads', 'counter', false, 'Point reads made by the load scenarios'),
  // Through the CQRS API (tag strategy=..., source=...).
  apiReads: k6('api_reads', 'counter', false, 'API reads, by strategy and X-Read-Source'),
  apiReadDuration: k6('api_read_duration', 'trend', true, 'API read latency by strategy'),
  apiWriteDuration: k6('api_write_duration', 'trend', true, 'API write latency by strategy'),
  apiErrors: k6('api_errors', 'counter', false, 'API requests that failed, by strategy and route'),
  // Errors the scenario harness caught (lib/k6/failures.ts): counted here, logged only a few at a time.
  iterationErrors: k6(
    'iteration_errors',
    'counter',
    false,
    'Iterations that hit an error, by kind (the first few per VU are logged)',
  ),
  probeErrors: k6(
    'probe_errors',
    'counter',
    false,
    'Acknowledged probe writes whose read failed (tag read=immediate|poll): neither stale nor fresh',
  ),
} as const satisfies Record<string, K6MetricDef>;

export type K6MetricKey = keyof typeof K6_METRICS;

/**
 * The Prometheus series name k6's remote-write output gives a metric (`k6_` + name + a kind suffix; each trend
 * stat is its own series, e.g. `p(99)` → `_p99`).
 */
export function remoteWriteSeries(def: K6MetricDef, trendStat = 'p(99)'): string {
  const base = `k6_${def.name}`;
  switch (def.kind) {
    case 'counter':
      return `${base}_total`;
    case 'gauge':
      return base;
    case 'rate':
      return `${base}_rate`;
    case 'trend':
      return `${base}_${trendStatSuffix(trendStat)}`;
  }
}

/** Native-histogram series name for a trend (time trends carry `_seconds`). */
export function nativeHistogramSeries(def: K6MetricDef): string {
  return def.isTime ? `k6_${def.name}_seconds` : `k6_${def.name}`;
}

export type ApiMetricKind = 'counter' | 'gauge' | 'histogram';

export interface ApiMetricDef {
  readonly name: string;
  readonly kind: ApiMetricKind;
  readonly help: string;
  readonly labels: readonly string[];
}

const api = <K extends ApiMetricKind>(name: string, kind: K, help: string, labels: readonly string[]) =>
  ({ name, kind, help, labels }) as const;

/** Series exposed by the CQRS API on /metrics (prom-client). */
export const API_METRICS = {
  requestDuration: api('cqrs_api_request_duration_seconds', 'histogram', 'HTTP request duration', [
    'route',
    'method',
    'status',
    'strategy',
    'source',
  ]),
  staleReads: api('cqrs_api_stale_reads_total', 'counter', 'Empty results from GET /get (stale reads)', [
    'strategy',
  ]),
  compatReads: api('cqrs_api_compat_reads_total', 'counter', 'Reads made by GET /get', ['strategy']),
  gtidWaitDuration: api(
    'cqrs_api_gtid_wait_duration_seconds',
    'histogram',
    'Time spent waiting for a GTID',
    [],
  ),
  gtidWaitTimeouts: api('cqrs_api_gtid_wait_timeouts_total', 'counter', 'GTID waits that timed out', []),
  gtidWaitFallbacks: api(
    'cqrs_api_gtid_wait_fallbacks_total',
    'counter',
    'GTID-wait reads served by the primary',
    ['reason'],
  ),
  cacheRequests: api('cqrs_api_cache_requests_total', 'counter', 'Cache lookups by result', ['result']),
  poolConnections: api('cqrs_api_pool_connections', 'gauge', 'Database pool connections by pool and state', [
    'pool',
    'state',
  ]),
  dbTimeouts: api(
    'cqrs_api_db_timeouts_total',
    'counter',
    'Database calls abandoned at the API deadline (waiting for a connection, or for an answer)',
    ['pool', 'phase'],
  ),
  readFallbacks: api(
    'cqrs_api_read_fallbacks_total',
    'counter',
    "Reads the primary answered instead of their strategy's source",
    ['strategy', 'reason'],
  ),
  unavailable: api(
    'cqrs_api_unavailable_total',
    'counter',
    '503 answers, by the dependency that did not answer in time',
    ['dependency'],
  ),
  heartbeats: api(
    'cqrs_api_heartbeats_total',
    'counter',
    'Heartbeats the API wrote on the primary (the replica lag of /readyz)',
    ['result'],
  ),
} as const satisfies Record<string, ApiMetricDef>;
