/**
 * The API scenarios' bundles (the bundler's real output), checked like the SQL ones: k6-only ES imports,
 * the lifecycle exports, every `exec` exported, thresholds, config errors at init; plus what is particular to
 * them: one k6 scenario per strategy at the same rate, and the strategy comparison in the report.
 */
import { describe, expect, it } from 'vitest';
import { K6_METRICS } from '../../common/metrics.ts';
import {
  API_SCENARIOS,
  expectEveryExecExported,
  expectOnlyK6Imports,
  useBuiltBundles,
} from '../helpers/bundles.ts';

const built = useBuiltBundles('cqrs-api-bundles-');

const evaluate = built.evaluate;

interface ScenarioOptions {
  scenarios: Record<string, { exec?: string; rate?: number; tags?: Record<string, string> }>;
  thresholds: Record<string, string[]>;
}

describe('API scenario bundles', () => {
  it.each(API_SCENARIOS)('%s imports only k6 modules with ES imports', async (name) => {
    await expectOnlyK6Imports(built.path(name));
  });

  it.each(API_SCENARIOS)('%s exports the lifecycle, and every exec it names', async (name) => {
    const mod = await evaluate(name);
    for (const fn of ['default', 'setup', 'teardown', 'handleSummary'])
      expect(typeof mod[fn], fn).toBe('function');
    expectEveryExecExported(mod, name);
    const options = mod.options as ScenarioOptions;
    expect(options.thresholds[K6_METRICS.apiErrors.name]).toEqual(['count==0']);
  });

  it('api-read-after-write runs one scenario per strategy, at one rate, tagged with it', async () => {
    const mod = await evaluate('api-read-after-write', { CQRS_API_STRATEGIES: 'eventual,gtid-wait,cache' });
    const options = mod.options as ScenarioOptions;
    expect(Object.keys(options.scenarios)).toEqual(['eventual', 'gtid-wait', 'cache']);
    const rates = new Set(Object.values(options.scenarios).map((s) => s.rate));
    expect(rates.size).toBe(1);
    for (const [name, s] of Object.entries(options.scenarios)) expect(s.tags).toEqual({ strategy: name });
    expect(options.thresholds).toHaveProperty(K6_METRICS.reconcileMissingWriter.name);
    expect(options.thresholds).toHaveProperty(
      `${K6_METRICS.apiReads.name}{strategy:gtid-wait,source:replica}`,
    );
  });

  it('bad strategy variables fail init with one config error', async () => {
    await expect(
      evaluate('api-read-after-write', { CQRS_API_STRATEGIES: 'eventual,strong' }),
    ).rejects.toThrow(/^invalid CQRS_API_STRATEGIES; reason: expected distinct strategies/);
    await expect(evaluate('api-mixed', { CQRS_API_STRATEGY: 'fast' })).rejects.toThrow(
      'invalid CQRS_API_STRATEGY; reason: expected one of eventual|primary|gtid-wait|sticky|cache|gr-before|router-split, got "fast"',
    );
  });

  it('the consistency report compares the strategies', async () => {
    const mod = await evaluate('api-read-after-write', {
      CQRS_API_STRATEGIES: 'eventual,primary',
      CQRS_TEST_ID: 't1',
    });
    const counter = (n: number) => ({ type: 'counter', values: { count: n, rate: n } });
    const trendOf = (p50: number, p95: number) => ({
      type: 'trend',
      contains: 'time',
      values: { avg: p50, min: 0, med: p50, max: p95, 'p(90)': p95, 'p(95)': p95, 'p(99)': p95, count: 10 },
    });
    const M = K6_METRICS;
    const data = {
      metrics: {
        [`${M.rawReads.name}{strategy:eventual}`]: counter(100),
        [`${M.staleReads.name}{strategy:eventual}`]: counter(80),
        [`${M.apiReads.name}{strategy:eventual}`]: counter(100),
        [`${M.apiReads.name}{strategy:eventual,source:replica}`]: counter(100),
        [`${M.visibilityLag.name}{strategy:eventual}`]: trendOf(52, 60),
        [`${M.apiReadDuration.name}{strategy:eventual}`]: trendOf(1, 2),
        [`${M.rawReads.name}{strategy:primary}`]: counter(100),
        [`${M.staleReads.name}{strategy:primary}`]: counter(0),
        [`${M.apiReads.name}{strategy:primary}`]: counter(100),
        [`${M.apiErrors.name}{strategy:primary}`]: counter(3),
      },
      setup_data: { runId: 't1', runner: '0' },
    };
    const files = (mod.handleSummary as (d: unknown) => Record<string, string>)(data);
    const report = files['reports/t1/consistency.md'] ?? '';
    expect(report).toContain('## Strategy comparison');
    expect(report).toMatch(
      /\| eventual \| 100 \| 80\.0% \| 52\.0 ms \| 60\.0 ms \| 2\.00 ms \| 100\.0% \| 0 \|/,
    );
    expect(report).toMatch(/\| primary \| 100 \| 0\.0% \| n\/a \| n\/a \| n\/a \| 0\.0% \| 3 \|/);
  });
});
