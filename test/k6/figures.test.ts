/**
 * The numbers in every report, pinned on a fixture where every counter, rate, gauge and trend stat has its own
 * value: a figure that reads the wrong metric, the wrong stat or the wrong denominator shows as a wrong number.
 * The empty run (a summary with no metrics) pins the other side: null figures, shown as n/a, never NaN.
 */
import { describe, expect, it } from 'vitest';
import { K6_METRICS } from '../../common/metrics.ts';
import type { SummaryData, SummaryMetric } from '../../lib/summary/data.ts';
import {
  type ConsistencyFigures,
  consistencyFigures,
  ENDPOINT_SUBMETRICS,
  endpointFigures,
  endpointSubmetricList,
  generatorFigures,
  generatorWarning,
  needsOf,
} from '../../lib/summary/figures.ts';
import {
  ENDPOINTS_SECTION,
  FRESHNESS_NOTE,
  isSubmetric,
  KEEP_EXPRESSION,
  keepThresholds,
  LOAD_GENERATOR,
  READ_AFTER_WRITE,
  RECONCILIATION,
  REPLICA_LAG,
  type ReportContext,
  type ReportSection,
  reportPlan,
  SESSION_GUARANTEES,
  STALE_READS,
  sectionsFor,
} from '../../lib/summary/sections.ts';

const M = K6_METRICS;

const counter = (count: number, rate: number): SummaryMetric => ({
  type: 'counter',
  values: { count, rate },
});
const gauge = (value: number, min: number, max: number): SummaryMetric => ({
  type: 'gauge',
  values: { value, min, max },
});
/** A trend whose every stat differs from the others (and from every other trend's). */
const trendOf = (s: {
  avg: number;
  med: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  count: number;
}): SummaryMetric => ({
  type: 'trend',
  contains: 'time',
  values: {
    avg: s.avg,
    min: 0.01,
    med: s.med,
    max: s.max,
    'p(90)': s.p90,
    'p(95)': s.p95,
    'p(99)': s.p99,
    count: s.count,
  },
});

const W = ENDPOINT_SUBMETRICS.writer;
const R = ENDPOINT_SUBMETRICS.reader;

/** A 12.5 s run where no two figures are equal. */
const distinct: SummaryData = {
  state: { testRunDurationMs: 12_500 },
  metrics: {
    [M.probeWrites.name]: counter(211, 16.88),
    [M.probeReads.name]: counter(173, 13.84),
    [M.staleReads.name]: counter(37, 2.96),
    [M.probeErrors.name]: counter(13, 1.04),
    [M.visibilityLag.name]: trendOf({
      avg: 41.5,
      med: 38.2,
      p90: 66.6,
      p95: 72.4,
      p99: 88.6,
      max: 1234,
      count: 160,
    }),
    [M.visibilityLagClient.name]: trendOf({
      avg: 45.1,
      med: 44.4,
      p90: 70.7,
      p95: 77.7,
      p99: 93.3,
      max: 130.1,
      count: 155,
    }),
    [M.visibilityLagUpperBound.name]: counter(7, 0.56),
    [M.visibilityTimeouts.name]: counter(5, 0.4),
    [M.heartbeatLag.name]: trendOf({
      avg: 12.1,
      med: 9.87,
      p90: 19.9,
      p95: 23.4,
      p99: 31.9,
      max: 55.5,
      count: 321,
    }),
    [M.secondsBehind.name]: gauge(2, 0, 4),
    [M.rywViolations.name]: counter(3, 0.24),
    [M.monotonicViolations.name]: counter(11, 0.88),
    [M.ackedWrites.name]: counter(419, 33.52),
    [M.ledgerFlushed.name]: counter(401, 32.08),
    [M.reconcileChecked.name]: counter(397, 31.76),
    [M.reconcileMissingWriter.name]: counter(2, 0.16),
    [M.reconcileMissingReader.name]: counter(9, 0.72),
    // The untagged metrics hold every endpoint and op (the ledger's too): never what a per-endpoint cell shows.
    [M.dbQueries.name]: counter(2500, 200),
    [M.dbErrors.name]: counter(17, 1.36),
    [M.dbQueryDuration.name]: trendOf({
      avg: 99.9,
      med: 98.8,
      p90: 97.7,
      p95: 96.6,
      p99: 95.5,
      max: 999,
      count: 2500,
    }),
    [W.statements]: counter(1201, 96.08),
    [W.errors]: counter(6, 0.48),
    [W.latency]: trendOf({ avg: 1.37, med: 1.11, p90: 2.89, p95: 3.33, p99: 5.55, max: 12.3, count: 1201 }),
    [R.statements]: counter(887, 70.96),
    [R.errors]: counter(8, 0.64),
    [R.latency]: trendOf({ avg: 0.91, med: 0.77, p90: 1.98, p95: 2.22, p99: 4.44, max: 8.88, count: 887 }),
    iterations: counter(1543, 123.44),
    dropped_iterations: counter(29, 2.32),
    vus: gauge(0, 0, 23),
    vus_max: gauge(30, 30, 32),
  },
};

