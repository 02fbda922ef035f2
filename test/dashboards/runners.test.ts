/**
 * With several k6 runners the panels stay right: a percentile is never averaged (per-runner trend stats are
 * shown as the worst runner, max), and every quantile over a k6 native histogram sums the runners' rates first.
 */
import { describe, expect, it } from 'vitest';
import {
  allQueries,
  args,
  descendants,
  operator,
  type Parsed,
  parse,
  selectorNames,
  selectors,
} from './promql.ts';
import { seriesKind } from './series.ts';

/** Aggregations that would blend percentiles of different runners into a number that is none of them. */
const BLENDING = new Set(['avg', 'avg_over_time', 'quantile', 'quantile_over_time', 'sum', 'sum_over_time']);

/** Problems a query has with several runners; empty when it aggregates each kind of series rightly. */
function runnerProblems(p: Parsed): string[] {
  const problems: string[] = [];
  const names = (n: Parameters<typeof selectors>[0]['root']) =>
    descendants(n)
      .filter((x) => x.name === 'VectorSelector')
      .flatMap((s) => selectorNames(p, s));
  for (const n of descendants(p.root)) {
    const op = operator(p, n);
    if (op === null) continue;
    const stats = names(n).filter((s) => seriesKind(s) === 'k6-trend-stat');
    if (BLENDING.has(op) && stats.length > 0)
      problems.push(`${op}() over the percentile series ${stats.join(', ')}`);
    if (op === 'histogram_quantile') {
      const over = args(n)[1];
      const native = over ? names(over).filter((s) => seriesKind(s) === 'k6-native-histogram') : [];
      if (native.length > 0 && (over?.name !== 'AggregateExpr' || operator(p, over) !== 'sum')) {
        problems.push(`histogram_quantile over ${native.join(', ')} without sum across runners`);
      }
    }
  }
  // A trend stat read bare would show one line per runner as if each were the percentile.
  for (const s of selectors(p)) {
    const stats = selectorNames(p, s).filter((x) => seriesKind(x) === 'k6-trend-stat');
    if (stats.length === 0) continue;
    const inMax = descendants(p.root).some(
      (n) => operator(p, n) === 'max' && n.from <= s.from && s.to <= n.to,
    );
    if (!inMax) problems.push(`${stats.join(', ')} not taken as the worst runner (max)`);
  }
  return problems;
}

describe('panels with several runners', () => {
  const queries = allQueries();

  it.each(queries.map((q) => [q.where, q] as const))('%s', (_, q) => {
    expect(runnerProblems(q.parsed), q.parsed.expr).toEqual([]);
  });

  it('uses native histograms and trend stats at all', () => {
    const kinds = queries.flatMap((q) =>
      selectors(q.parsed).flatMap((s) => selectorNames(q.parsed, s).map(seriesKind)),
    );
    expect(kinds).toContain('k6-native-histogram');
    expect(kinds).toContain('k6-trend-stat');
  });

  it('catches an averaged percentile and an unmerged histogram', () => {
    const problems = (q: string) => runnerProblems(parse(q)).join('; ');
    expect(problems('avg(k6_visibility_lag_p99{testid="x"})')).toMatch(/avg\(\) over the percentile series/);
    expect(problems('max(avg_over_time(k6_visibility_lag_p99[5m]))')).toMatch(/avg_over_time\(\) over/);
    expect(problems('k6_visibility_lag_p99')).toMatch(/not taken as the worst runner/);
    expect(problems('histogram_quantile(0.99, rate(k6_visibility_lag_seconds[1m]))')).toMatch(/without sum/);
    expect(problems('histogram_quantile(0.99, max(rate(k6_visibility_lag_seconds[1m])))')).toMatch(
      /without sum/,
    );
    expect(
      runnerProblems(
        parse('histogram_quantile(0.99, sum by (strategy) (rate(k6_visibility_lag_seconds[1m])))'),
      ),
    ).toEqual([]);
  });
});
