/**
 * The report's charts as data: title, axes with units, and one list of (x, y) points per legend entry. The
 * page's script (client.js) hands each to uPlot as a faceted chart (each series has its own x values, so
 * strategies measured at different lags or offloads share a chart). A chart without a single point is left
 * out: each section of the report exists only when its data does. Pure.
 */
import { ms } from '../../lib/summary/format.ts';
import { heartbeatRuns, type MeasuredPoint, type ReportRun } from './model.ts';

export interface Axis {
  readonly label: string;
  /** `ms`, `%`, or `time` (unix seconds shown as clock time). */
  readonly unit: 'ms' | '%' | 'time';
  /** Logarithmic (for Δt, whose interesting part spans decades). */
  readonly log?: boolean;
  /** A fixed range; otherwise fitted to the data. */
  readonly range?: readonly [number, number];
}

export interface ChartSeries {
  readonly label: string;
  /** Index into the page's palette: the same series keeps its colour in every chart. */
  readonly colour: number;
  /** Dash pattern in px; [] solid. */
  readonly dash: readonly number[];
  /** Ascending by x for lines. */
  readonly points: readonly (readonly [number, number])[];
}

export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  /** `line`: points joined in x order, with markers; `scatter`: markers only. */
  readonly kind: 'line' | 'scatter';
  readonly x: Axis;
  readonly y: Axis;
  readonly series: readonly ChartSeries[];
  /** Said under the chart: what it shows and what it leaves out. */
  readonly note: string;
}

const PERCENTILE_DASH: Record<'p50' | 'p95' | 'p99', number[]> = { p50: [], p95: [8, 4], p99: [2, 3] };
const LAG_DASHES: readonly number[][] = [[], [8, 4], [2, 3], [12, 3, 2, 3], [4, 4]];

/** Legend entries in first-seen order, each with its palette index. */
function seriesColours(points: readonly MeasuredPoint[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of points) if (!out.has(p.series)) out.set(p.series, out.size);
  return out;
}

const finite = (v: number | null | undefined): v is number =>
  v !== null && v !== undefined && Number.isFinite(v);

/** Points of one series as (x, y) pairs with both finite, ascending by x. */
function pairs<T>(items: readonly T[], x: (t: T) => number | null, y: (t: T) => number | null) {
  return items
    .map((t) => [x(t), y(t)] as const)
    .filter((p): p is readonly [number, number] => finite(p[0]) && finite(p[1]))
    .sort((a, b) => a[0] - b[0]);
}

function bySeries(points: readonly MeasuredPoint[]): [string, MeasuredPoint[]][] {
  const groups = new Map<string, MeasuredPoint[]>();
  for (const p of points) groups.set(p.series, [...(groups.get(p.series) ?? []), p]);
  return [...groups];
}

const nonEmpty = (c: ChartSpec): boolean => c.series.some((s) => s.points.length > 0);
const withPoints = (c: ChartSpec): ChartSpec => ({
  ...c,
  series: c.series.filter((s) => s.points.length > 0),
});

const LAG_AXIS: Axis = { label: 'Injected replication delay', unit: 'ms' };

export function lagPercentilesChart(points: readonly MeasuredPoint[]): ChartSpec {
  const colours = seriesColours(points);
  return {
    id: 'visibility-percentiles',
    title: 'Visibility lag percentiles by injected delay',
    kind: 'line',
    x: LAG_AXIS,
    y: { label: 'Visibility lag', unit: 'ms' },
    series: bySeries(points).flatMap(([series, ps]) =>
      (['p50', 'p95', 'p99'] as const).map((q) => ({
        label: `${series} ${q}`,
        colour: colours.get(series) ?? 0,
        dash: PERCENTILE_DASH[q],
        points: pairs(
          ps,
          (p) => p.lagMs,
          (p) => p.visibility?.[q] ?? null,
        ),
      })),
    ),
    note: 'Server-side visibility lag per strategy: solid p50, dashed p95, dotted p99.',
  };
}