/** A summary with nothing in it: a run that did nothing, or a path it never took. */
const empty: SummaryData = { metrics: {} };

const CTX: ReportContext = { strategies: [] };
/** The scheduled workload was 10 s of the 12.5 s run. */
const WORKLOAD: ReportContext = { strategies: [], workloadMs: 10_000 };

/** A section's Markdown as lines. */
const lines = (s: ReportSection, d: SummaryData, ctx: ReportContext = CTX) => s.markdown(d, ctx).split('\n');

const DISTINCT_FIGURES: ConsistencyFigures = {
  probes: 211,
  reads: 173,
  staleReads: 37,
  staleRate: 37 / 173,
  probeErrors: 13,
  visibilityLag: { count: 160, avg: 41.5, p50: 38.2, p95: 72.4, p99: 88.6, max: 1234 },
  visibilityLagClient: { count: 155, avg: 45.1, p50: 44.4, p95: 77.7, p99: 93.3, max: 130.1 },
  visibilityUpperBounds: 7,
  visibilityTimeouts: 5,
  // 160 lags and 5 timeouts: every share scaled by 160/165, so 99% is never reached within the timeout.
  freshness: {
    probes: 165,
    timeouts: 5,
    // k6 interpolates between ranks: at p(q) ⌊q × 159⌋ + 1 of the 160 lags are certainly at or below.
    points: [
      { lagMs: 0.01, freshShare: 1 / 165 },
      { lagMs: 38.2, freshShare: 80 / 165 },
      { lagMs: 66.6, freshShare: 144 / 165 },
      { lagMs: 72.4, freshShare: 152 / 165 },
      { lagMs: 88.6, freshShare: 158 / 165 },
      { lagMs: 1234, freshShare: 160 / 165 },
    ],
    t99Ms: null,
    t999Ms: null,
  },
  heartbeatLag: { count: 321, avg: 12.1, p50: 9.87, p95: 23.4, p99: 31.9, max: 55.5 },
  secondsBehindMax: 4,
  rywViolations: 3,
  monotonicViolations: 11,
  reconcile: { acknowledged: 419, inLedger: 401, checked: 397, missingWriter: 2, missingReader: 9 },
  writer: {
    statements: 1201,
    perSecond: 96.08,
    errors: 6,
    latency: { count: 1201, avg: 1.37, p50: 1.11, p95: 3.33, p99: 5.55, max: 12.3 },
  },
  reader: {
    statements: 887,
    perSecond: 70.96,
    errors: 8,
    latency: { count: 887, avg: 0.91, p50: 0.77, p95: 2.22, p99: 4.44, max: 8.88 },
  },
  errors: 17,
  generator: {
    iterations: 1543,
    dropped: 29,
    startedShare: 1543 / 1572,
    achievedPerSecond: 123.44,
    scheduledPerSecond: 1572 / 12.5,
    rateBasis: 'run',
    rateBasisMs: 12_500,
    peakVus: 23,
    maxVus: 32,
    limited: true,
  },
};

