/**
 * CQRS consistency, per strategy: how often an immediate read is stale, how long a write takes to become
 * visible, the replica lag behind it, what each strategy does to avoid stale reads (GTID waits, fallbacks,
 * primary offload), session-guarantee violations and the reconciliation at the end.
 */

import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { API_METRICS, K6_METRICS as M } from '../../common/metrics.ts';
import { OFFLOADED } from '../../lib/api/report.ts';
import {
  apiBucket,
  bucketQuantile,
  datasourceVariable,
  houseDashboard,
  INSTANCE_MATCHER,
  instanceVariable,
  k6Counter,
  k6Gauge,
  k6Histogram,
  k6Selector,
  k6TrendStat,
  k6Variables,
  mysqlSelector,
  PER_RUNNER_NOTE,
  perSecond,
  quantile,
  rangeQuantile,
  runTotal,
  statPanel,
  timeseriesPanel,
  UNITS,
  worstRunner,
  ZERO_IS_GREEN,
} from './defaults.ts';
import { exporterSeries, MYSQLD_EXPORTER as X } from './mysqld-exporter.ts';

const sel = k6Selector();
/**
 * Per strategy, and per script: an SQL and an API run can share a strategy name (`eventual`) and must not be
 * merged into one figure when both are selected.
 */
const S = ['script', 'strategy'];
const NATIVE_NOTE =
  'From native histograms (K6_FEATURES=native-histograms): the runners’ buckets are summed before the ' +
  'quantile, so it is the merged percentile of every runner.';

/** A counter's share of another, per strategy: the ratio of their summed rates. */
const share = (part: string, whole: string): string =>
  `${perSecond(part, sel, S)} / ${perSecond(whole, sel, S)}`;

const staleReads = () => [
  timeseriesPanel({
    title: 'Stale-read rate',
    description:
      'Share of immediate reads after an acknowledged probe write that missed the write (stale_reads / ' +
      'probe_reads), per strategy, over the rate interval. Unit: share of reads (0-1). Counters are summed ' +
      'over runners before dividing.',
    unit: UNITS.share,
    min: 0,
    w: 12,
    queries: [
      { expr: share(k6Counter(M.staleReads), k6Counter(M.probeReads)), legend: '{{script}} {{strategy}}' },
    ],
  }),
  statPanel({
    title: 'Stale reads over the run',
    description:
      'Stale immediate reads / immediate reads, per strategy, from the counters’ run totals (k6 counters count ' +
      'from the start of each run; summed over runners). Unit: share of reads.',
    unit: UNITS.share,
    w: 6,
    h: 8,
    queries: [
      {
        expr: `${runTotal(k6Counter(M.staleReads), sel, S)} / ${runTotal(k6Counter(M.probeReads), sel, S)}`,
        legend: '{{script}} {{strategy}}',
      },
    ],
  }),
  timeseriesPanel({
    title: 'Probe writes and reads',
    description:
      'Acknowledged probe writes and immediate reads per second, per strategy, summed over runners.',
    unit: UNITS.perSecond,
    min: 0,
    w: 6,
    queries: [
      { expr: perSecond(k6Counter(M.probeWrites), sel, S), legend: 'writes {{script}} {{strategy}}' },
      { expr: perSecond(k6Counter(M.probeReads), sel, S), legend: 'reads {{script}} {{strategy}}' },
    ],
  }),
];

const lagPercentiles = (def: typeof M.visibilityLag) =>
  ([0.5, 0.95, 0.99] as const).map((q) => ({
    expr: quantile(q, k6Histogram(def), sel, S),
    legend: `p${q * 100} {{script}} {{strategy}}`,
  }));

