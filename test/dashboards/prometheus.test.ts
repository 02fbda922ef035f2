/**
 * Every dashboard query against a real Prometheus (the local stack's 2.42, with the remote-write receiver and
 * native histograms): k6 runs are remote-written as k6 v2.2 sends them (test/kit/k6-series.ts), the real
 * exporters and the real API are scraped, and each panel and variable query must answer with data. A
 * two-runner case holds the percentile panels to merging histograms instead of averaging percentiles.
 */
import { uncompress } from 'snappyjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { K6_METRICS, nativeHistogramSeries, remoteWriteSeries } from '../../common/metrics.ts';
import { LOCAL_STACK_STRATEGIES } from '../../common/strategies.ts';
import { setLag, stackDown, stackUp } from '../../stack/index.ts';
import {
  type DashboardJson,
  loadDashboards,
  type PanelQuery,
  panelQueries,
  substitute,
  variableQueries,
} from '../helpers/dashboard-queries.ts';
import { type K6RunSpec, k6Labels, k6RunSeries, pushTimes, trendPercentile } from '../kit/k6-series.ts';
import {
  bucketBounds,
  bucketCounts,
  bucketIndex,
  decodeWriteRequest,
  encodeWriteRequest,
  K6_SCHEMA,
  nativeHistogram,
  remoteWrite,
  type WriteSeries,
  writeBody,
} from '../kit/remote-write.ts';
import { testStackConfig } from '../kit/stack.ts';

const cfg = await testStackConfig({ api: true });
const prom = `http://${cfg.host}:${cfg.ports.prometheus}`;

const base = {
  script: 'sql-read-after-write',
  scenario: 'probe',
  testrunName: 'cqrs-probe',
  runners: 3,
} as const;
/**
 * Two runs of three k6-operator runners (the Prometheus is this file's own, so fixed testids cannot collide): one with
 * native histograms, one with trend-stat gauges only.
 */
const NATIVE: K6RunSpec = {
  ...base,
  testid: 'native-run',
  strategy: 'gtid-wait',
  lag: '5ms',
  trends: 'native',
};
const STATS: K6RunSpec = {
  ...base,
  testid: 'stats-run',
  strategy: 'eventual',
  lag: '50ms',
  trends: 'stats',
};
/** The two-runner merge case: its own testid, so its known distributions are all a query over it sees. */
const MERGE: K6RunSpec = { ...NATIVE, testid: 'merge-run', runners: 2 };
const RUNS = [NATIVE, STATS];

/** k6 pushes every 5 s; a minute of pushes gives rate() over any window from 15 s on at least 3 samples. */
const PUSHES = 13;
const PUSH_STEP_MS = 5_000;
/** Grafana's built-ins: windows that span every push (the queries run within seconds of the last one). */
const BUILTINS = { __rate_interval: '3m', __range: '3m', __interval: '15s' };

/**
 * Panel queries that can only have data during a real run, each with why. Keep it short: a query that is just
 * wrong must fail, not be listed here. Matched by dashboard uid, panel title and refId.
 */
const ONLY_DURING_A_RUN: readonly { dashboard: string; panelTitle: string; refId: string; reason: string }[] =
  [];

/** Grafana's regex formatting of a multi-value selection for Prometheus: escaped values, `(a|b)` if several. */
function regexValue(values: readonly string[]): string {
  const escaped = values.map((v) => v.replace(/[\\^$*+?.()|{}[\]]/g, '\\\\$&'));
  return escaped.length === 1 ? (escaped[0] as string) : `(${escaped.join('|')})`;
}

const uniq = (xs: readonly string[]) => [...new Set(xs)].sort();
const exporterInstances = [cfg.ports.exporterPrimary, cfg.ports.exporterReplica].map(
  (p) => `${cfg.host}:${p}`,
);

