/**
 * The HTML report's data model, on summaries a real stock k6 computed from known samples (k6-summaries.ts):
 * table rows, the strategies read off the kept submetrics, the charts' points and series, primary offload.
 * The escaping and sections-only-with-data checks use small hand-made summaries and need no k6.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { K6_METRICS } from '../../../common/metrics.ts';
import type { SummaryData } from '../../../lib/summary/data.ts';
import { ms } from '../../../lib/summary/format.ts';
import { reportCharts } from '../../../run/report/charts.ts';
import { escapeHtml, renderReport, scriptJson } from '../../../run/report/html.ts';
import { measuredPoints, type ReportRun, runRows, summaryStrategies } from '../../../run/report/model.ts';
import { describeWithBinary } from '../../helpers/k6-e2e.ts';
import {
  API_STRATEGIES,
  experimentRuns,
  type FixtureRun,
  NO_STOCK_K6,
  PROBES,
  primaryReads,
  STOCK_K6,
  staleReads,
  timedOut,
} from './k6-summaries.ts';

const M = K6_METRICS;

describeWithBinary('report model on k6-made summaries', STOCK_K6, NO_STOCK_K6, (k6) => {
  let work = '';
  let runs: FixtureRun[] = [];
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'cqrs-report-'));
    runs = await experimentRuns(k6, work);
  }, 120_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });
  const run = (testId: string) => {
    const r = runs.find((x) => x.testId === testId);
    if (!r) throw new Error(`no fixture run ${testId}`);
    return r;
  };

  it('k6 kept what the report reads: every curve percentile and the per-strategy submetrics', () => {
    const api = run('exp-api-raw-lag50').summary;
    const lag = api.metrics['visibility_lag{strategy:gtid-wait}'];
    expect(Object.keys(lag?.values ?? {})).toEqual(expect.arrayContaining(['min', 'p(1)', 'p(99.9)', 'max']));
    expect(api.metrics['api_reads{strategy:gtid-wait,source:replica}']).toBeDefined();
    expect(summaryStrategies(api)).toEqual([...API_STRATEGIES]);
    expect(summaryStrategies(run('exp-sql-raw-lag5').summary)).toEqual([]);
  });

  it('has one row per run, with the figures of its own summary', () => {
    const rows = runRows(runs);
    expect(rows.map((r) => r.run.testId)).toEqual(runs.map((r) => r.testId));
    const sql5 = rows.find((r) => r.run.testId === 'exp-sql-raw-lag5');
    expect(sql5?.figures.probes).toBe(PROBES);
    expect(sql5?.figures.staleRate).toBe(staleReads('eventual', 5) / PROBES);
    const sql50 = rows.find((r) => r.run.testId === 'exp-sql-raw-lag50');
    expect(sql50?.figures.visibilityTimeouts).toBe(timedOut('eventual', 50));
    expect(sql50?.figures.freshness?.probes).toBe(PROBES);
    // 3 of 400 never fresh: 99.9% is out of reach, 99% is not.
    expect(sql50?.figures.freshness?.t999Ms).toBeNull();
    expect(sql50?.figures.freshness?.t99Ms).toBeGreaterThan(50);
    expect(sql50?.run.exitCode).toBe(99); // visibility_timeouts count==0 failed
    const api = rows.find((r) => r.run.testId === 'exp-api-raw-lag0');
    expect(api?.strategies.map((s) => s.strategy)).toEqual([...API_STRATEGIES]);
  });

  it('computes primary offload per strategy from api_reads by source', () => {
    for (const testId of ['exp-api-raw-lag0', 'exp-api-raw-lag50']) {
      const lagMs = testId.endsWith('50') ? 50 : 0;
      const points = measuredPoints(runRows([run(testId)]));
      for (const strategy of API_STRATEGIES) {
        const p = points.find((x) => x.series === `api-read-after-write · ${strategy}`);
        expect(p?.offload, `${testId} ${strategy}`).toBeCloseTo(
          1 - primaryReads(strategy, lagMs) / (2 * PROBES),
          12,
        );
      }
    }
    const p = measuredPoints(runRows([run('exp-api-raw-lag50')]));
    expect(p.map((x) => x.offload)).toEqual([1, 0, 0.96]);
  });

  it('gives SQL probe runs one point without offload and replica-lag runs none', () => {
    const points = measuredPoints(runRows(runs));
    const sql = points.filter((p) => p.series === 'sql-read-after-write · eventual');
    expect(sql.map((p) => p.lagMs)).toEqual([0, 5, 50]);
    expect(sql.every((p) => p.offload === null && p.readP95 !== null)).toBe(true);
    expect(points.some((p) => p.series.startsWith('sql-replica-lag'))).toBe(false);
    expect(points).toHaveLength(3 + 2 * API_STRATEGIES.length);
  });

  it('draws every chart, each series from the right points', () => {
    const charts = reportCharts(measuredPoints(runRows(runs)), runs);
    expect(charts.map((c) => c.id)).toEqual([
      'visibility-percentiles',
      'stale-rate',
      'latency-offload',
      'heartbeat',
      'freshness',
    ]);
    const byId = Object.fromEntries(charts.map((c) => [c.id, c]));
    const stale = byId['stale-rate']?.series.find((s) => s.label === 'sql-read-after-write · eventual');
    expect(stale?.points).toEqual(
      [0, 5, 50].map((lag) => [lag, (staleReads('eventual', lag) / PROBES) * 100]),
    );
    const p99 = byId['visibility-percentiles']?.series.find(
      (s) => s.label === 'api-read-after-write · gtid-wait p99',
    );
    expect(p99?.points.map((p) => p[0])).toEqual([0, 50]);
    expect(p99?.points[1]?.[1]).toBe(
      run('exp-api-raw-lag50').summary.metrics['visibility_lag{strategy:gtid-wait}']?.values['p(99)'],
    );
    // Offload: API strategies only, one marker per lag.
    expect(byId['latency-offload']?.series.map((s) => [s.label, s.points.length])).toEqual(
      API_STRATEGIES.map((s) => [`api-read-after-write · ${s}`, 2]),
    );
    expect(byId.heartbeat?.series.map((s) => s.points.length)).toEqual([60, 60, 60]);
    const fresh = byId.freshness;
    expect(fresh?.series).toHaveLength(9);
    expect(fresh?.series.every((s) => s.points.every(([x, y]) => x > 0 && y >= 0 && y <= 100))).toBe(true);
    const t99 = runRows([run('exp-sql-raw-lag50')])[0]?.figures.freshness?.t99Ms ?? null;
    expect(fresh?.series.map((s) => s.label)).toContain(
      `sql-read-after-write · eventual @ 50ms: 99% after ${ms(t99)}, 99.9% after > timeout`,
    );
  });

  it('renders the same bytes for the same input, and the per-strategy table only for API runs', () => {
    const input = { title: 't', generatedAt: '2026-01-01T00:00:00.000Z', runs };
    expect(renderReport(input)).toBe(renderReport(input));
    const sqlOnly = renderReport({ ...input, runs: runs.filter((r) => r.scenario.startsWith('sql-')) });
    expect(sqlOnly).not.toContain('id="strategies"');
    expect(sqlOnly).not.toContain('data-chart="latency-offload"');
    expect(renderReport(input)).toContain('id="strategies"');
  });
});

/** A probe run summary by hand: enough for the table and one point. */
function handMade(lagMs: number): SummaryData {
  const values: Record<string, number> = { count: 10, min: lagMs + 0.5, med: lagMs + 1, max: lagMs + 3 };
  for (const p of ['p(95)', 'p(99)', 'p(99.9)']) values[p] = lagMs + 2;
  return {
    metrics: {
      [M.probeWrites.name]: { type: 'counter', values: { count: 10, rate: 1 } },
      [M.probeReads.name]: { type: 'counter', values: { count: 10, rate: 1 } },
      [M.staleReads.name]: { type: 'counter', values: { count: 2, rate: 0.2 } },
      [M.visibilityLag.name]: { type: 'trend', contains: 'time', values },
    },
  };
}

