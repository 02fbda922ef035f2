import { describe, expect, it } from 'vitest';
import { K6_METRICS } from '../../common/metrics.ts';
import { apiReportPlan } from '../../lib/api/thresholds.ts';
import { describeConfig, loadConfig } from '../../lib/config.ts';
import { type ConsistencyReportOptions, consistencyReport } from '../../lib/summary/consistency.ts';
import type { SummaryData, SummaryMetric } from '../../lib/summary/data.ts';
import { consistencyFigures, ENDPOINT_SUBMETRICS, generatorWarning } from '../../lib/summary/figures.ts';
import { reportFileName, reportFolder, reportsLine, summaryFiles } from '../../lib/summary/index.ts';
import { junitXml } from '../../lib/summary/junit.ts';
import { type ReportPlan, type ReportSection, reportPlan, sectionsFor } from '../../lib/summary/sections.ts';
import { textSummary } from '../../lib/summary/text.ts';
import {
  resolveThresholds,
  SCENARIO_THRESHOLDS,
  type SqlScenarioName,
  sqlReportPlan,
  thresholdsFor,
} from '../../lib/thresholds.ts';
import { junitCaseNames, summaryKeysRead, verdictNames } from '../helpers/bundles.ts';

const M = K6_METRICS;

/** sql-mixed uses every path a SQL scenario has: its report has every SQL section. */
const MIXED = sqlReportPlan('sql-mixed', {});
const report = (d: SummaryData, opts: Partial<ConsistencyReportOptions> = {}) =>
  consistencyReport(d, { title: 't', sections: MIXED.sections, verdicts: MIXED.verdicts, ...opts });