/** What each dashboard variable lists, from what was written and scraped; the selection the queries run with. */
const WRITTEN: Readonly<Record<string, readonly string[]>> = {
  testid: RUNS.map((r) => r.testid),
  script: uniq(RUNS.map((r) => r.script)),
  strategy: uniq(RUNS.map((r) => r.strategy)),
  lag: uniq(RUNS.map((r) => r.lag)),
  testrun_name: uniq(RUNS.map((r) => r.testrunName)),
  instance_id: Array.from({ length: base.runners }, (_, i) => String(i)),
  instance: exporterInstances,
};
const SELECTION: Readonly<Record<string, string>> = {
  ...Object.fromEntries(Object.entries(WRITTEN).map(([k, v]) => [k, regexValue(v)])),
  ...BUILTINS,
};

interface PromResult {
  metric: Record<string, string>;
  value?: [number, string];
  histogram?: [number, { count: string; sum: string }];
}
interface PromAnswer<T> {
  status: 'success' | 'error';
  error?: string;
  data?: T;
}

async function promGet<T>(path: string, params: Record<string, string>): Promise<PromAnswer<T>> {
  const res = await fetch(`${prom}${path}?${new URLSearchParams(params)}`);
  return (await res.json()) as PromAnswer<T>;
}

/** An instant query at now: its series, or throws with Prometheus's error (a query that does not parse). */
async function instant(query: string): Promise<PromResult[]> {
  const a = await promGet<{ resultType: string; result: PromResult[] | [number, string] }>('/api/v1/query', {
    query,
  });
  if (a.status !== 'success' || !a.data) throw new Error(`${a.error ?? 'query failed'}: ${query}`);
  const { resultType, result } = a.data;
  // A scalar answer (e.g. `time()`) is one value.
  if (resultType === 'scalar') return [{ metric: {}, value: result as [number, string] }];
  return result as PromResult[];
}

/** Has data: at least one series with a finite value (NaN is 0/0, a ratio of nothing). */
function hasData(result: readonly PromResult[]): boolean {
  return result.some((r) => (r.histogram ? true : Number.isFinite(Number(r.value?.[1]))));
}

/**
 * A fallback like `or vector(0)` answers whatever the rest does, so a wrong metric name would still pass: the
 * query is judged without it.
 */
function withoutFallback(expr: string): string {
  return withoutZeroFallback(expr.replace(/\s+or\s+(?:on\s*\(\s*\)\s*)?vector\(\s*[-\d.]+\s*\)/g, ''));
}

/**
 * `A or 0 * B` answers 0 wherever B has data, so a wrong matcher in A would still pass: A is judged alone. The
 * `0 * B` operand runs to the parenthesis that closes the group it is in, or to the end.
 */
function withoutZeroFallback(expr: string): string {
  const at = /\s+or\s+0\s*\*\s*/.exec(expr);
  if (!at) return expr;
  let depth = 0;
  let end = at.index + at[0].length;
  for (; end < expr.length; end++) {
    const c = expr[end];
    if (c === '(') depth++;
    else if (c === ')' && --depth < 0) break;
  }
  return withoutZeroFallback(expr.slice(0, at.index) + expr.slice(end));
}

async function pollUntil(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The time of the API's latest scrape, in seconds (the `up` sample's timestamp). */
async function lastApiScrape(): Promise<number> {
  const [r] = await instant('timestamp(up{job="cqrs-api"})');
  return Number(r?.value?.[1] ?? 0);
}

/** Waits for a scrape of the API after `sinceS`: what happened before it is then in Prometheus. */
async function apiScrapedAfter(sinceS: number): Promise<void> {
  await pollUntil('a scrape of the API', async () => (await lastApiScrape()) > sinceS, 30_000);
}

/**
 * Real API traffic for every strategy the local stack can run, with replication held back longer than the
 * GTID-wait timeout: so the API's per-strategy series exist, eventual reads go stale, GTID waits time out and
 * fall back to the primary, and the cache is used. Two rounds with a scrape between: a series first appears
 * with its count, so only a second round gives rate() an increase (a histogram quantile over no increase is
 * NaN, which a panel shows as no data).
 */
