/** Every panel and variable query is valid PromQL once Grafana has filled in its variables. */
import { describe, expect, it } from 'vitest';
import { loadDashboards, substitute } from '../helpers/dashboard-queries.ts';
import { allQueries, parse, syntaxErrors, variablePromql } from './promql.ts';

const queries = allQueries();

describe('dashboard queries parse as PromQL', () => {
  it('finds the queries', () => {
    expect(loadDashboards().length).toBe(3);
    expect(queries.length).toBeGreaterThan(60);
  });

  it.each(queries.map((q) => [q.where, q] as const))('%s parses without errors', (_, q) => {
    expect(syntaxErrors(q.parsed), q.parsed.expr).toEqual([]);
  });

  it('catches a broken query', () => {
    expect(syntaxErrors(parse('sum by (strategy) (rate(k6_stale_reads_total{testid=~"x"}[1m])'))).not.toEqual(
      [],
    );
    expect(syntaxErrors(parse('k6_vus{testid=~"x"} k6_vus'))).not.toEqual([]);
    expect(syntaxErrors(parse('histogram_quantile(0.99, sum(rate(k6_x_seconds[1m])))'))).toEqual([]);
  });

  it('fills every variable form and refuses an unknown one', () => {
    expect(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template
      substitute('a{x=~"$v", y=~"${v}", z=~"${v:regex}", w=~"[[v]]"}[$__rate_interval]', { v: 'q' }),
    ).toBe('a{x=~"q", y=~"q", z=~"q", w=~"q"}[1m]');
    expect(() => substitute('a{x=~"$nope"}', { v: 'q' })).toThrow(/nope/);
  });

  it('reads the selector out of label_values()', () => {
    expect(variablePromql('label_values(k6_vus{testid=~"$testid"}, script)')).toBe(
      'k6_vus{testid=~"$testid"}',
    );
    expect(variablePromql('label_values(testid)')).toBeNull();
  });
});