const NO_ENDPOINT = { statements: 0, perSecond: 0, errors: 0, latency: null };

const EMPTY_FIGURES: ConsistencyFigures = {
  probes: 0,
  reads: 0,
  staleReads: 0,
  staleRate: null,
  probeErrors: 0,
  visibilityLag: null,
  visibilityLagClient: null,
  visibilityUpperBounds: 0,
  visibilityTimeouts: 0,
  freshness: null,
  heartbeatLag: null,
  secondsBehindMax: null,
  rywViolations: 0,
  monotonicViolations: 0,
  reconcile: { acknowledged: 0, inLedger: 0, checked: 0, missingWriter: 0, missingReader: 0 },
  writer: NO_ENDPOINT,
  reader: NO_ENDPOINT,
  errors: 0,
  generator: {
    iterations: 0,
    dropped: 0,
    startedShare: null,
    achievedPerSecond: null,
    scheduledPerSecond: null,
    rateBasis: null,
    rateBasisMs: null,
    peakVus: null,
    maxVus: null,
    limited: false,
  },
};

/** `distinct` with some metrics replaced or removed (undefined). */
function withMetrics(changes: Readonly<Record<string, SummaryMetric | undefined>>): SummaryData {
  const metrics: Record<string, SummaryMetric> = { ...distinct.metrics };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete metrics[k];
    else metrics[k] = v;
  }
  return { ...distinct, metrics };
}

describe('consistency figures, every counter its own value', () => {
  it('reads each figure from its own metric and stat', () => {
    expect(consistencyFigures(distinct)).toEqual(DISTINCT_FIGURES);
  });

  it('the stale rate is stale reads over the reads that answered, not over the probes', () => {
    const f = consistencyFigures(distinct);
    expect(f.staleRate).toBe(37 / 173);
    expect(f.staleRate).not.toBe(37 / 211);
  });

  it('a run with no metrics: zero counts, null rates and trends, nothing NaN', () => {
    expect(consistencyFigures(empty)).toEqual(EMPTY_FIGURES);
    expect(consistencyFigures(empty, { workloadMs: 10_000 })).toEqual({
      ...EMPTY_FIGURES,
      generator: {
        ...EMPTY_FIGURES.generator,
        achievedPerSecond: 0,
        scheduledPerSecond: 0,
        rateBasis: 'workload',
        rateBasisMs: 10_000,
      },
    });
  });

  it('probes with no answered read: a stale rate of null, not NaN or Infinity', () => {
    for (const stale of [0, 4]) {
      const d = withMetrics({ [M.probeReads.name]: counter(0, 0), [M.staleReads.name]: counter(stale, 0) });
      expect(consistencyFigures(d).staleRate).toBeNull();
    }
  });

  it('over the workload when its length is known: per-endpoint and generator rates', () => {
    const f = consistencyFigures(distinct, { workloadMs: 10_000 });
    expect(f.writer.perSecond).toBe(120.1);
    expect(f.reader.perSecond).toBe(88.7);
    expect(f.generator).toEqual({
      ...DISTINCT_FIGURES.generator,
      achievedPerSecond: 154.3,
      scheduledPerSecond: 157.2,
      rateBasis: 'workload',
      rateBasisMs: 10_000,
    });
    expect(endpointFigures(distinct, 'reader', { workloadMs: 10_000 })).toEqual({
      ...DISTINCT_FIGURES.reader,
      perSecond: 88.7,
    });
  });

  it('a workload length that is not a positive finite number falls back to the run (and k6 rates)', () => {
    for (const workloadMs of [0, -5000, Number.NaN, Number.POSITIVE_INFINITY]) {
      const f = consistencyFigures(distinct, { workloadMs });
      expect(f.writer.perSecond, String(workloadMs)).toBe(96.08);
      expect(f.generator, String(workloadMs)).toEqual(DISTINCT_FIGURES.generator);
    }
    // Nor a run length: no rates at all.
    for (const testRunDurationMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const g = generatorFigures({ ...distinct, state: { testRunDurationMs } });
      expect(g, String(testRunDurationMs)).toMatchObject({
        achievedPerSecond: null,
        scheduledPerSecond: null,
        rateBasis: null,
        rateBasisMs: null,
      });
    }
    expect(generatorFigures({ ...distinct, state: {} }).rateBasis).toBeNull();
  });

  it('nothing dropped: not limited, everything started', () => {
    const g = generatorFigures(withMetrics({ dropped_iterations: undefined }));
    expect(g).toMatchObject({ dropped: 0, startedShare: 1, limited: false });
    expect(generatorWarning(g)).toBeNull();
  });

  it('a gauge without max reads its value; a gauge-named metric of another type reads as absent', () => {
    const g = generatorFigures(
      withMetrics({
        vus: { type: 'gauge', values: { value: 19 } },
        vus_max: counter(32, 1),
      }),
    );
    expect(g).toMatchObject({ peakVus: 19, maxVus: null });
    expect(
      consistencyFigures(withMetrics({ [M.secondsBehind.name]: counter(4, 1) })).secondsBehindMax,
    ).toBeNull();
  });
});