async function driveApi(apiUrl: string): Promise<void> {
  const runnable = LOCAL_STACK_STRATEGIES;
  await setLag(cfg, '1500ms');
  try {
    for (const round of [1, 2]) {
      for (const strategy of runnable) {
        const headers = { 'x-read-consistency': strategy };
        const compat = await fetch(`${apiUrl}/get`, { headers });
        expect(compat.status, `GET /get as ${strategy}`).toBe(200);
        const created = await fetch(`${apiUrl}/users`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({
            email: `dash-${strategy}-${round}@example.test`,
            name: 'dashboards',
          }),
        });
        expect(created.status, `POST /users as ${strategy}`).toBe(201);
        const { id } = (await created.json()) as { id: number };
        const token = created.headers.get('x-consistency-token');
        const read = await fetch(`${apiUrl}/users/${id}`, {
          headers: token ? { ...headers, 'x-consistency-token': token } : headers,
        });
        await read.text();
      }
      if (round === 1) await apiScrapedAfter(Date.now() / 1000);
    }
  } finally {
    await setLag(cfg, '0');
  }
}

// The merge case: two runners with known, different distributions of visibility_lag (ms, as k6 observes).
const MERGE_PER_PUSH = 200;
/** Evenly spread over [lo, hi] ms: the distribution's quantiles at (i + ½)/n. */
const spread = (lo: number, hi: number) =>
  Array.from({ length: MERGE_PER_PUSH }, (_, i) => lo + ((hi - lo) * (i + 0.5)) / MERGE_PER_PUSH);
/** Runner 0 fast and narrow, runner 1 slower and wide: the union's p50 (28 ms) is far from the mean of p50s (40 ms). */
const MERGE_MS = [spread(10, 30), spread(20, 100)] as const;
const mergeName = nativeHistogramSeries(K6_METRICS.visibilityLag);

function mergeSeries(times: readonly number[]): WriteSeries[] {
  return MERGE_MS.map((perPush, runner) => ({
    labels: k6Labels(MERGE, runner, mergeName, { scenario: MERGE.scenario }),
    histograms: times.map((timestampMs, k) => ({
      histogram: nativeHistogram(Array.from({ length: k + 1 }, () => perPush.map((v) => v / 1000)).flat()),
      timestampMs,
    })),
  }));
}

/** rate() over a window holding every push subtracts the first: the quantile is over the later pushes. */
function mergeExpectedP50(values: readonly number[]): number {
  const later = Array.from({ length: PUSHES - 1 }, () => values).flat();
  return trendPercentile(
    [...later].sort((a, b) => a - b),
    0.5,
  );
}

let dashboards: DashboardJson[] = [];
let written: WriteSeries[] = [];

beforeAll(async () => {
  dashboards = loadDashboards();
  const up = await stackUp(cfg);
  await driveApi(up.endpoints.apiUrl);
  const trafficEnd = Date.now() / 1000;
  const times = pushTimes(Date.now(), PUSHES, PUSH_STEP_MS);
  written = [...RUNS.flatMap((r) => k6RunSeries(r, times)), ...mergeSeries(times)];
  await remoteWrite(up.endpoints.remoteWriteUrl, written);
  // Scraped: the API since its traffic ended, both exporters and the API up, the replica replicating again.
  await apiScrapedAfter(trafficEnd);
  await pollUntil(
    'Prometheus to scrape the exporters and the API',
    async () =>
      (await instant('up{job=~"mysqld|cqrs-api"} == 1')).length === 3 &&
      (await instant('mysql_slave_status_slave_io_running{role="replica"} == 1')).length === 1,
    60_000,
  );
}, 120_000);

afterAll(async () => {
  await stackDown(cfg, { purge: true });
}, 120_000);

