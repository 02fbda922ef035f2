import { describe, expect, it } from 'vitest';
import { K6_METRICS } from '../../common/metrics.ts';
import { describeConfig, loadConfig } from '../../lib/config.ts';
import { consistencyReport } from '../../lib/summary/consistency.ts';
import type { SummaryData } from '../../lib/summary/data.ts';
import { consistencyFigures, ENDPOINT_SUBMETRICS, generatorWarning } from '../../lib/summary/figures.ts';
import { reportFileName, reportFolder, reportsLine, summaryFiles } from '../../lib/summary/index.ts';
import { junitXml } from '../../lib/summary/junit.ts';
import { textSummary } from '../../lib/summary/text.ts';
import {
  resolveThresholds,
  SCENARIO_THRESHOLDS,
  type SqlScenarioName,
  thresholdsFor,
} from '../../lib/thresholds.ts';

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
    const md = consistencyReport(data, { title: 'Consistency report: test' });
    expect(md).toContain('| 200 | 190 | 95.0% | 51.2 ms | 54.0 ms | 58.5 ms | 61.0 ms | 2 |');
    expect(md).toContain('| writer | 400 | 40.0 | 0.80 ms | 0.80 ms | 1.40 ms | 2.10 ms | 9.00 ms | 0 |');
    expect(md).toContain('| visibility_timeouts | count==0 | **FAIL** |');
    // Which lag the table shows, and the client-side one beside it.
    expect(md).toContain("Lag: server-side, the replica's own apply stamp minus the primary's write time");
    expect(md).toContain(
      'client-side (ack received → first read that saw it returned, whole-ms k6 clock): p50 53.0 ms',
    );
    // 3 acknowledgements never reached the ledger: unverified, not missing.
    expect(md).toContain('| 203 | 200 | 3 | 0 | 0 |');
    const bounded = consistencyReport(
      {
        ...data,
        metrics: {
          ...data.metrics,
          [M.visibilityLagUpperBound.name]: { type: 'counter', values: { count: 198 } },
        },
      },
      { title: 't' },
    );
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
    const text = textSummary(saturated, 'sql-read-after-write summary', ['test id: x'], { workloadMs }).split(
      '\n',
    );
    expect(text.slice(0, 3)).toEqual(['sql-read-after-write summary', `  ${WARNING}`, '  test id: x']);
    expect(text.filter((l) => l.includes('⚠'))).toHaveLength(1);

    const md = consistencyReport(saturated, {
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
      expect(textSummary(d, 's')).not.toContain('⚠');
      expect(consistencyReport(d, { title: 't' })).not.toContain('⚠');
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
    const text = textSummary(keptUp, 's', ['test id: x']).split('\n');
    expect(text).toContain('  load generator: 16000 iterations started, 0 dropped (100.0% of schedule)');
    expect(textSummary(saturated, 's')).toContain(
      'load generator: 14482 iterations started, 17518 dropped (45.3% of schedule)',
    );
    const md = consistencyReport(keptUp, { title: 't' });
    expect(md).toContain('## Load generator');
    expect(md).toContain('| 16000 | 0 | 1600.0/s | 1600.0/s | 12 of 40 |');
    // No iteration counts at all (an old summary): zeros and n/a, still a row.
    expect(consistencyReport(data, { title: 't' })).toContain('| 0 | 0 | 0.0/s | 0.0/s | n/a |');
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
    const md = consistencyReport(outage, { title: 't' });
    expect(md).toContain(
      '| probes | stale reads | stale rate | lag p50 | lag p95 | lag p99 | lag max | timeouts | read errors |',
    );
    expect(md).toContain('| 201 | 30 | 19.9% |');
    expect(md).toMatch(/\| 2 \| 50 \|\n/);
    expect(md).toContain('stale reads over the 151 immediate reads that answered.');
    expect(md).toContain('50 probes had a read fail after their write was acknowledged (`probe_errors`)');
    expect(consistencyReport(data, { title: 't' })).toContain('No probe had a read fail (`probe_errors` 0).');
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
    });
    expect((files.stdout ?? '').trimEnd().split('\n').at(-1)).toBe(
      reportsLine('reports/x', ['summary.txt', 'summary.json', 'junit.xml', 'consistency.md']),
    );
  });
});

describe('per-endpoint errors', () => {
  const SQL_SCENARIO_NAMES = Object.keys(SCENARIO_THRESHOLDS) as SqlScenarioName[];

  /** The metric keys `fn` reads from a summary, recorded through a proxy over `metrics`. */
  function keysRead(fn: (d: SummaryData) => unknown): Set<string> {
    const read = new Set<string>();
    const metrics = new Proxy({} as SummaryData['metrics'], {
      get: (_t, key) => {
        if (typeof key === 'string') read.add(key);
        return undefined;
      },
    });
    fn({ metrics, state: {} });
    return read;
  }

  it('every tagged submetric the figures and the Endpoints table read is kept by every SQL scenario', () => {
    const read = new Set([
      ...keysRead(consistencyFigures),
      ...keysRead((d) => consistencyReport(d, { title: 't' })),
    ]);
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
      const kept = Object.keys(thresholdsFor(scenario, {}));
      for (const key of tagged) expect(kept, `${scenario} keeps ${key}`).toContain(key);
    }
    expect(thresholdsFor('sql-mixed', {})['db_errors{endpoint:writer}']).toEqual(['count>=0']);
    expect(thresholdsFor('sql-mixed', {})['db_query_duration{endpoint:reader}']).toEqual(['max>=0']);
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
    const md = consistencyReport(failing, { title: 't' });
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