const visibility = () => [
  timeseriesPanel({
    title: 'Visibility lag percentiles',
    description:
      `Server-side time from the write to its visibility where it was read (replica apply stamp), per strategy, ` +
      `over the rate interval. Unit: seconds. ${NATIVE_NOTE}`,
    unit: UNITS.seconds,
    min: 0,
    w: 12,
    queries: lagPercentiles(M.visibilityLag),
  }),
  timeseriesPanel({
    title: 'Visibility lag, trend stats (worst runner)',
    description: `Server-side visibility lag p50/p95/p99, per strategy. Unit: seconds. ${PER_RUNNER_NOTE}`,
    unit: UNITS.seconds,
    min: 0,
    w: 12,
    queries: (['p(50)', 'p(95)', 'p(99)'] as const).map((s) => ({
      expr: worstRunner(k6TrendStat(M.visibilityLag, s), sel, S),
      legend: `${s} {{script}} {{strategy}}`,
    })),
  }),
  statPanel({
    title: 'Visibility lag p99 over the run',
    description:
      `Server-side visibility lag p99 over the time range, per strategy, from the merged native histograms ` +
      `(increase over the range, summed over runners). Unit: seconds. increase() starts at each runner's first ` +
      `push inside the range, so a run that starts inside it leaves out what came before that push (its first ` +
      `second at the 1 s push interval); consistency.md has the whole run's figure.`,
    unit: UNITS.seconds,
    w: 8,
    h: 8,
    queries: [
      { expr: rangeQuantile(0.99, k6Histogram(M.visibilityLag), sel, S), legend: '{{script}} {{strategy}}' },
    ],
  }),
  timeseriesPanel({
    title: 'Client-side visibility lag',
    description:
      `Ack received to the first read that saw the write returning (k6 clock, whole milliseconds), per ` +
      `strategy. Unit: seconds. ${NATIVE_NOTE}`,
    unit: UNITS.seconds,
    min: 0,
    w: 8,
    queries: ([0.5, 0.99] as const).map((q) => ({
      expr: quantile(q, k6Histogram(M.visibilityLagClient), sel, S),
      legend: `p${q * 100} {{script}} {{strategy}}`,
    })),
  }),
  timeseriesPanel({
    title: 'Visibility timeouts, polls and upper bounds',
    description:
      'Per second, per strategy, summed over runners: writes not visible within the probe timeout, polls ' +
      'after a stale immediate read, and probes whose lag is only an upper bound (no apply stamp).',
    unit: UNITS.perSecond,
    min: 0,
    w: 8,
    queries: [
      {
        expr: perSecond(k6Counter(M.visibilityTimeouts), sel, S),
        legend: 'timeouts {{script}} {{strategy}}',
      },
      { expr: perSecond(k6Counter(M.visibilityPolls), sel, S), legend: 'polls {{script}} {{strategy}}' },
      {
        expr: perSecond(k6Counter(M.visibilityLagUpperBound), sel, S),
        legend: 'upper bounds {{script}} {{strategy}}',
      },
    ],
  }),
];

const mysql = mysqlSelector();
const replicaLag = () => [
  timeseriesPanel({
    title: 'Heartbeat lag against Seconds_Behind_Master',
    description:
      'Replica lag three ways. k6 heartbeat: the apply lag of the newest heartbeat on the replica (merged ' +
      'p50/p99 from native histograms, and the latest sample of the worst runner). Seconds_Behind_Master: as ' +
      'k6 read it and as mysqld_exporter reads it (whole seconds, coarse). Exporter heartbeat: now minus the ' +
      'newest heartbeat row on each server (on the primary, the time since the API’s last beat). Unit: seconds.',
    unit: UNITS.seconds,
    min: 0,
    w: 16,
    queries: [
      { expr: quantile(0.5, k6Histogram(M.heartbeatLag), sel), legend: 'k6 heartbeat p50' },
      { expr: quantile(0.99, k6Histogram(M.heartbeatLag), sel), legend: 'k6 heartbeat p99' },
      // A time gauge keeps k6's milliseconds through remote-write.
      {
        expr: `${worstRunner(k6Gauge(M.heartbeatLagNow), sel)} / 1000`,
        legend: 'k6 heartbeat now (worst runner)',
      },
      { expr: worstRunner(k6Gauge(M.secondsBehind), sel), legend: 'Seconds_Behind_Master (k6)' },
      {
        expr: `max by (instance) (${exporterSeries(X.secondsBehind, INSTANCE_MATCHER)})`,
        legend: 'Seconds_Behind_Master {{instance}}',
      },
      {
        expr: `max by (instance) (${X.heartbeatNow}${mysql} - ${X.heartbeatStored}${mysql})`,
        legend: 'exporter heartbeat {{instance}}',
      },
    ],
  }),
  timeseriesPanel({
    title: 'Heartbeat lag, trend stats (worst runner)',
    description: `k6 heartbeat lag p99 and max. Unit: seconds. ${PER_RUNNER_NOTE}`,
    unit: UNITS.seconds,
    min: 0,
    w: 8,
    queries: (['p(99)', 'max'] as const).map((s) => ({
      expr: worstRunner(k6TrendStat(M.heartbeatLag, s), sel),
      legend: s,
    })),
  }),
];