describe('remote-write client', () => {
  it('encodes a WriteRequest that decodes to the same series, in a snappy block', () => {
    const h = nativeHistogram([0, 0.012, 0.013, 0.5, 2]);
    const series: WriteSeries[] = [
      {
        labels: { __name__: 'k6_x_total', testid: 't', empty: '' },
        samples: [{ value: 3, timestampMs: 1_700_000_000_123 }],
      },
      {
        labels: { testid: 't', __name__: 'k6_y_seconds' },
        histograms: [{ histogram: h, timestampMs: 1_700_000_000_456 }],
      },
    ];
    const body = encodeWriteRequest(series);
    expect(uncompress(writeBody(series))).toEqual(body);
    expect(decodeWriteRequest(body)).toEqual({
      timeseries: [
        {
          // Sorted by name, no empty value (the remote-write spec).
          labels: [
            { name: '__name__', value: 'k6_x_total' },
            { name: 'testid', value: 't' },
          ],
          samples: [{ value: 3, timestamp: 1_700_000_000_123 }],
        },
        {
          labels: [
            { name: '__name__', value: 'k6_y_seconds' },
            { name: 'testid', value: 't' },
          ],
          histograms: [
            expect.objectContaining({
              count: 'countInt',
              countInt: 5,
              zeroCount: 'zeroCountInt',
              zeroCountInt: 1,
              schema: 3,
              sum: h.sum,
              positiveSpans: h.positiveSpans.map((s) => expect.objectContaining(s)),
              positiveDeltas: h.positiveDeltas,
              timestamp: 1_700_000_000_456,
            }),
          ],
        },
      ],
    });
  });

  it('buckets values as client_golang does at schema 3: (2^((i-1)/8), 2^(i/8)], upper bound inclusive', () => {
    expect(bucketIndex(1, K6_SCHEMA)).toBe(0);
    expect(bucketIndex(1.05, K6_SCHEMA)).toBe(1);
    expect(bucketIndex(0.5, K6_SCHEMA)).toBe(-8);
    expect(bucketIndex(0.015, K6_SCHEMA)).toBe(-48);
    const values = Array.from({ length: 500 }, (_, i) => 0.0001 * 1.037 ** i);
    const h = nativeHistogram(values);
    const counts = bucketCounts(h.positiveSpans, h.positiveDeltas);
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(values.length);
    for (const v of values) {
      const { lower, upper } = bucketBounds(bucketIndex(v, K6_SCHEMA), K6_SCHEMA);
      expect(v > lower && v <= upper * (1 + 1e-12)).toBe(true);
    }
    // Gaps of one or two empty buckets stay inside a span, filled with zero counts; a longer gap starts a new one.
    // 1 → bucket 0, 1.2 → 3, 1.3 → 4 (log2(v)·8 rounded up).
    expect(nativeHistogram([1, 1, 1.2])).toMatchObject({
      positiveSpans: [{ offset: 0, length: 4 }],
      positiveDeltas: [2, -2, 0, 1],
    });
    expect(nativeHistogram([1, 1.3]).positiveSpans).toEqual([
      { offset: 0, length: 1 },
      { offset: 3, length: 1 },
    ]);
  });
});

