/**
 * The t-visibility curve: the share of reads that would be fresh Δt after the write, i.e. the distribution
 * function of the visibility lag, measured (the empirical twin of Probabilistically Bounded Staleness, Bailis
 * et al., VLDB 2012). It answers "how long must a client wait after a write": t99 and t99.9 are the Δt after
 * which 99% and 99.9% of reads are fresh.
 *
 * The curve runs through the percentiles the summary keeps (CURVE_PERCENTILES), scaled by the share of probes
 * that became visible at all: a probe that timed out was never fresh within the probe timeout, so it holds
 * the curve below 1. Error-probes (a read failed) are neither and are left out. Runtime-neutral.
 */
import { CURVE_PERCENTILES, percentileStat, type SummaryData } from './data.ts';

export interface FreshnessPoint {
  readonly lagMs: number;
  /** Share of probes fresh `lagMs` after the write. */
  readonly freshShare: number;
}

export interface FreshnessCurve {
  /** Probes with a lag or a timeout (error-probes excluded). */
  readonly probes: number;
  /** Never fresh within the probe timeout. */
  readonly timeouts: number;
  /** Ascending lagMs; freshShare non-decreasing, at most 1 - timeouts/probes. */
  readonly points: readonly FreshnessPoint[];
  /**
   * Δt after which at least 99% of reads are fresh; null when more than 1% never were within the timeout.
   * Exact when no probe timed out (it is then the kept p(99)); otherwise the next kept percentile above the
   * share needed, so never below the true figure.
   */
  readonly t99Ms: number | null;
  /** The same for 99.9%. */
  readonly t999Ms: number | null;
}

export interface FreshnessKeys {
  /** The visibility-lag trend, or one of its submetrics (`visibility_lag{strategy:gtid-wait}`). */
  readonly lag: string;
  /** The timeout counter for the same probes. */
  readonly timeouts: string;
}

const DEFAULT_KEYS: FreshnessKeys = { lag: 'visibility_lag', timeouts: 'visibility_timeouts' };

/** The kept percentile points of the lag trend, ascending: [percent, value]. */
function keptPercentiles(values: Readonly<Record<string, number>>): [number, number][] {
  const points: [number, number][] = [];
  const min = values.min;
  if (min !== undefined) points.push([0, min]);
  for (const p of CURVE_PERCENTILES) {
    const v = values[percentileStat(p)];
    if (v !== undefined) points.push([p, v]);
  }
  const max = values.max;
  if (max !== undefined) points.push([100, max]);
  return points;
}

/**
 * Δt at which `share` of all probes are fresh: the lag percentile of the visible probes that holds that many,
 * rounded up to a kept percentile; null when the visible probes are too few to reach it.
 */
function freshAfter(share: number, visible: number, probes: number, kept: [number, number][]): number | null {
  const needed = (share * probes) / visible;
  if (needed > 1) return null;
  // Floating point: 0.99 * 1000 / 1000 must select p(99), not p(99.5).
  const at = kept.find(([p]) => p / 100 >= needed - 1e-12);
  return at ? at[1] : null;
}

export function freshnessCurve(data: SummaryData, keys: FreshnessKeys = DEFAULT_KEYS): FreshnessCurve | null {
  const lag = data.metrics[keys.lag];
  if (lag?.type !== 'trend') return null;
  const visible = lag.values.count ?? 0;
  const timeouts = data.metrics[keys.timeouts]?.values.count ?? 0;
  const probes = visible + timeouts;
  if (probes === 0) return null;
  if (visible === 0) return { probes, timeouts, points: [], t99Ms: null, t999Ms: null };
  const kept = keptPercentiles(lag.values);
  return {
    probes,
    timeouts,
    // One division of exact products, so a share is the correctly rounded fraction.
    points: kept.map(([p, lagMs]) => ({ lagMs, freshShare: (p * visible) / (100 * probes) })),
    t99Ms: freshAfter(0.99, visible, probes, kept),
    t999Ms: freshAfter(0.999, visible, probes, kept),
  };
}