describe('report HTML without k6', () => {
  const evil = '<img src=x onerror="alert(1)">&\'</script><!--';
  const runs: ReportRun[] = [
    { testId: `t-${evil}`, scenario: evil, lag: '0', strategy: evil, summary: handMade(0) },
    { testId: 't2', scenario: evil, lag: '5ms', strategy: evil, summary: handMade(5) },
  ];
  const html = renderReport({ title: evil, generatedAt: evil, runs });

  it('escapes every text from the input, in the markup and in the inline JSON', () => {
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<!--');
    expect(html).toContain(escapeHtml(evil));
    expect(escapeHtml(evil)).toBe(
      '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;&lt;/script&gt;&lt;!--',
    );
    // Exactly the page's own three scripts end: the JSON, uPlot and the chart script.
    expect(html.split('</script>')).toHaveLength(4);
    const json = /<script type="application\/json" id="report-charts">(.*?)<\/script>/s.exec(html)?.[1] ?? '';
    expect(JSON.parse(json)[0].series[0].label).toBe(`${evil} · ${evil} p50`);
    expect(scriptJson('</script>')).toBe('"\\u003c/script\\u003e"');
  });

  it('shows only the sections with data: no heartbeat, offload or strategy sections here', () => {
    expect(html).toContain('id="runs"');
    expect(html).toContain('data-chart="visibility-percentiles"');
    expect(html).toContain('data-chart="freshness"');
    for (const absent of ['id="strategies"', 'data-chart="heartbeat"', 'data-chart="latency-offload"'])
      expect(html).not.toContain(absent);
  });

  it('leaves a run whose lag is no duration out of the charts over lag, not out of the table', () => {
    const points = measuredPoints(runRows([{ ...runs[1], lag: '?' } as ReportRun]));
    const ids = reportCharts(points, []).map((c) => c.id);
    expect(ids).toEqual(['freshness']);
  });

  it('is offline: no external URL anywhere in the page', () => {
    expect(html).not.toMatch(/\b(src|href)=["']?https?:/i);
    expect(html).not.toMatch(/@import|url\(\s*['"]?https?:/i);
  });
});
