/**
 * The HTML report's data, from the runs' summaries: one table row per run (and per strategy for the API
 * runs, whose summaries keep each strategy's submetrics), and one measured point per strategy and injected
 * lag for the charts. Pure: the template (html.ts) and the file side (files.ts) do the rest.
 */
import { K6_METRICS } from '../../common/metrics.ts';
import { STRATEGIES } from '../../common/strategies.ts';
import { type StrategyRow, strategyRows } from '../../lib/api/report.ts';
import { parseDurationMs } from '../../lib/duration.ts';
import { type SummaryData, submetric, type TrendView, trend } from '../../lib/summary/data.ts';
import { type ConsistencyFigures, consistencyFigures } from '../../lib/summary/figures.ts';
import type { FreshnessCurve } from '../../lib/summary/freshness.ts';

/** Heartbeat lag over time, e.g. from Prometheus query_range; a summary holds no time series. */
export interface HeartbeatSeries {
  /** Unix seconds. */
  readonly t: readonly number[];
  readonly lagMs: readonly number[];
}

export interface ReportRun {
  readonly testId: string;
  readonly scenario: string;
  /** The injected lag as the run was tagged (`0`, `5ms`). */
  readonly lag: string;
  /** The SQL probe's strategy (CQRS_SQL_STRATEGY); API runs carry theirs in the summary's submetrics. */
  readonly strategy?: string;
  /** k6's exit code; absent when unknown (a report made from summary files alone). */
  readonly exitCode?: number;
  readonly summary: SummaryData;
  readonly heartbeat?: HeartbeatSeries;
}

export interface ReportInput {
  readonly title: string;
  /** ISO time, given by the caller so that the same input renders the same file. */
  readonly generatedAt: string;
  readonly runs: readonly ReportRun[];
}

export interface RunRow {
  readonly run: ReportRun;
  readonly figures: ConsistencyFigures;
  /** One per strategy the summary has submetrics for (API runs); [] for SQL runs. */
  readonly strategies: readonly StrategyRow[];
}

/** A strategy at one injected lag: what every chart but the heartbeat one plots. */
export interface MeasuredPoint {
  /** What the charts' legends group by: `scenario · strategy`, or the scenario when its strategy is unknown. */
  readonly series: string;
  readonly lag: string;
  /** null when `lag` is not a duration: such a point is left out of the charts over injected lag. */
  readonly lagMs: number | null;
  readonly staleRate: number | null;
  readonly visibility: TrendView | null;
  readonly freshness: FreshnessCurve | null;
  /** p95 of the reads the offload is about: API reads of the strategy. */
  readonly readP95: number | null;
  /** Share of reads not served by the primary (0..1); null where the summary cannot tell (SQL runs). */
  readonly offload: number | null;
}

const API_READS = K6_METRICS.apiReads.name;
const STRATEGY_KEY = new RegExp(`^${API_READS}\\{strategy:([^,}]+)\\}$`);

/**
 * The strategies an API run's summary has a strategy comparison for: the `api_reads{strategy:…}` submetrics
 * its report plan kept, in the registry's order (unknown names last, sorted).
 */
export function summaryStrategies(data: SummaryData): string[] {
  const found = Object.keys(data.metrics).flatMap((key) => STRATEGY_KEY.exec(key)?.[1] ?? []);
  const rank = (s: string) => {
    const i = (STRATEGIES as readonly string[]).indexOf(s);
    return i < 0 ? STRATEGIES.length : i;
  };
  return [...new Set(found)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

export function runRows(runs: readonly ReportRun[]): RunRow[] {
  return runs.map((run) => ({
    run,
    figures: consistencyFigures(run.summary),
    strategies: strategyRows(run.summary, summaryStrategies(run.summary)),
  }));
}

/** Whether a run measured anything the stale-rate and lag charts can show. */
const measuredStale = (f: ConsistencyFigures) => f.reads > 0 || f.probes > 0;

/**
 * The charts' points. An API run gives one per strategy, from its submetrics; a SQL run one for the whole run,
 * if it probed (a replica-lag run has no reads to be stale).
 */
export function measuredPoints(rows: readonly RunRow[]): MeasuredPoint[] {
  return rows.flatMap(({ run, figures, strategies }): MeasuredPoint[] => {
    const lagMs = parseDurationMs(run.lag);
    if (strategies.length > 0)
      return strategies.map((s) => ({
        series: `${run.scenario} · ${s.strategy}`,
        lag: run.lag,
        lagMs,
        staleRate: s.staleRate,
        visibility: trend(run.summary, submetric(K6_METRICS.visibilityLag.name, { strategy: s.strategy })),
        freshness: s.freshness,
        readP95: s.readP95,
        offload: s.offload,
      }));
    if (!measuredStale(figures)) return [];
    return [
      {
        series: run.strategy ? `${run.scenario} · ${run.strategy}` : run.scenario,
        lag: run.lag,
        lagMs,
        staleRate: figures.staleRate,
        visibility: figures.visibilityLag,
        freshness: figures.freshness,
        // The summary keeps statements per endpoint, writes included, not reads per endpoint: no offload.
        readP95: figures.reader.latency?.p95 ?? null,
        offload: null,
      },
    ];
  });
}

/** The runs that came with a heartbeat time series with at least one sample. */
export function heartbeatRuns(runs: readonly ReportRun[]): (ReportRun & { heartbeat: HeartbeatSeries })[] {
  return runs.filter(
    (r): r is ReportRun & { heartbeat: HeartbeatSeries } =>
      r.heartbeat !== undefined && Math.min(r.heartbeat.t.length, r.heartbeat.lagMs.length) > 0,
  );
}