export function staleRateChart(points: readonly MeasuredPoint[]): ChartSpec {
  const colours = seriesColours(points);
  return {
    id: 'stale-rate',
    title: 'Stale-read rate by injected delay',
    kind: 'line',
    x: LAG_AXIS,
    y: { label: 'Stale reads', unit: '%', range: [0, 100] },
    series: bySeries(points).map(([series, ps]) => ({
      label: series,
      colour: colours.get(series) ?? 0,
      dash: [],
      points: pairs(
        ps,
        (p) => p.lagMs,
        (p) => (finite(p.staleRate) ? p.staleRate * 100 : null),
      ),
    })),
    note: 'Share of the reads made right after an acknowledged write that missed it.',
  };
}

export function latencyOffloadChart(points: readonly MeasuredPoint[]): ChartSpec {
  const colours = seriesColours(points);
  return {
    id: 'latency-offload',
    title: 'Read latency against primary offload',
    kind: 'scatter',
    x: { label: 'Primary offload (reads served by the replica or cache)', unit: '%', range: [0, 100] },
    y: { label: 'API read latency p95', unit: 'ms' },
    series: bySeries(points).map(([series, ps]) => ({
      label: series,
      colour: colours.get(series) ?? 0,
      dash: [],
      points: pairs(
        ps,
        (p) => (finite(p.offload) ? p.offload * 100 : null),
        (p) => p.readP95,
      ),
    })),
    note:
      'One marker per strategy and injected delay, from the X-Read-Source of every API read. SQL runs are not ' +
      'shown: their summaries count statements per endpoint, writes included, not reads.',
  };
}

/** The t-visibility curve's legend entry: its series, lag and the two waits. */
export function freshnessLabel(p: MeasuredPoint): string {
  const wait = (v: number | null) => (v === null ? '> timeout' : ms(v));
  const f = p.freshness;
  return f ? `${p.series} @ ${p.lag}: 99% after ${wait(f.t99Ms)}, 99.9% after ${wait(f.t999Ms)}` : p.series;
}

export function freshnessChart(points: readonly MeasuredPoint[]): ChartSpec {
  const colours = seriesColours(points);
  const lags = [...new Set(points.map((p) => p.lag))];
  return {
    id: 'freshness',
    title: 'Share of reads fresh Δt after the write (t-visibility)',
    kind: 'line',
    x: { label: 'Δt after the write (log scale)', unit: 'ms', log: true },
    y: { label: 'Reads that would be fresh', unit: '%', range: [0, 100] },
    series: points
      .filter((p) => p.freshness !== null)
      .map((p) => ({
        label: freshnessLabel(p),
        colour: colours.get(p.series) ?? 0,
        dash: LAG_DASHES[lags.indexOf(p.lag) % LAG_DASHES.length] ?? [],
        // A log axis has no 0: a lag of 0 ms is left off the line (the table keeps it).
        points: pairs(
          p.freshness?.points ?? [],
          (q) => (q.lagMs > 0 ? q.lagMs : null),
          (q) => q.freshShare * 100,
        ),
      })),
    note:
      'The distribution of the visibility lag over every probe; timed-out probes count as never fresh, so a ' +
      'curve can stay below 100%. Colour: strategy; dash: injected delay.',
  };
}

export function heartbeatChart(runs: readonly ReportRun[]): ChartSpec {
  return {
    id: 'heartbeat',
    title: 'Replica heartbeat lag over time',
    kind: 'line',
    x: { label: 'Time', unit: 'time' },
    y: { label: 'Heartbeat lag', unit: 'ms' },
    series: heartbeatRuns(runs).map((r, i) => ({
      label: `${r.scenario} @ ${r.lag} (${r.testId})`,
      colour: i,
      dash: [],
      points: pairs(
        r.heartbeat.t.map((t, j) => [t, r.heartbeat.lagMs[j] ?? null] as const),
        (p) => p[0],
        (p) => p[1],
      ),
    })),
    note: 'Apply lag of the newest heartbeat on the replica, as sampled during each run.',
  };
}

/** Every chart that has data, in the report's order. */
export function reportCharts(points: readonly MeasuredPoint[], runs: readonly ReportRun[]): ChartSpec[] {
  const overLag = points.filter((p) => p.lagMs !== null);
  return [
    lagPercentilesChart(overLag),
    staleRateChart(overLag),
    latencyOffloadChart(points),
    heartbeatChart(runs),
    freshnessChart(points),
  ]
    .filter(nonEmpty)
    .map(withPoints);
}