describe('the generator warning', () => {
  it('over the whole run, with the VUs busy at peak', () => {
    expect(generatorWarning(DISTINCT_FIGURES.generator)).toBe(
      '⚠ load generator was the limit: 29 iterations dropped (23 of 32 VUs busy at peak); achieved 123.4/s of ' +
        '125.8/s scheduled (98.2%, rates over the whole 12.5 s run incl. setup and teardown) — client-side ' +
        "latencies include the generator's own queueing (server-side lags do not)",
    );
  });

  it('over the workload: no "whole run" remark', () => {
    expect(generatorWarning(generatorFigures(distinct, { workloadMs: 10_000 }))).toBe(
      '⚠ load generator was the limit: 29 iterations dropped (23 of 32 VUs busy at peak); achieved 154.3/s of ' +
        "157.2/s scheduled (98.2%) — client-side latencies include the generator's own queueing (server-side " +
        'lags do not)',
    );
  });

  it('leaves the VUs out when either gauge is missing', () => {
    for (const gone of ['vus', 'vus_max']) {
      const w = generatorWarning(
        generatorFigures(withMetrics({ [gone]: undefined }), { workloadMs: 10_000 }),
      );
      expect(w, gone).toBe(
        '⚠ load generator was the limit: 29 iterations dropped; achieved 154.3/s of 157.2/s scheduled (98.2%) — ' +
          "client-side latencies include the generator's own queueing (server-side lags do not)",
      );
    }
  });
});

