import { describe, expect, it } from 'vitest';
import { K6_METRICS } from '../../common/metrics.ts';
import { describeConfig, loadConfig } from '../../lib/config.ts';
import { consistencyReport } from '../../lib/summary/consistency.ts';
import type { SummaryData } from '../../lib/summary/data.ts';
import { consistencyFigures } from '../../lib/summary/figures.ts';
import { reportFileName, reportFolder, summaryFiles } from '../../lib/summary/index.ts';
import { junitXml } from '../../lib/summary/junit.ts';
import { resolveThresholds, thresholdsFor } from '../../lib/thresholds.ts';

const M = K6_METRICS;
const trendValues = (p50: number, p95: number, p99: number, max: number, n: number) => ({
  avg: p50,
  min: 0,
  med: p50,
  max,
  'p(90)': p95,
  'p(95)': p95,
  'p(99)': p99,
  count: n,
});

/** Summary data shaped like k6's handleSummary argument for a read-after-write run. */
const data: SummaryData = {
  state: { testRunDurationMs: 10_000 },
  setup_data: { runId: 'exp-1', runner: '0' },
  metrics: {
    [M.rawWrites.name]: { type: 'counter', values: { count: 200, rate: 20 } },
    [M.rawReads.name]: { type: 'counter', values: { count: 200, rate: 20 } },
    [M.staleReads.name]: { type: 'counter', values: { count: 190, rate: 19 } },
    [M.visibilityLag.name]: { type: 'trend', contains: 'time', values: trendValues(51.2, 54, 58.5, 61, 198) },
    [M.visibilityTimeouts.name]: {
      type: 'counter',
      values: { count: 2, rate: 0.2 },
      thresholds: { 'count==0': { ok: false } },
    },
    [M.reconcileChecked.name]: { type: 'counter', values: { count: 200, rate: 20 } },
    [M.reconcileMissingReader.name]: {
      type: 'counter',
      values: { count: 0, rate: 0 },
      thresholds: { 'count==0': { ok: true } },
    },
    [`${M.dbQueryDuration.name}{endpoint:writer}`]: {
      type: 'trend',
      contains: 'time',
      values: trendValues(0.8, 1.4, 2.1, 9, 400),
      thresholds: { 'max>=0': { ok: true } },
    },
    [`${M.dbQueries.name}{endpoint:writer}`]: { type: 'counter', values: { count: 400, rate: 40 } },
    [M.secondsBehind.name]: { type: 'gauge', values: { value: 0, min: 0, max: 1 } },
  },
};