describe('dashboards against the real local Prometheus', () => {
  it('stores the synthetic k6 series as written: every metric, each runner, histograms and trend stats', async () => {
    const names = async (testid: string) =>
      uniq((await instant(`count by (__name__) ({testid="${testid}"})`)).map((r) => r.metric.__name__ ?? ''));
    const expected = (run: K6RunSpec) =>
      uniq(written.filter((s) => s.labels.testid === run.testid).map((s) => s.labels.__name__ ?? ''));
    for (const run of RUNS) expect(await names(run.testid)).toEqual(expected(run));
    // Native: the histogram's count is what runner 2 observed over all pushes; no stat gauges.
    const lag = await instant(
      `histogram_count(${nativeHistogramSeries(K6_METRICS.visibilityLag)}{testid="${NATIVE.testid}", instance_id="2"})`,
    );
    expect(lag.map((r) => Number(r.value?.[1]))).toEqual([8 * PUSHES]);
    expect(
      await instant(`${remoteWriteSeries(K6_METRICS.visibilityLag, 'p(99)')}{testid="${NATIVE.testid}"}`),
    ).toEqual([]);
    expect(
      (await instant(`${remoteWriteSeries(K6_METRICS.visibilityLag, 'p(99)')}{testid="${STATS.testid}"}`))
        .length,
    ).toBe(STATS.runners);
  });

  it('the dashboards have queries to evaluate, and every variable they use has a value', () => {
    expect(dashboards.length).toBeGreaterThan(0);
    const all = dashboards.flatMap(panelQueries);
    expect(all.length).toBeGreaterThan(10);
    const vars = uniq(dashboards.flatMap((d) => d.templating.list.map((v) => v.name))).filter(
      (n) => n !== 'datasource',
    );
    expect(vars.filter((n) => !(n in SELECTION))).toEqual([]);
  });

  it('every panel query returns data with its variables filled in, except the few listed with a reason', async () => {
    const exempt = (q: PanelQuery) =>
      ONLY_DURING_A_RUN.some(
        (e) => e.dashboard === q.dashboard && e.panelTitle === q.panelTitle && e.refId === q.refId,
      );
    const failures: string[] = [];
    let evaluated = 0;
    for (const q of dashboards.flatMap(panelQueries)) {
      const expr = withoutFallback(substitute(q.expr, SELECTION));
      const where = `${q.dashboard} / "${q.panelTitle}" / ${q.refId}: ${expr}`;
      try {
        const result = await instant(expr);
        evaluated++;
        if (!exempt(q) && !hasData(result)) failures.push(`no data: ${where}`);
      } catch (err) {
        failures.push(`error: ${where}: ${(err as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
    expect(evaluated).toBe(dashboards.flatMap(panelQueries).length);
  });

  it('each exemption names a query that exists and indeed has no data here', async () => {
    for (const e of ONLY_DURING_A_RUN) {
      const d = dashboards.find((x) => x.uid === e.dashboard);
      const q = d && panelQueries(d).find((p) => p.panelTitle === e.panelTitle && p.refId === e.refId);
      expect(q, `${e.dashboard} / ${e.panelTitle} / ${e.refId}`).toBeDefined();
      if (q) expect(hasData(await instant(withoutFallback(substitute(q.expr, SELECTION))))).toBe(false);
    }
  });

  it('every variable query lists the values written or scraped', async () => {
    const checked: string[] = [];
    for (const d of dashboards) {
      for (const v of variableQueries(d)) {
        const m = /^\s*label_values\(\s*(?:(.+)\s*,\s*)?(\w+)\s*\)\s*$/.exec(v.query);
        expect(m, `${d.uid} variable ${v.name}: ${v.query} is not label_values(...)`).not.toBeNull();
        if (!m) continue;
        const [, selector, label] = m;
        const a = await promGet<string[]>(
          `/api/v1/label/${label}/values`,
          selector ? { 'match[]': substitute(selector.trim(), SELECTION) } : {},
        );
        expect(a.status, `${d.uid} variable ${v.name}: ${a.error ?? ''}`).toBe('success');
        expect(a.data, `${d.uid} variable ${v.name}: ${v.query}`).toEqual(
          expect.arrayContaining([...(WRITTEN[v.name] ?? ['(no expected values for this variable)'])]),
        );
        checked.push(v.name);
      }
    }
    expect(uniq(checked)).toEqual(expect.arrayContaining(['testid', 'strategy', 'instance']));
  });

  it('detects a wrong query: with its metric names misspelt, every panel query returns no data', async () => {
    // Every name a query reads gets a typo; any data left would come from something other than its metrics
    // (a constant, a fallback), and the check above would have passed it for nothing.
    const misspelt = (expr: string) => expr.replace(/\b(k6|cqrs_api|mysql)_(?=\w)/g, '$1_typo_');
    const stillData: string[] = [];
    for (const q of dashboards.flatMap(panelQueries)) {
      const expr = misspelt(withoutFallback(substitute(q.expr, SELECTION)));
      expect(expr, `${q.dashboard} / "${q.panelTitle}" names no known metric`).toContain('_typo_');
      if (hasData(await instant(expr)))
        stillData.push(`${q.dashboard} / "${q.panelTitle}" / ${q.refId}: ${expr}`);
    }
    expect(stillData).toEqual([]);
    // A fallback is judged without it: `or vector(0)` alone would answer for a misspelt name.
    expect(withoutFallback('sum(rate(k6_nope_total[1m])) or vector(0)')).toBe('sum(rate(k6_nope_total[1m]))');
    expect(withoutFallback('max(x) or on() vector(1)')).toBe('max(x)');
  });

  it('the stale-read rate panel is the ratio of the summed counters: its value, not only that it has one', async () => {
    const d = dashboards.find((x) => x.uid === 'cqrs-consistency');
    const q = d && panelQueries(d).find((p) => p.panelTitle === 'Stale-read rate');
    expect(q).toBeDefined();
    const result = await instant(substitute(q?.expr ?? '', SELECTION));
    // Every selected run's series have the same push times, so rate()'s extrapolation is the same factor for
    // each and cancels in the ratio: per script and strategy, the sum of the stale counters' increases over
    // the sum of the immediate reads'.
    const increase = (name: string, keep: (l: Readonly<Record<string, string>>) => boolean) =>
      written
        .filter((w) => w.labels.__name__ === name && keep(w.labels))
        .reduce((sum, w) => sum + ((w.samples?.at(-1)?.value ?? 0) - (w.samples?.[0]?.value ?? 0)), 0);
    expect(result.length).toBe(RUNS.length);
    for (const r of result) {
      const same = (l: Readonly<Record<string, string>>) =>
        l.script === r.metric.script &&
        l.strategy === r.metric.strategy &&
        RUNS.some((run) => run.testid === l.testid);
      const expected =
        increase(remoteWriteSeries(K6_METRICS.staleReads), same) /
        increase(remoteWriteSeries(K6_METRICS.probeReads), same);
      expect(expected).toBeGreaterThan(0);
      expect(Number(r.value?.[1]), JSON.stringify(r.metric)).toBeCloseTo(expected, 9);
    }
  });

  it('the p50 panel merges two runners’ histograms: the p50 of the union, not the mean of their p50s', async () => {
    const p50 = dashboards
      .flatMap(panelQueries)
      .find(
        (q) =>
          /histogram_quantile\(\s*0\.5\s*,/.test(q.expr) && new RegExp(`\\b${mergeName}\\b`).test(q.expr),
      );
    expect(p50, `a panel with histogram_quantile(0.5, … ${mergeName} …)`).toBeDefined();
    if (!p50) return;
    const selection = { ...SELECTION, testid: MERGE.testid, instance_id: '(0|1)' };
    const merged = await instant(withoutFallback(substitute(p50.expr, selection)));
    expect(merged).toHaveLength(1);
    const got = Number(merged[0]?.value?.[1]) * 1000;
    const expected = mergeExpectedP50([...MERGE_MS[0], ...MERGE_MS[1]]);
    // Schema 3 buckets are 2^(1/8) ≈ 9% wide: an estimate inside the right bucket is within half of that.
    const halfBucket = (2 ** (1 / 8) - 1) / 2;
    expect(Math.abs(got - expected) / expected).toBeLessThanOrEqual(halfBucket);
    const { lower, upper } = bucketBounds(bucketIndex(expected / 1000, K6_SCHEMA), K6_SCHEMA);
    expect(got / 1000).toBeGreaterThan(lower);
    expect(got / 1000).toBeLessThanOrEqual(upper);
    // Each runner's own p50 from the same data, and the wrong answer: their mean, as dashboard 19665 would show.
    const perRunner = await instant(
      `histogram_quantile(0.5, sum by (instance_id) (rate(${mergeName}{testid="${MERGE.testid}"}[${BUILTINS.__rate_interval}])))`,
    );
    const own = perRunner
      .sort((a, b) => Number(a.metric.instance_id) - Number(b.metric.instance_id))
      .map((r) => Number(r.value?.[1]) * 1000);
    expect(own).toHaveLength(2);
    for (const [i, values] of MERGE_MS.entries()) {
      const want = mergeExpectedP50(values);
      expect(Math.abs((own[i] as number) - want) / want, `runner ${i}'s own p50`).toBeLessThanOrEqual(
        halfBucket,
      );
    }
    const meanOfP50s = ((own[0] as number) + (own[1] as number)) / 2;
    expect(Math.abs(got - meanOfP50s) / meanOfP50s).toBeGreaterThan(0.2);
    console.info(
      `merged p50 ${got.toFixed(2)} ms, expected ${expected.toFixed(2)} ms; runners ${own.map((x) => x.toFixed(2)).join(', ')} ms, mean ${meanOfP50s.toFixed(2)} ms`,
    );
  });
});