describe('what the sections and the Endpoints table read', () => {
  it('each endpoint reads its own tagged submetrics', () => {
    expect(ENDPOINT_SUBMETRICS).toEqual({
      writer: {
        statements: 'db_queries{endpoint:writer}',
        errors: 'db_errors{endpoint:writer}',
        latency: 'db_query_duration{endpoint:writer}',
      },
      reader: {
        statements: 'db_queries{endpoint:reader}',
        errors: 'db_errors{endpoint:reader}',
        latency: 'db_query_duration{endpoint:reader}',
      },
    });
    expect(endpointSubmetricList()).toEqual([
      { key: 'db_queries{endpoint:writer}', kind: 'counter' },
      { key: 'db_errors{endpoint:writer}', kind: 'counter' },
      { key: 'db_query_duration{endpoint:writer}', kind: 'trend' },
      { key: 'db_queries{endpoint:reader}', kind: 'counter' },
      { key: 'db_errors{endpoint:reader}', kind: 'counter' },
      { key: 'db_query_duration{endpoint:reader}', kind: 'trend' },
    ]);
  });

  it('each section declares exactly the metrics it reads, with their kinds', () => {
    const needs = (s: ReportSection) => s.needs(CTX).map((n) => `${n.key}:${n.kind}`);
    expect(needs(READ_AFTER_WRITE)).toEqual([
      'probe_writes:counter',
      'probe_reads:counter',
      'stale_reads:counter',
      'probe_errors:counter',
      'visibility_lag:trend',
      'visibility_lag_client:trend',
      'visibility_lag_upper_bound:counter',
      'visibility_timeouts:counter',
    ]);
    expect(needs(STALE_READS)).toEqual([
      'probe_writes:counter',
      'probe_reads:counter',
      'stale_reads:counter',
    ]);
    expect(needs(REPLICA_LAG)).toEqual(['heartbeat_lag:trend', 'replica_seconds_behind:gauge']);
    expect(needs(SESSION_GUARANTEES)).toEqual(['ryw_violations:counter', 'monotonic_violations:counter']);
    expect(needs(RECONCILIATION)).toEqual([
      'acked_writes:counter',
      'ledger_flushed:counter',
      'reconcile_checked:counter',
      'reconcile_missing_writer:counter',
      'reconcile_missing_reader:counter',
    ]);
    expect(needs(ENDPOINTS_SECTION)).toEqual(endpointSubmetricList().map((n) => `${n.key}:${n.kind}`));
    expect(needs(LOAD_GENERATOR)).toEqual([
      'iterations:counter',
      'dropped_iterations:counter',
      'vus:gauge',
      'vus_max:gauge',
    ]);
    expect(needsOf({ a: { name: 'x', kind: 'rate' } })).toEqual([{ key: 'x', kind: 'rate' }]);
  });
});

