/**
 * Writer vs reader load: what the k6 runners asked of each endpoint (VUs, iterations, statements and
 * requests), how long it took, what failed, and whether the load generator itself was the limit.
 */
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { K6_METRICS as M } from '../../common/metrics.ts';
import {
  datasourceVariable,
  houseDashboard,
  k6Counter,
  k6Gauge,
  k6Histogram,
  k6Selector,
  k6TrendStat,
  k6Variables,
  PER_RUNNER_NOTE,
  perSecond,
  quantile,
  runTotal,
  statPanel,
  timeseriesPanel,
  UNITS,
  worstRunner,
  yesNo,
  ZERO_IS_GREEN,
} from './defaults.ts';
import { K6_BUILTINS as B } from './k6-builtins.ts';

const sel = k6Selector();
const MERGED =
  'Percentiles from native histograms, buckets summed over runners before the quantile (merged).';

/**
 * Dropped iterations of the run, a real 0 when iterations ran and none was dropped: k6 sends
 * dropped_iterations only once it drops one, so its absence alone would read as "no data".
 */
const dropped = `${runTotal(k6Counter(B.droppedIterations), sel)} or 0 * ${runTotal(k6Counter(B.iterations), sel)}`;

const generator = () => [
  timeseriesPanel({
    title: 'VUs',
    description: 'VUs running an iteration and VUs allocated, summed over runners. Count.',
    unit: UNITS.count,
    min: 0,
    w: 8,
    queries: [
      { expr: `sum (${k6Gauge(B.vus)}${sel})`, legend: 'active' },
      { expr: `sum (${k6Gauge(B.vusMax)}${sel})`, legend: 'allocated' },
    ],
  }),
  timeseriesPanel({
    title: 'Iterations',
    description:
      'Iterations started and dropped per second, per k6 scenario, summed over runners. A dropped iteration ' +
      'is one an arrival-rate executor could not start on time (no free VU).',
    unit: UNITS.perSecond,
    min: 0,
    w: 8,
    queries: [
      { expr: perSecond(k6Counter(B.iterations), sel, ['scenario']), legend: 'started {{scenario}}' },
      { expr: perSecond(k6Counter(B.droppedIterations), sel, ['scenario']), legend: 'dropped {{scenario}}' },
    ],
  }),
  statPanel({
    title: 'Dropped iterations',
    description:
      'Iterations k6 could not start on time over the run, summed over runners. Count; green only at 0.',
    unit: UNITS.count,
    w: 4,
    h: 8,
    thresholds: ZERO_IS_GREEN,
    queries: [{ expr: dropped, legend: 'dropped' }],
  }),
  statPanel({
    title: 'Generator is the limit',
    description:
      'Yes when k6 dropped iterations: the load generator held the load back, so client-side latencies include ' +
      'its own queueing and the achieved rate is below the scheduled one (as the run summary warns).',
    unit: UNITS.none,
    w: 4,
    h: 8,
    mappings: yesNo('no'),
    queries: [{ expr: `(${dropped}) > bool 0`, legend: 'limited' }],
  }),
];

const EP = ['endpoint', 'op'];
const throughput = () => [
  timeseriesPanel({
    title: 'SQL statements by endpoint and operation',
    description:
      'SQL statements sent per second, by endpoint (writer|reader) and operation, summed over runners.',
    unit: UNITS.perSecond,
    min: 0,
    w: 12,
    queries: [{ expr: perSecond(k6Counter(M.dbQueries), sel, EP), legend: '{{endpoint}} {{op}}' }],
  }),
  timeseriesPanel({
    title: 'Requests and load-scenario rows',
    description:
      'HTTP requests per second by request name, and the SQL load scenarios’ rows written and point reads per ' +
      'second by endpoint, summed over runners.',
    unit: UNITS.perSecond,
    min: 0,
    w: 12,
    queries: [
      { expr: perSecond(k6Counter(B.httpReqs), sel, ['name']), legend: 'HTTP {{name}}' },
      { expr: perSecond(k6Counter(M.sqlWrites), sel, ['endpoint']), legend: 'rows written {{endpoint}}' },
      { expr: perSecond(k6Counter(M.sqlReads), sel, ['endpoint']), legend: 'point reads {{endpoint}}' },
    ],
  }),
];