const NO_VERDICTS = { verdicts: {} };
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
    [M.probeWrites.name]: { type: 'counter', values: { count: 200, rate: 20 } },
    [M.probeReads.name]: { type: 'counter', values: { count: 200, rate: 20 } },
    [M.staleReads.name]: { type: 'counter', values: { count: 190, rate: 19 } },
    [M.visibilityLag.name]: { type: 'trend', contains: 'time', values: trendValues(51.2, 54, 58.5, 61, 198) },
    [M.visibilityTimeouts.name]: {
      type: 'counter',
      values: { count: 2, rate: 0.2 },
      thresholds: { 'count==0': { ok: false } },
    },
    [M.visibilityLagClient.name]: {
      type: 'trend',
      contains: 'time',
      values: trendValues(53, 57, 60, 64, 198),
    },
    [M.ackedWrites.name]: { type: 'counter', values: { count: 203, rate: 20.3 } },
    [M.ledgerFlushed.name]: { type: 'counter', values: { count: 200, rate: 20 } },
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
    expect(f.reconcile).toEqual({
      acknowledged: 203,
      inLedger: 200,
      checked: 200,
      missingWriter: 0,
      missingReader: 0,
    });
    expect(f.visibilityLagClient?.p50).toBe(53);
    expect(f.visibilityUpperBounds).toBe(0);
  });

  it('writes a Markdown report with every section', () => {
    const md = report(data, { title: 'Consistency report: test' });
    // 198 of 200 probes visible: 99% of them fresh after the max, 99.9% never within the timeout.
    expect(md).toContain(
      '| 200 | 190 | 95.0% | 51.2 ms | 54.0 ms | 58.5 ms | 61.0 ms | 61.0 ms | > timeout | 2 |',
    );
    expect(md).toContain('| writer | 400 | 40.0 | 0.80 ms | 0.80 ms | 1.40 ms | 2.10 ms | 9.00 ms | 0 |');
    expect(md).toContain('| visibility_timeouts | count==0 | **FAIL** |');
    // Which lag the table shows, and the client-side one beside it.
    expect(md).toContain("Lag: server-side, the replica's own apply stamp minus the primary's write time");
    expect(md).toContain(
      'client-side (ack received → first read that saw it returned, whole-ms k6 clock): p50 53.0 ms',
    );
    // 3 acknowledgements never reached the ledger: unverified, not missing.
    expect(md).toContain('| 203 | 200 | 3 | 0 | 0 |');
    const bounded = report({
      ...data,
      metrics: {
        ...data.metrics,
        [M.visibilityLagUpperBound.name]: { type: 'counter', values: { count: 198 } },
      },
    });
    expect(bounded).toContain('198 of 198 lags are upper bounds');
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

  it('renders one JUnit test case per verdict, failures marked, keep-only thresholds left out', () => {
    const verdicts = { visibility_timeouts: ['count==0'], reconcile_missing_reader: ['count==0'] };
    const xml = junitXml(data, 'k6 sql-read-after-write', verdicts);
    expect(xml).toContain('<testsuites tests="2" failures="1">');
    expect(xml).toContain('time="10.000"');
    expect(xml).toContain(
      '<testcase classname="k6 sql-read-after-write" name="visibility_timeouts: count==0">',
    );
    expect(xml).toContain('<failure message="threshold count==0 on visibility_timeouts failed"/>');
    expect(xml).toContain('name="reconcile_missing_reader: count==0"/>');
    // In the summary data (k6 evaluated it), but only there to keep the submetric.
    expect(xml).not.toContain('db_query_duration');
  });

  it('lays the files out under reports/<test id>/, per runner when there are several', () => {
    const files = summaryFiles(data, {
      scenario: 'sql-read-after-write',
      testId: 'exp-1',
      runner: '0',
      reportDir: 'reports',
      title: 't',
      configLines: describeConfig(loadConfig({})),
      sections: MIXED.sections,
      verdicts: MIXED.verdicts,
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
      sections: MIXED.sections,
      verdicts: MIXED.verdicts,
    });
    expect(Object.keys(files).sort()).toEqual([
      'reports/exp-1/consistency.runner-2.md',
      'reports/exp-1/junit.runner-2.xml',
      'reports/exp-1/summary.runner-2.json',
      'reports/exp-1/summary.runner-2.txt',
      'stdout',
    ]);
    expect(files.stdout).toContain(
      'reports: summary.runner-2.txt, summary.runner-2.json, junit.runner-2.xml, consistency.runner-2.md go to reports/exp-1/ if that folder exists',
    );
    expect(reportFileName('summary.json', '0')).toBe('summary.json');
    expect(reportFileName('summary.json', 'a.b')).toBe('summary.runner-a.b.json');
  });
});

/**
 * k6's built-in counters as a saturated arrival-rate run leaves them (sql-read-after-write at 1600/s on
 * 2 cores): `dropped_iterations` exists only because some were dropped.
 */
const saturated: SummaryData = {
  ...data,
  state: { testRunDurationMs: 20_000 },
  metrics: {
    ...data.metrics,
    iterations: { type: 'counter', contains: 'default', values: { count: 14_482, rate: 724.1 } },
    dropped_iterations: { type: 'counter', contains: 'default', values: { count: 17_518, rate: 875.9 } },
    vus: { type: 'gauge', contains: 'default', values: { value: 0, min: 0, max: 40 } },
    vus_max: { type: 'gauge', contains: 'default', values: { value: 40, min: 40, max: 40 } },
  },
};
/** The same run with enough VUs: no dropped_iterations metric at all. */
const keptUp: SummaryData = {
  ...data,
  metrics: {
    ...data.metrics,
    iterations: { type: 'counter', contains: 'default', values: { count: 16_000, rate: 1600 } },
    vus: { type: 'gauge', contains: 'default', values: { value: 0, min: 0, max: 12 } },
    vus_max: { type: 'gauge', contains: 'default', values: { value: 40, min: 40, max: 40 } },
  },
};
const WARNING =
  "⚠ load generator was the limit: 17518 iterations dropped (40 of 40 VUs busy at peak); achieved 724.1/s of 1600.0/s scheduled (45.3%) — client-side latencies include the generator's own queueing (server-side lags do not)";
