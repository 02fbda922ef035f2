/**
 * Every series a dashboard selects exists: it traces to common/metrics.ts (k6 metrics through k6's naming
 * rules, API metrics), to k6's built-ins or to the pinned mysqld_exporter names. A typo fails here.
 */
import { describe, expect, it } from 'vitest';
import { REMOTE_WRITE_TREND_STATS } from '../../common/k6-output.ts';
import { K6_METRICS, nativeHistogramSeries, remoteWriteSeries } from '../../common/metrics.ts';
import { K6_BUILTINS } from '../../dashboards/src/k6-builtins.ts';
import { allQueries, parse, seriesNames } from './promql.ts';
import { KNOWN_SERIES } from './series.ts';

const unknown = (expr: string) => seriesNames(parse(expr)).filter((n) => !KNOWN_SERIES.has(n));

describe('dashboard series names', () => {
  const queries = allQueries();

  it.each(queries.map((q) => [q.where, q] as const))('%s selects only known series', (_, q) => {
    const names = seriesNames(q.parsed);
    expect(names.length, q.parsed.expr).toBeGreaterThan(0);
    expect(
      names.filter((n) => !KNOWN_SERIES.has(n)),
      q.parsed.expr,
    ).toEqual([]);
  });

  it('rejects a made-up name, a misspelt one and a regex that is not a list of names', () => {
    expect(unknown('sum(rate(k6_stale_read_total[1m]))')).toEqual(['k6_stale_read_total']);
    expect(unknown('k6_visibility_lag_p999')).toEqual(['k6_visibility_lag_p999']);
    expect(unknown('mysql_slave_status_seconds_behind_sauce')).toEqual([
      'mysql_slave_status_seconds_behind_sauce',
    ]);
    expect(unknown('cqrs_api_request_duration_seconds')).toEqual(['cqrs_api_request_duration_seconds']);
    expect(unknown('{__name__=~"k6_vus|k6_vu"}')).toEqual(['k6_vu']);
    expect(unknown('{__name__=~"k6_.*"}')).toEqual(['k6_.*']);
  });

  it('restates the same names the registry’s own functions give (common/metrics.ts)', () => {
    for (const def of [...Object.values(K6_METRICS), ...Object.values(K6_BUILTINS)]) {
      expect(KNOWN_SERIES.has(remoteWriteSeries(def)), def.name).toBe(true);
      if (def.kind === 'trend') {
        expect(KNOWN_SERIES.get(nativeHistogramSeries(def))?.kind, def.name).toBe('k6-native-histogram');
        for (const stat of REMOTE_WRITE_TREND_STATS) {
          expect(KNOWN_SERIES.get(remoteWriteSeries(def, stat))?.kind, `${def.name} ${stat}`).toBe(
            'k6-trend-stat',
          );
        }
      }
    }
  });
});