describe('consistency figures and reports', () => {
  it('computes the stale rate from counters and reads trends and submetrics', () => {
    const f = consistencyFigures(data);
    expect(f.staleRate).toBe(0.95);
    expect(f.visibilityLag).toMatchObject({ p50: 51.2, p95: 54, p99: 58.5, max: 61, count: 198 });
    expect(f.visibilityTimeouts).toBe(2);
    expect(f.writer).toMatchObject({ statements: 400, perSecond: 40, errors: 0 });
    expect(f.writer.latency?.p95).toBe(1.4);
    expect(f.reader.latency).toBeNull();
    expect(f.secondsBehindMax).toBe(1);
    expect(f.reconcile).toEqual({ checked: 200, missingWriter: 0, missingReader: 0 });
  });

  it('writes a Markdown report with every section', () => {
    const md = consistencyReport(data, { title: 'Consistency report: test' });
    expect(md).toContain('| 200 | 190 | 95.0% | 51.2 ms | 54.0 ms | 58.5 ms | 61.0 ms | 2 |');
    expect(md).toContain('| writer | 400 | 40.0 | 0.80 ms | 1.40 ms | 2.10 ms | 9.00 ms | 0 |');
    expect(md).toContain('| visibility_timeouts | count==0 | **FAIL** |');
    for (const h of [
      'Read after write',
      'Replica lag',
      'Session guarantees',
      'Reconciliation',
      'Endpoints',
    ]) {
      expect(md).toContain(`## ${h}`);
    }
  });

  it('renders one JUnit test case per threshold, failures marked', () => {
    const xml = junitXml(data, 'k6 sql-read-after-write');
    expect(xml).toContain('<testsuites tests="3" failures="1">');
    expect(xml).toContain('time="10.000"');
    expect(xml).toContain(
      '<testcase classname="k6 sql-read-after-write" name="visibility_timeouts: count==0">',
    );
    expect(xml).toContain('<failure message="threshold count==0 on visibility_timeouts failed"/>');
    expect(xml).toContain('name="db_query_duration{endpoint:writer}: max&gt;=0"/>');
  });

  it('lays the files out under reports/<test id>/, per runner when there are several', () => {
    const files = summaryFiles(data, {
      scenario: 'sql-read-after-write',
      testId: 'exp-1',
      runner: '0',
      reportDir: 'reports',
      title: 't',
      configLines: describeConfig(loadConfig({})),
    });
    expect(Object.keys(files).sort()).toEqual([
      'reports/exp-1/consistency.md',
      'reports/exp-1/junit.xml',
      'reports/exp-1/summary.json',
      'reports/exp-1/summary.txt',
      'stdout',
    ]);
    expect(JSON.parse(files['reports/exp-1/summary.json'] as string)).toEqual(data);
    expect(Object.values(files).join('\n')).not.toMatch(/-secret/);
    expect(files.stdout).toContain('✗ visibility_timeouts: count==0');
    // One folder for every runner (k6 does not create folders): the runner goes into the file names.
    expect(reportFolder({ reportDir: 'reports', testId: 'x' })).toBe('reports/x');
  });

  it('puts a k6-operator runner other than 0 into the file names, in the same folder', () => {
    const files = summaryFiles(data, {
      scenario: 'sql-read-after-write',
      testId: 'exp-1',
      runner: '2',
      reportDir: 'reports',
      title: 't',
    });
    expect(Object.keys(files).sort()).toEqual([
      'reports/exp-1/consistency.runner-2.md',
      'reports/exp-1/junit.runner-2.xml',
      'reports/exp-1/summary.runner-2.json',
      'reports/exp-1/summary.runner-2.txt',
      'stdout',
    ]);
    expect(files.stdout).toContain('reports: reports/exp-1/*.runner-2.*');
    expect(reportFileName('summary.json', '0')).toBe('summary.json');
    expect(reportFileName('summary.json', 'a.b')).toBe('summary.runner-a.b.json');
  });
});

describe('thresholds', () => {
  it('every scenario gates on errors and reconciliation by default', () => {
    const t = thresholdsFor('sql-read-after-write', {});
    expect(t).toMatchObject({
      db_errors: ['count==0'],
      reconcile_missing_writer: ['count==0'],
      reconcile_missing_reader: ['count==0'],
      visibility_timeouts: ['count==0'],
    });
    expect(thresholdsFor('sql-write-load', {})['db_query_duration{endpoint:writer}']).toEqual(['p(95)<50']);
  });

  it('lets CQRS_THRESHOLDS replace or drop a default', () => {
    const t = resolveThresholds({ a: ['x'], b: ['y'] }, { a: ['z'], b: [], c: ['w'] });
    expect(t).toEqual({ a: ['z'], c: ['w'] });
    const fromEnv = loadConfig({ CQRS_THRESHOLDS: '{"visibility_timeouts":[]}' }).thresholds;
    expect(thresholdsFor('sql-read-after-write', fromEnv)).not.toHaveProperty('visibility_timeouts');
  });

  it('names only metrics that exist in the registry', () => {
    const known = new Set(Object.values(K6_METRICS).map((m) => m.name));
    for (const scenario of [
      'sql-read-after-write',
      'sql-replica-lag',
      'sql-write-load',
      'sql-read-load',
      'sql-mixed',
    ] as const) {
      for (const key of Object.keys(thresholdsFor(scenario, {})))
        expect(known, key).toContain(key.split('{')[0]);
    }
  });
});