const latency = () => [
  timeseriesPanel({
    title: 'SQL statement latency',
    description: `Duration of one SQL statement, p50 and p99 by endpoint. Unit: seconds. ${MERGED}`,
    unit: UNITS.seconds,
    min: 0,
    w: 12,
    queries: ([0.5, 0.99] as const).map((q) => ({
      expr: quantile(q, k6Histogram(M.dbQueryDuration), sel, ['endpoint']),
      legend: `p${q * 100} {{endpoint}}`,
    })),
  }),
  timeseriesPanel({
    title: 'SQL statement latency, trend stats (worst runner)',
    description: `Duration of one SQL statement, p99 by endpoint and operation. Unit: seconds. ${PER_RUNNER_NOTE}`,
    unit: UNITS.seconds,
    min: 0,
    w: 12,
    queries: [
      {
        expr: worstRunner(k6TrendStat(M.dbQueryDuration, 'p(99)'), sel, EP),
        legend: 'p99 {{endpoint}} {{op}}',
      },
    ],
  }),
  timeseriesPanel({
    title: 'API latency',
    description: `API read and write latency seen by k6, p50 and p99 by strategy. Unit: seconds. ${MERGED}`,
    unit: UNITS.seconds,
    min: 0,
    w: 12,
    queries: [M.apiReadDuration, M.apiWriteDuration].flatMap((def) =>
      ([0.5, 0.99] as const).map((q) => ({
        expr: quantile(q, k6Histogram(def), sel, ['strategy']),
        legend: `${def === M.apiReadDuration ? 'read' : 'write'} p${q * 100} {{strategy}}`,
      })),
    ),
  }),
  timeseriesPanel({
    title: 'HTTP request duration',
    description: `k6's http_req_duration, p50 and p99 by request name. Unit: seconds. ${MERGED}`,
    unit: UNITS.seconds,
    min: 0,
    w: 12,
    queries: ([0.5, 0.99] as const).map((q) => ({
      expr: quantile(q, k6Histogram(B.httpReqDuration), sel, ['name']),
      legend: `p${q * 100} {{name}}`,
    })),
  }),
  timeseriesPanel({
    title: 'API latency, trend stats (worst runner)',
    description: `API read and write latency and http_req_duration, p99 by strategy. Unit: seconds. ${PER_RUNNER_NOTE}`,
    unit: UNITS.seconds,
    min: 0,
    w: 24,
    queries: [
      {
        expr: worstRunner(k6TrendStat(M.apiReadDuration, 'p(99)'), sel, ['strategy']),
        legend: 'read p99 {{strategy}}',
      },
      {
        expr: worstRunner(k6TrendStat(M.apiWriteDuration, 'p(99)'), sel, ['strategy']),
        legend: 'write p99 {{strategy}}',
      },
      {
        expr: worstRunner(k6TrendStat(B.httpReqDuration, 'p(99)'), sel, ['name']),
        legend: 'HTTP p99 {{name}}',
      },
    ],
  }),
];

const errors = () => [
  timeseriesPanel({
    title: 'SQL errors',
    description: 'SQL statements that failed per second, by endpoint and operation, summed over runners.',
    unit: UNITS.perSecond,
    min: 0,
    w: 6,
    queries: [{ expr: perSecond(k6Counter(M.dbErrors), sel, EP), legend: '{{endpoint}} {{op}}' }],
  }),
  timeseriesPanel({
    title: 'API errors',
    description: 'API requests that failed per second, by strategy and route, summed over runners.',
    unit: UNITS.perSecond,
    min: 0,
    w: 6,
    queries: [
      {
        expr: perSecond(k6Counter(M.apiErrors), sel, ['strategy', 'route']),
        legend: '{{strategy}} {{route}}',
      },
    ],
  }),
  timeseriesPanel({
    title: 'Iteration and probe errors',
    description:
      'Per second, summed over runners: iterations that hit an error, by kind, and acknowledged probe writes ' +
      'whose read failed, by read (immediate|poll).',
    unit: UNITS.perSecond,
    min: 0,
    w: 6,
    queries: [
      { expr: perSecond(k6Counter(M.iterationErrors), sel, ['kind']), legend: 'iteration {{kind}}' },
      { expr: perSecond(k6Counter(M.probeErrors), sel, ['read']), legend: 'probe read {{read}}' },
    ],
  }),
  timeseriesPanel({
    title: 'HTTP failed share (worst runner)',
    description:
      'k6’s http_req_failed: share of HTTP requests that failed (0-1). k6 computes it per runner over its run ' +
      'so far; with several runners this is the worst runner (max), not a merged share.',
    unit: UNITS.share,
    min: 0,
    w: 6,
    queries: [{ expr: worstRunner(k6Gauge(B.httpReqFailed), sel), legend: 'failed' }],
  }),
];

export function loadDashboard(): dashboard.Dashboard {
  return houseDashboard({
    slug: 'load',
    title: 'CQRS writer vs reader load',
    description: 'What the k6 runners sent to the writer and the reader, how long it took and what failed.',
    variables: [datasourceVariable(), ...k6Variables()],
    rows: [
      { title: 'Load generator', panels: generator() },
      { title: 'Throughput', panels: throughput() },
      { title: 'Latency', panels: latency() },
      { title: 'Errors', panels: errors() },
    ],
  });
}