/** The scheduled workload's length (profileDurationMs) when the caller knows it. */
const workloadMs = 20_000;

describe('the load generator as the limit', () => {
  it('computes achieved and scheduled rates from iterations + dropped_iterations', () => {
    expect(consistencyFigures(saturated, { workloadMs }).generator).toEqual({
      iterations: 14_482,
      dropped: 17_518,
      startedShare: 14_482 / 32_000,
      achievedPerSecond: 724.1,
      scheduledPerSecond: 1600,
      rateBasis: 'workload',
      rateBasisMs: 20_000,
      peakVus: 40,
      maxVus: 40,
      limited: true,
    });
    expect(consistencyFigures(keptUp).generator).toMatchObject({
      dropped: 0,
      achievedPerSecond: 1600,
      scheduledPerSecond: 1600,
      rateBasis: 'run',
      limited: false,
    });
  });

  it('says so in one line at the top of the text summary and of consistency.md', () => {
    const text = textSummary(saturated, 'sql-read-after-write summary', ['test id: x'], {
      workloadMs,
      ...NO_VERDICTS,
    }).split('\n');
    expect(text.slice(0, 3)).toEqual(['sql-read-after-write summary', `  ${WARNING}`, '  test id: x']);
    expect(text.filter((l) => l.includes('⚠'))).toHaveLength(1);

    const md = report(saturated, {
      title: 'Consistency report: t',
      configLines: ['rate=1600'],
      workloadMs,
    });
    expect(md.split('\n').slice(0, 4)).toEqual(['# Consistency report: t', '', `**${WARNING}**`, '']);
    expect(md.match(/⚠/g)).toHaveLength(1);
    const files = summaryFiles(saturated, {
      scenario: 'sql-read-after-write',
      testId: 'x',
      runner: '0',
      reportDir: 'reports',
      title: 't',
      workloadMs,
      sections: MIXED.sections,
      verdicts: MIXED.verdicts,
    });
    expect(files.stdout).toContain(WARNING);
    expect(files['reports/x/consistency.md']).toContain(WARNING);
  });

  it('without the workload length, averages over the whole run and says so', () => {
    const slow = { ...saturated, state: { testRunDurationMs: 25_000 } };
    expect(generatorWarning(consistencyFigures(slow).generator)).toContain(
      'achieved 579.3/s of 1280.0/s scheduled (45.3%, rates over the whole 25.0 s run incl. setup and teardown) — ',
    );
  });

  it('prints nothing when nothing was dropped, or when the summary has no iteration counts', () => {
    for (const d of [keptUp, data]) {
      expect(textSummary(d, 's', [], NO_VERDICTS)).not.toContain('⚠');
      expect(report(d)).not.toContain('⚠');
    }
    expect(consistencyFigures(data).generator).toMatchObject({ iterations: 0, dropped: 0, limited: false });
  });

  it('still gives the counts when the summary has no run duration or VU gauges', () => {
    const { vus: _v, vus_max: _m, ...metrics } = saturated.metrics;
    const g = consistencyFigures({ metrics }).generator;
    expect(g).toMatchObject({
      achievedPerSecond: null,
      scheduledPerSecond: null,
      rateBasis: null,
      peakVus: null,
      limited: true,
    });
    expect(generatorWarning(g)).toBe(
      "⚠ load generator was the limit: 17518 iterations dropped; 14482 of 32000 scheduled iterations started (45.3%) — client-side latencies include the generator's own queueing (server-side lags do not)",
    );
  });
});