describe('each section renders its own figures', () => {
  const blank = (n: number) => Array.from({ length: n }, () => '---').join(' | ');

  it('Read after write: probes, stale rate over answered reads, server lags, timeouts, read errors', () => {
    expect(lines(READ_AFTER_WRITE, distinct)).toEqual([
      '## Read after write',
      '| probes | stale reads | stale rate | lag p50 | lag p95 | lag p99 | lag max | 99% fresh after | 99.9% fresh after | timeouts | read errors |',
      `| ${blank(11)} |`,
      '| 211 | 37 | 21.4% | 38.2 ms | 72.4 ms | 88.6 ms | 1.23 s | > timeout | > timeout | 5 | 13 |',
      '',
      'Probes: acknowledged probe writes. Stale rate: stale reads over the 173 immediate reads that answered. ' +
        '13 probes had a read fail after their write was acknowledged (`probe_errors`): neither stale nor fresh ' +
        'when the immediate read failed, so left out of the stale rate; neither seen nor timed out when a poll ' +
        'failed.',
      '',
      FRESHNESS_NOTE,
      '',
      'Lag: server-side, 7 of 160 lags are upper bounds (no apply stamp on the replica: its time at the read ' +
        'that saw the row); client-side (ack received → first read that saw it returned, whole-ms k6 clock): ' +
        'p50 44.4 ms, p95 77.7 ms.',
    ]);
  });

  it('Read after write, empty run: n/a, no read errors, the apply-stamp basis and no client-side figure', () => {
    expect(lines(READ_AFTER_WRITE, empty)).toEqual([
      '## Read after write',
      '| probes | stale reads | stale rate | lag p50 | lag p95 | lag p99 | lag max | 99% fresh after | 99.9% fresh after | timeouts | read errors |',
      `| ${blank(11)} |`,
      '| 0 | 0 | n/a | n/a | n/a | n/a | n/a | n/a | n/a | 0 | 0 |',
      '',
      'Probes: acknowledged probe writes. Stale rate: stale reads over the 0 immediate reads that answered. ' +
        'No probe had a read fail (`probe_errors` 0).',
      '',
      FRESHNESS_NOTE,
      '',
      "Lag: server-side, the replica's own apply stamp minus the primary's write time, microsecond resolution.",
    ]);
  });

  it('Read after write: every lag on the apply stamp, and a client-side trend with no samples left out', () => {
    const d = withMetrics({
      [M.visibilityLagUpperBound.name]: undefined,
      [M.visibilityLagClient.name]: trendOf({ avg: 0, med: 0, p90: 0, p95: 0, p99: 0, max: 0, count: 0 }),
    });
    expect(lines(READ_AFTER_WRITE, d).at(-1)).toBe(
      "Lag: server-side, the replica's own apply stamp minus the primary's write time, microsecond resolution.",
    );
    const noClient = withMetrics({ [M.visibilityLagClient.name]: undefined });
    expect(lines(READ_AFTER_WRITE, noClient).at(-1)).toBe(
      'Lag: server-side, 7 of 160 lags are upper bounds (no apply stamp on the replica: its time at the read ' +
        'that saw the row).',
    );
  });

  it('Stale reads: writes, reads, stale reads and their rate', () => {
    const tail =
      'Writes: acknowledged writes. Stale rate: reads that missed a write over the reads that answered; a miss ' +
      'is not polled again, so this workload measures no visibility lag.';
    expect(lines(STALE_READS, distinct)).toEqual([
      '## Stale reads',
      '| writes | reads | stale reads | stale rate |',
      `| ${blank(4)} |`,
      '| 211 | 173 | 37 | 21.4% |',
      '',
      tail,
    ]);
    expect(lines(STALE_READS, empty)).toEqual([
      '## Stale reads',
      '| writes | reads | stale reads | stale rate |',
      `| ${blank(4)} |`,
      '| 0 | 0 | 0 | n/a |',
      '',
      tail,
    ]);
    const unanswered = withMetrics({ [M.probeReads.name]: counter(0, 0) });
    expect(lines(STALE_READS, unanswered)[3]).toBe('| 211 | 0 | 37 | n/a |');
  });

  it('Replica lag: heartbeat samples and percentiles, Seconds_Behind max', () => {
    const tail =
      'Heartbeat lag: the apply lag of the newest beat on the replica (its own apply stamp), or the age of the ' +
      'oldest beat it lacks when that is more; samples from before this run are left out.';
    const head = ['## Replica lag (heartbeat)', '| samples | p50 | p95 | p99 | max | Seconds_Behind max |'];
    expect(lines(REPLICA_LAG, distinct)).toEqual([
      ...head,
      `| ${blank(6)} |`,
      '| 321 | 9.87 ms | 23.4 ms | 31.9 ms | 55.5 ms | 4 s |',
      '',
      tail,
    ]);
    expect(lines(REPLICA_LAG, empty)).toEqual([
      ...head,
      `| ${blank(6)} |`,
      '| n/a | n/a | n/a | n/a | n/a | n/a |',
      '',
      tail,
    ]);
    // 0 s behind is a figure, not a missing one.
    expect(lines(REPLICA_LAG, withMetrics({ [M.secondsBehind.name]: gauge(0, 0, 0) }))[3]).toBe(
      '| 321 | 9.87 ms | 23.4 ms | 31.9 ms | 55.5 ms | 0 s |',
    );
  });

  it('Session guarantees: read-your-writes, then monotonic reads', () => {
    const head = ['## Session guarantees', '| read-your-writes violations | monotonic-read violations |'];
    expect(lines(SESSION_GUARANTEES, distinct)).toEqual([...head, `| ${blank(2)} |`, '| 3 | 11 |']);
    expect(lines(SESSION_GUARANTEES, empty)).toEqual([...head, `| ${blank(2)} |`, '| 0 | 0 |']);
  });

  it('Reconciliation: acknowledged, checked, unverified (never negative), missing on each side', () => {
    const tail =
      "Unverified: acknowledgements still in a VU's ledger buffer when the run ended (an interrupted run); they " +
      'were not checked, so they are never counted missing.';
    const head = [
      '## Reconciliation',
      '| acknowledged writes | checked | unverified | missing on writer | missing on reader |',
    ];
    expect(lines(RECONCILIATION, distinct)).toEqual([
      ...head,
      `| ${blank(5)} |`,
      '| 419 | 397 | 22 | 2 | 9 |',
      '',
      tail,
    ]);
    expect(lines(RECONCILIATION, empty)).toEqual([
      ...head,
      `| ${blank(5)} |`,
      '| 0 | 0 | 0 | 0 | 0 |',
      '',
      tail,
    ]);
    const overChecked = withMetrics({ [M.reconcileChecked.name]: counter(425, 34) });
    expect(lines(RECONCILIATION, overChecked)[3]).toBe('| 419 | 425 | 0 | 2 | 9 |');
  });

  it('Endpoints: one row per endpoint from its own submetrics, over the run or the workload', () => {
    const tail =
      "Statement latencies are client-side on k6's clock, which has whole milliseconds: the avg is unbiased " +
      '(a statement of 0.3 ms reads 1 ms three times in ten), the percentiles are ±1 ms.';
    const head = [
      '## Endpoints',
      '| endpoint | statements | per second | avg | p50 | p95 | p99 | max | errors |',
      `| ${blank(9)} |`,
    ];
    expect(lines(ENDPOINTS_SECTION, distinct)).toEqual([
      ...head,
      '| writer | 1201 | 96.1 | 1.37 ms | 1.11 ms | 3.33 ms | 5.55 ms | 12.3 ms | 6 |',
      '| reader | 887 | 71.0 | 0.91 ms | 0.77 ms | 2.22 ms | 4.44 ms | 8.88 ms | 8 |',
      '',
      tail,
    ]);
    expect(lines(ENDPOINTS_SECTION, distinct, WORKLOAD).slice(3, 5)).toEqual([
      '| writer | 1201 | 120.1 | 1.37 ms | 1.11 ms | 3.33 ms | 5.55 ms | 12.3 ms | 6 |',
      '| reader | 887 | 88.7 | 0.91 ms | 0.77 ms | 2.22 ms | 4.44 ms | 8.88 ms | 8 |',
    ]);
    expect(lines(ENDPOINTS_SECTION, empty)).toEqual([
      ...head,
      '| writer | 0 | 0.0 | n/a | n/a | n/a | n/a | n/a | 0 |',
      '| reader | 0 | 0.0 | n/a | n/a | n/a | n/a | n/a | 0 |',
      '',
      tail,
    ]);
  });

  it('Load generator: started, dropped, achieved and scheduled rates, peak VUs of allocated', () => {
    const tail =
      'Dropped: iterations k6 could not start on time (no free VU within CQRS_VUS); above 0 the client-side ' +
      "latencies include its own queueing. Rates are over the workload's schedule (or the whole run when " +
      'that is unknown), helper scenarios included.';
    const head = ['## Load generator', '| iterations started | dropped | achieved | scheduled | peak VUs |'];
    expect(lines(LOAD_GENERATOR, distinct)).toEqual([
      ...head,
      `| ${blank(5)} |`,
      '| 1543 | 29 | 123.4/s | 125.8/s | 23 of 32 |',
      '',
      tail,
    ]);
    expect(lines(LOAD_GENERATOR, distinct, WORKLOAD)[3]).toBe('| 1543 | 29 | 154.3/s | 157.2/s | 23 of 32 |');
    expect(lines(LOAD_GENERATOR, empty)).toEqual([
      ...head,
      `| ${blank(5)} |`,
      '| 0 | 0 | n/a | n/a | n/a |',
      '',
      tail,
    ]);
    for (const gone of ['vus', 'vus_max'])
      expect(lines(LOAD_GENERATOR, withMetrics({ [gone]: undefined }))[3], gone).toBe(
        '| 1543 | 29 | 123.4/s | 125.8/s | n/a |',
      );
  });
});