const A = API_METRICS;
const strategies = () => [
  timeseriesPanel({
    title: 'GTID-wait timeouts and fallbacks',
    description:
      'From the API’s /metrics, per second, summed over API instances: GTID waits that timed out, and reads the ' +
      'primary answered instead of their strategy’s source, by strategy and reason.',
    unit: UNITS.perSecond,
    min: 0,
    w: 8,
    queries: [
      { expr: perSecond(A.gtidWaitTimeouts.name, ''), legend: 'GTID-wait timeouts' },
      {
        expr: perSecond(A.readFallbacks.name, '{strategy=~"$strategy"}', ['strategy', 'reason']),
        legend: 'fallback {{script}} {{strategy}}: {{reason}}',
      },
    ],
  }),
  timeseriesPanel({
    title: 'GTID-wait duration',
    description:
      'Time the API spent waiting for a client’s GTID on the replica, p50 and p99, from its histogram ' +
      '(buckets summed over API instances). Unit: seconds.',
    unit: UNITS.seconds,
    min: 0,
    w: 8,
    queries: ([0.5, 0.99] as const).map((q) => ({
      expr: bucketQuantile(q, apiBucket(A.gtidWaitDuration), ''),
      legend: `p${q * 100}`,
    })),
  }),
  timeseriesPanel({
    title: 'Primary offload',
    description:
      `Share of reads served off the primary, per strategy (0-1): API reads whose X-Read-Source is ` +
      `${OFFLOADED.join(' or ')} (a read that failed has no source and is not offload), and SQL load-scenario ` +
      'reads sent to the reader endpoint. 0 is a strategy that reads only from the primary. Counters summed ' +
      'over runners.',
    unit: UNITS.share,
    min: 0,
    max: 1,
    w: 8,
    queries: [
      {
        // A strategy that never leaves the primary has no off-primary series: its offload is a real 0.
        expr:
          `(${perSecond(k6Counter(M.apiReads), k6Selector(`source=~"${OFFLOADED.join('|')}"`), S)} or 0 * ` +
          `${perSecond(k6Counter(M.apiReads), sel, S)}) / ${perSecond(k6Counter(M.apiReads), sel, S)}`,
        legend: 'API {{script}} {{strategy}}',
      },
      {
        expr:
          `(${perSecond(k6Counter(M.sqlReads), k6Selector('endpoint="reader"'), S)} or 0 * ` +
          `${perSecond(k6Counter(M.sqlReads), sel, S)}) / ${perSecond(k6Counter(M.sqlReads), sel, S)}`,
        legend: 'SQL {{script}} {{strategy}}',
      },
    ],
  }),
];

const endOfRun = () => [
  statPanel({
    title: 'Session-guarantee violations',
    description:
      'Read-your-writes and monotonic-read violations seen by VUs, run totals per strategy, summed over ' +
      'runners. Count; green only at 0.',
    unit: UNITS.count,
    w: 8,
    thresholds: ZERO_IS_GREEN,
    queries: [
      {
        expr: runTotal(k6Counter(M.rywViolations), sel, S),
        legend: 'read-your-writes {{script}} {{strategy}}',
      },
      {
        expr: runTotal(k6Counter(M.monotonicViolations), sel, S),
        legend: 'monotonic {{script}} {{strategy}}',
      },
    ],
  }),
  statPanel({
    title: 'Reconciliation: acknowledged writes missing',
    description:
      'Acknowledged writes absent on the reader and on the writer when the run’s teardown reconciled the ledger, ' +
      'summed over runners. Count; green only at 0. No data until a teardown has run (never shown as 0).',
    unit: UNITS.count,
    w: 8,
    thresholds: ZERO_IS_GREEN,
    noValue: 'not reconciled yet',
    queries: [
      { expr: runTotal(k6Counter(M.reconcileMissingReader), sel), legend: 'missing on reader' },
      { expr: runTotal(k6Counter(M.reconcileMissingWriter), sel), legend: 'missing on writer' },
    ],
  }),
  statPanel({
    title: 'Reconciliation: checked',
    description:
      'Writes acknowledged, written to the ledger and checked at the end, and reconciliations that could not ' +
      'run (so found nothing), run totals summed over runners. Count.',
    unit: UNITS.count,
    w: 8,
    noValue: 'not reconciled yet',
    queries: [
      { expr: runTotal(k6Counter(M.ackedWrites), sel), legend: 'acknowledged' },
      { expr: runTotal(k6Counter(M.ledgerFlushed), sel), legend: 'in ledger' },
      { expr: runTotal(k6Counter(M.reconcileChecked), sel), legend: 'checked' },
      { expr: runTotal(k6Counter(M.reconcileErrors), sel), legend: 'errors' },
    ],
  }),
];

export function consistencyDashboard(): dashboard.Dashboard {
  return houseDashboard({
    slug: 'consistency',
    title: 'CQRS consistency per strategy',
    description: 'Stale reads, visibility lag and replica lag per read-consistency strategy, from k6 runs.',
    variables: [datasourceVariable(), ...k6Variables(), instanceVariable()],
    rows: [
      { title: 'Stale reads', panels: staleReads() },
      { title: 'Visibility lag', panels: visibility() },
      { title: 'Replica lag', panels: replicaLag() },
      { title: 'Strategies at work', panels: strategies() },
      { title: 'Session guarantees and reconciliation', panels: endOfRun() },
    ],
  });
}