describe('figures shown even when 0: dropped iterations, read errors', () => {
  it('the text summary and consistency.md give the dropped count when nothing was dropped', () => {
    const text = textSummary(keptUp, 's', ['test id: x'], NO_VERDICTS).split('\n');
    expect(text).toContain('  load generator: 16000 iterations started, 0 dropped (100.0% of schedule)');
    expect(textSummary(saturated, 's', [], NO_VERDICTS)).toContain(
      'load generator: 14482 iterations started, 17518 dropped (45.3% of schedule)',
    );
    const md = report(keptUp);
    expect(md).toContain('## Load generator');
    expect(md).toContain('| 16000 | 0 | 1600.0/s | 1600.0/s | 12 of 40 |');
    // No iteration counts at all (an old summary): zeros and n/a, still a row.
    expect(report(data)).toContain('| 0 | 0 | 0.0/s | 0.0/s | n/a |');
  });

  it('counts error-probes in the probes, not in the stale rate, and says how', () => {
    const outage: SummaryData = {
      ...data,
      metrics: {
        ...data.metrics,
        // 201 acknowledged probe writes; 50 immediate reads failed (replica killed), 151 answered.
        [M.probeWrites.name]: { type: 'counter', values: { count: 201 } },
        [M.probeReads.name]: { type: 'counter', values: { count: 151 } },
        [M.staleReads.name]: { type: 'counter', values: { count: 30 } },
        [M.probeErrors.name]: { type: 'counter', values: { count: 50 } },
      },
    };
    const f = consistencyFigures(outage);
    expect(f).toMatchObject({ probes: 201, reads: 151, probeErrors: 50 });
    expect(f.staleRate).toBeCloseTo(30 / 151, 12);
    const md = report(outage);
    expect(md).toContain(
      '| probes | stale reads | stale rate | lag p50 | lag p95 | lag p99 | lag max | 99% fresh after | 99.9% fresh after | timeouts | read errors |',
    );
    expect(md).toContain('| 201 | 30 | 19.9% |');
    expect(md).toMatch(/\| 2 \| 50 \|\n/);
    expect(md).toContain('stale reads over the 151 immediate reads that answered.');
    expect(md).toContain('50 probes had a read fail after their write was acknowledged (`probe_errors`)');
    expect(report(data)).toContain('No probe had a read fail (`probe_errors` 0).');
  });

  it('names the report files and the condition on which k6 writes them', () => {
    expect(reportsLine('reports/x', ['a.md'])).toBe(
      'reports: a.md go to reports/x/ if that folder exists (k6 does not create it; it names any file it could not write)',
    );
    const files = summaryFiles(data, {
      scenario: 's',
      testId: 'x',
      runner: '0',
      reportDir: 'reports',
      title: 't',
      ...NO_VERDICTS,
      sections: MIXED.sections,
    });
    expect((files.stdout ?? '').trimEnd().split('\n').at(-1)).toBe(
      reportsLine('reports/x', ['summary.txt', 'summary.json', 'junit.xml', 'consistency.md']),
    );
  });
});