describe('which sections a scenario shows, and what k6 must keep for them', () => {
  const titles = (s: readonly ReportSection[]) => s.map((x) => x.title);
  const family: ReportSection = {
    title: 'Family',
    path: 'api',
    needs: () => [],
    markdown: () => '## Family',
  };

  it('only the sections on its paths, in report order, the family ones before the load generator', () => {
    expect(titles(sectionsFor([]))).toEqual(['Load generator']);
    expect(titles(sectionsFor(['sql', 'probe']))).toEqual([
      'Read after write',
      'Endpoints',
      'Load generator',
    ]);
    expect(titles(sectionsFor(['api', 'ledger', 'stale'], [family]))).toEqual([
      'Stale reads',
      'Reconciliation',
      'Family',
      'Load generator',
    ]);
    expect(titles(sectionsFor(['probe', 'stale', 'heartbeat', 'session', 'ledger', 'sql']))).toEqual([
      'Read after write',
      'Stale reads',
      'Replica lag (heartbeat)',
      'Session guarantees',
      'Reconciliation',
      'Endpoints',
      'Load generator',
    ]);
  });

  it('one keep-only threshold per submetric need, by kind; plain metrics need none', () => {
    expect(KEEP_EXPRESSION).toEqual({
      counter: 'count>=0',
      trend: 'max>=0',
      gauge: 'value>=0',
      rate: 'rate>=0',
    });
    const needy: ReportSection = {
      title: 'Needy',
      needs: () => [
        { key: 'a{t:1}', kind: 'counter' },
        { key: 'b{t:1}', kind: 'trend' },
        { key: 'c{t:1}', kind: 'gauge' },
        { key: 'd{t:1}', kind: 'rate' },
        { key: 'plain', kind: 'counter' },
      ],
      markdown: () => '',
    };
    expect(keepThresholds([needy], CTX)).toEqual({
      'a{t:1}': ['count>=0'],
      'b{t:1}': ['max>=0'],
      'c{t:1}': ['value>=0'],
      'd{t:1}': ['rate>=0'],
    });
    expect(keepThresholds(sectionsFor(['probe', 'ledger']), CTX)).toEqual({});
    expect(isSubmetric('db_errors{endpoint:writer}')).toBe(true);
    expect(isSubmetric('db_errors')).toBe(false);
  });

  it('k6 gets the verdicts as given and a keep for every other submetric read; the plan lists only the verdicts', () => {
    const verdicts = {
      db_errors: ['count==0'],
      'db_errors{endpoint:writer}': ['count<5', 'count<9'],
      'db_query_duration{endpoint:reader}': [],
    };
    const plan = reportPlan(sectionsFor(['sql']), ['eventual'], verdicts);
    expect(plan.verdicts).toBe(verdicts);
    expect(plan.strategies).toEqual(['eventual']);
    expect(titles(plan.sections)).toEqual(['Endpoints', 'Load generator']);
    expect(plan.thresholds).toEqual({
      'db_queries{endpoint:writer}': ['count>=0'],
      'db_errors{endpoint:writer}': ['count<5', 'count<9'],
      'db_query_duration{endpoint:writer}': ['max>=0'],
      'db_queries{endpoint:reader}': ['count>=0'],
      'db_errors{endpoint:reader}': ['count>=0'],
      'db_query_duration{endpoint:reader}': ['max>=0'],
      db_errors: ['count==0'],
    });
    // A copy: k6's options cannot change the user's verdicts.
    expect(plan.thresholds['db_errors{endpoint:writer}']).not.toBe(verdicts['db_errors{endpoint:writer}']);
  });
});
