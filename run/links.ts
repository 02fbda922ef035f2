/**
 * The link `npm start` prints to watch its runs: the consistency dashboard in Grafana when the stack runs one,
 * else Prometheus's own graph page with the same questions asked in PromQL. Pure: URLs only.
 */
import { K6_METRICS, nativeHistogramSeries, remoteWriteSeries } from '../common/metrics.ts';

/** dashboards/consistency.json's uid (a test holds the two together). */
export const CONSISTENCY_DASHBOARD_UID = 'cqrs-consistency';

/** A Grafana link to the consistency dashboard with every given test id selected, from `fromMs` on. */
export function grafanaRunLink(grafanaUrl: string, testIds: readonly string[], fromMs: number): string {
  const q = new URLSearchParams();
  for (const id of testIds) q.append('var-testid', id);
  q.set('from', String(fromMs));
  q.set('to', 'now');
  q.set('refresh', '5s');
  return `${grafanaUrl.replace(/\/+$/, '')}/d/${CONSISTENCY_DASHBOARD_UID}?${q.toString()}`;
}

/** `.` escaped for a PromQL regex inside a double-quoted string (test ids hold no other regex character). */
const regexLiteral = (id: string) => id.replace(/\./g, '\\\\.');

/** PromQL matcher for one run's test id. */
export function testIdMatcher(testId: string): string {
  return `testid="${testId}"`;
}

/** PromQL matcher for every run whose test id starts with `prefix-` (npm start's runs share one). */
export function testIdPrefixMatcher(prefix: string): string {
  return `testid=~"${regexLiteral(prefix)}-.+"`;
}

/**
 * The graph panels of the Prometheus link, by test id: stale-read rate from the counters, visibility-lag p99
 * merged from the native histograms (any number of runners), and the replica's heartbeat lag, all in seconds.
 */
export function watchQueries(matcher: string): string[] {
  const sel = `{${matcher}}`;
  const M = K6_METRICS;
  const rate = (def: (typeof M)[keyof typeof M]) =>
    `sum by (testid) (rate(${remoteWriteSeries(def)}${sel}[30s]))`;
  return [
    `${rate(M.staleReads)} / ${rate(M.probeReads)}`,
    `histogram_quantile(0.99, sum by (testid) (rate(${nativeHistogramSeries(M.visibilityLag)}${sel}[30s])))`,
    // The gauge is in ms (k6 sends time gauges as they are); seconds, like the two above.
    `max by (testid) (${remoteWriteSeries(M.heartbeatLagNow)}${sel}) / 1000`,
  ];
}

/** Prometheus's graph page with one panel per query, over the last `rangeMinutes`. */
export function prometheusGraphLink(
  prometheusUrl: string,
  queries: readonly string[],
  rangeMinutes = 15,
): string {
  const q = new URLSearchParams();
  queries.forEach((expr, i) => {
    q.set(`g${i}.expr`, expr);
    q.set(`g${i}.tab`, '0');
    q.set(`g${i}.range_input`, `${rangeMinutes}m`);
  });
  return `${prometheusUrl.replace(/\/+$/, '')}/graph?${q.toString()}`;
}