describe('per-endpoint errors', () => {
  const SQL_SCENARIO_NAMES = Object.keys(SCENARIO_THRESHOLDS) as SqlScenarioName[];

  it('every tagged submetric the figures and the Endpoints table read is kept by every SQL scenario', () => {
    const read = new Set([...summaryKeysRead(consistencyFigures), ...summaryKeysRead((d) => report(d))]);
    const tagged = [...read].filter((k) => k.includes('{'));
    // The proxy saw the Endpoints table's reads (so this test would see a new one).
    expect(tagged).toEqual(
      expect.arrayContaining([
        ENDPOINT_SUBMETRICS.writer.errors,
        ENDPOINT_SUBMETRICS.reader.errors,
        'db_errors{endpoint:writer}',
        'db_queries{endpoint:reader}',
        'db_query_duration{endpoint:writer}',
      ]),
    );
    for (const scenario of SQL_SCENARIO_NAMES) {
      const kept = Object.keys(sqlReportPlan(scenario, {}).thresholds);
      for (const key of tagged) expect(kept, `${scenario} keeps ${key}`).toContain(key);
    }
    expect(MIXED.thresholds['db_errors{endpoint:writer}']).toEqual(['count>=0']);
    expect(MIXED.thresholds['db_query_duration{endpoint:reader}']).toEqual(['max>=0']);
  });

  it('shows a writer error count from db_errors{endpoint:writer} in the Endpoints table', () => {
    const failing: SummaryData = {
      ...data,
      metrics: {
        ...data.metrics,
        [M.dbErrors.name]: {
          type: 'counter',
          values: { count: 3, rate: 0.3 },
          thresholds: { 'count==0': { ok: false } },
        },
        'db_errors{endpoint:writer}': {
          type: 'counter',
          values: { count: 3, rate: 0.3 },
          thresholds: { 'count>=0': { ok: true } },
        },
      },
    };
    expect(consistencyFigures(failing)).toMatchObject({
      errors: 3,
      writer: { errors: 3 },
      reader: { errors: 0 },
    });
    const md = report(failing);
    expect(md).toContain('| writer | 400 | 40.0 | 0.80 ms | 0.80 ms | 1.40 ms | 2.10 ms | 9.00 ms | 3 |');
    expect(md).toContain('| reader | 0 | 0.0 | n/a | n/a | n/a | n/a | n/a | 0 |');
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

const STRATEGIES = ['eventual', 'primary', 'gtid-wait', 'sticky', 'cache'];

/** Every plan a scenario can have with default thresholds (the API ones comparing STRATEGIES). */
const PLANS: Readonly<Record<string, ReportPlan>> = {
  ...Object.fromEntries(
    (Object.keys(SCENARIO_THRESHOLDS) as SqlScenarioName[]).map((s) => [s, sqlReportPlan(s, {})]),
  ),
  'api-read-after-write': apiReportPlan('api-read-after-write', STRATEGIES, {}),
  'api-mixed': apiReportPlan('api-mixed', ['eventual'], {}),
  'api-seed-compat': apiReportPlan('api-seed-compat', ['eventual'], {}),
};

/**
 * Summary data as k6 hands it to handleSummary for `plan`: every threshold k6 was given (verdicts and keeps)
 * evaluated, ok unless named in `failing` (`metric: expression`).
 */
function evaluated(plan: ReportPlan, failing: readonly string[] = []): SummaryData {
  const metrics: Record<string, SummaryMetric> = {};
  for (const [key, exprs] of Object.entries(plan.thresholds)) {
    const thresholds = Object.fromEntries(exprs.map((e) => [e, { ok: !failing.includes(`${key}: ${e}`) }]));
    metrics[key] = { type: 'counter', values: { count: 0, rate: 0 }, thresholds };
  }
  return { metrics, state: { testRunDurationMs: 5000 }, setup_data: { runId: 'v1', runner: '0' } };
}

function files(scenario: string, plan: ReportPlan, d: SummaryData = evaluated(plan)) {
  return summaryFiles(d, { ...plan, scenario, testId: 'v1', runner: '0', reportDir: 'reports', title: 't' });
}

/** The thresholds the text summary lists, as `metric: expression`. */
const textThresholds = (text: string) =>
  text
    .split('\n')
    .flatMap((l) => l.match(/^ {4}[✓✗?] (.*?)( \(not evaluated\))?$/)?.[1] ?? [])
    .sort();

/** The rows of consistency.md's Thresholds table, as `metric: expression`. */
function mdThresholds(md: string): string[] {
  const table = md.split('## Thresholds\n')[1]?.split('\n\n')[0] ?? '';
  return table
    .split('\n')
    .slice(2)
    .filter((row) => row.startsWith('|'))
    .map((row) => row.split(' | ').slice(0, 2).join(': ').replace(/^\| /, ''))
    .sort();
}

describe('reports list the verdicts, never the keep-only thresholds', () => {
  it('api-read-after-write: junit.xml, stdout and consistency.md list exactly the defaults plus CQRS_THRESHOLDS', () => {
    const overrides = loadConfig({
      CQRS_THRESHOLDS:
        '{"stale_read_ratio":["rate<0.5"],"api_reads{strategy:cache,source:replica}":["count>=0"],"visibility_timeouts":[]}',
    }).thresholds;
    const plan = apiReportPlan('api-read-after-write', STRATEGIES, overrides);
    const expected = [
      'api_errors: count==0',
      // Equal to the expression that keeps this submetric, but the user wrote it: a verdict.
      'api_reads{strategy:cache,source:replica}: count>=0',
      'iteration_errors: count==0',
      'reconcile_errors: count==0',
      'reconcile_missing_reader: count==0',
      'reconcile_missing_writer: count==0',
      'stale_read_ratio: rate<0.5',
    ];
    expect(verdictNames(plan.verdicts)).toEqual(expected);
    // k6 gets 9 more per strategy: the submetrics the strategy comparison reads (one is a verdict here).
    expect(Object.keys(plan.thresholds)).toHaveLength(7 + 5 * 9 - 1);
    const out = files('api-read-after-write', plan, evaluated(plan, ['stale_read_ratio: rate<0.5']));
    const junit = out['reports/v1/junit.xml'] ?? '';
    expect(junitCaseNames(junit)).toEqual(expected);
    expect(junit).toContain('<testsuites tests="7" failures="1">');
    expect(textThresholds(out.stdout ?? '')).toEqual(expected);
    expect(out.stdout).toContain('1 threshold(s) failed');
    expect(mdThresholds(out['reports/v1/consistency.md'] ?? '')).toEqual(expected);
    // summary.json stays k6's raw data, the keep-only expressions included.
    const raw = JSON.parse(out['reports/v1/summary.json'] ?? '{}') as SummaryData;
    expect(raw.metrics['api_reads{strategy:eventual,source:replica}']?.thresholds).toHaveProperty('count>=0');
  });

  it('every scenario: one test case per default threshold, none for what its sections keep', () => {
    for (const [scenario, plan] of Object.entries(PLANS)) {
      const out = files(scenario, plan);
      const expected = verdictNames(plan.verdicts);
      expect(junitCaseNames(out['reports/v1/junit.xml'] ?? ''), scenario).toEqual(expected);
      expect(textThresholds(out.stdout ?? ''), scenario).toEqual(expected);
      for (const keep of ['count>=0', 'max>=0'])
        expect(
          expected.filter((n) => n.endsWith(`: ${keep}`)),
          scenario,
        ).toEqual([]);
    }
    expect(verdictNames(PLANS['sql-write-load']?.verdicts ?? {})).toEqual([
      'db_errors: count==0',
      'db_query_duration{endpoint:writer}: p(95)<50',
      'iteration_errors: count==0',
      'reconcile_errors: count==0',
      'reconcile_missing_reader: count==0',
      'reconcile_missing_writer: count==0',
    ]);
  });

  it('a verdict on a kept submetric replaces its keep expression; a dropped default there is kept, not listed', () => {
    const plan = sqlReportPlan(
      'sql-write-load',
      loadConfig({
        CQRS_THRESHOLDS: '{"db_errors{endpoint:writer}":["count<5"],"db_query_duration{endpoint:writer}":[]}',
      }).thresholds,
    );
    expect(plan.thresholds['db_errors{endpoint:writer}']).toEqual(['count<5']);
    expect(plan.thresholds['db_query_duration{endpoint:writer}']).toEqual(['max>=0']);
    expect(plan.thresholds['db_errors{endpoint:reader}']).toEqual(['count>=0']);
    const names = junitCaseNames(files('sql-write-load', plan)['reports/v1/junit.xml'] ?? '');
    expect(names).toContain('db_errors{endpoint:writer}: count<5');
    expect(names.filter((n) => n.includes('{'))).toEqual(['db_errors{endpoint:writer}: count<5']);
  });

  it('lists a verdict the summary holds no result for as not evaluated (k6 run --no-thresholds)', () => {
    const verdicts = { visibility_timeouts: ['count==0'] };
    const xml = junitXml({ metrics: {} }, 's', verdicts);
    expect(xml).toContain('tests="1" failures="0" skipped="1"');
    expect(xml).toContain('<skipped message="threshold count==0 on visibility_timeouts was not evaluated');
    const text = textSummary({ metrics: {} }, 's', [], { verdicts });
    expect(text).toContain(
      '    ? visibility_timeouts: count==0 (not evaluated)\n  no threshold failed; 1 not evaluated',
    );
    expect(report({ metrics: {} }, { verdicts })).toContain(
      '| visibility_timeouts | count==0 | not evaluated |',
    );
  });
});

const headings = (md: string) => md.split('\n').flatMap((l) => l.match(/^## (.*)$/)?.[1] ?? []);

describe('each scenario shows only the sections on its paths', () => {
  it('no Endpoints table for the API, no strategy comparison for SQL, no table for a path not taken', () => {
    const tail = ['Load generator', 'Thresholds'];
    const expected: Record<string, string[]> = {
      'sql-read-after-write': ['Read after write', 'Session guarantees', 'Reconciliation', 'Endpoints'],
      'sql-replica-lag': ['Replica lag (heartbeat)', 'Session guarantees', 'Reconciliation', 'Endpoints'],
      'sql-write-load': ['Reconciliation', 'Endpoints'],
      'sql-read-load': ['Session guarantees', 'Reconciliation', 'Endpoints'],
      'sql-mixed': [
        'Read after write',
        'Replica lag (heartbeat)',
        'Session guarantees',
        'Reconciliation',
        'Endpoints',
      ],
      'api-read-after-write': [
        'Read after write',
        'Session guarantees',
        'Reconciliation',
        'Strategy comparison',
      ],
      'api-mixed': ['Stale reads', 'Session guarantees', 'Reconciliation', 'Strategy comparison'],
      'api-seed-compat': ['Stale reads', 'Strategy comparison'],
    };
    expect(Object.keys(PLANS).sort()).toEqual(Object.keys(expected).sort());
    for (const [scenario, plan] of Object.entries(PLANS)) {
      const md = files(scenario, plan)['reports/v1/consistency.md'] ?? '';
      expect(headings(md), scenario).toEqual([...(expected[scenario] ?? []), ...tail]);
    }
  });

  it('every section reads only the (sub)metrics it declares', () => {
    const sections = new Set(Object.values(PLANS).flatMap((p) => p.sections));
    const ctx = { strategies: ['eventual', 'cache'] };
    expect([...sections].map((s) => s.title)).toHaveLength(8);
    for (const section of sections) {
      const declared = section.needs(ctx).map((n) => n.key);
      const read = [...summaryKeysRead((d) => section.markdown(d, ctx))];
      expect(read.length, section.title).toBeGreaterThan(0);
      expect(declared, section.title).toEqual(expect.arrayContaining(read));
    }
  });

  /** Submetrics a plan's report reads that its thresholds do not name: k6 would leave them out of the summary. */
  const unkept = (plan: ReportPlan) =>
    [...summaryKeysRead((d) => consistencyReport(d, { ...plan, title: 't' }))].filter(
      (k) => k.includes('{') && !(k in plan.thresholds),
    );

  it('for every scenario, every submetric its report reads is in its thresholds', () => {
    for (const [scenario, plan] of Object.entries(PLANS)) expect(unkept(plan), scenario).toEqual([]);
    // Whatever the user drops: CQRS_THRESHOLDS removes verdicts, never what a section keeps.
    const dropAll = Object.fromEntries(Object.keys(PLANS['sql-mixed']?.thresholds ?? {}).map((k) => [k, []]));
    expect(unkept(sqlReportPlan('sql-mixed', dropAll))).toEqual([]);
    expect(Object.keys(sqlReportPlan('sql-mixed', dropAll).verdicts)).toEqual([]);
    // A section that reads a submetric it does not declare is caught.
    const rogue: ReportSection = {
      title: 'Rogue',
      needs: () => [],
      markdown: (d) => String(d.metrics['db_errors{op:ledger}']?.values.count ?? 0),
    };
    expect(unkept(reportPlan(sectionsFor(['sql'], [rogue]), [], {}))).toEqual(['db_errors{op:ledger}']);
  });
});
