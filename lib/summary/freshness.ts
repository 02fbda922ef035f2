/**
 * The t-visibility curve: the share of reads that would be fresh Δt after the write, i.e. the distribution
 * function of the visibility lag, measured (the empirical twin of Probabilistically Bounded Staleness, Bailis
 * et al., VLDB 2012). It answers "how long must a client wait after a write": t99 and t99.9 are the Δt after
 * which 99% and 99.9% of reads are fresh.
 *
 * The curve runs through the percentiles the summary keeps (CURVE_PERCENTILES). k6 interpolates p(q) between
 * the samples at ranks ⌊q(n−1)⌋ and ⌈q(n−1)⌉, so at the value p(q) at least ⌊q(n−1)⌋+1 of the n visible probes
 * are fresh: each point carries that guaranteed share, which with few probes is below q (200 probes: 199 at
 * p(99.9), 99.5%). A probe that timed out was never fresh within the probe timeout, so it holds the curve below
 * 1. Error-probes (a read failed) are neither and are left out. Runtime-neutral.
 */
import { CURVE_PERCENTILES, percentileStat, type SummaryData } from './data.ts';

export interface FreshnessPoint {
  readonly lagMs: number;
  /** Share of probes certainly fresh `lagMs` after the write (at least this many were). */
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
   * Δt after which at least 99% of reads are fresh: the smallest kept value whose guaranteed share reaches it,
   * so never below the true wait and at most the next kept percentile above it (with fewer than 100 probes the
   * max, which is then the true wait); null when more than 1% never were fresh within the timeout.
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

/**
 * The kept points of the lag trend, ascending: [probes fresh at least, value]. At min one probe is; at p(q)
 * ⌊q(n−1)⌋+1 are (k6's interpolation, above); at max all n are.
 */
function keptPoints(values: Readonly<Record<string, number>>, n: number): [number, number][] {
  const points: [number, number][] = [];
  const min = values.min;
  if (min !== undefined) points.push([1, min]);
  for (const p of CURVE_PERCENTILES) {
    const v = values[percentileStat(p)];
    // Rounded before the floor: 0.99 × 999 is 989.0100000000001, and 0.5 × 4 must not become 1.9999….
    if (v !== undefined) points.push([Math.floor(Math.round((p / 100) * (n - 1) * 1e9) / 1e9) + 1, v]);
  }
  const max = values.max;
  if (max !== undefined) points.push([n, max]);
  return points;
}

/** Δt by which `share` of all probes are fresh: the first kept value with that many fresh; null if none has. */
function freshAfter(share: number, probes: number, kept: [number, number][]): number | null {
  const needed = Math.ceil(Math.round(share * probes * 1e9) / 1e9);
  return kept.find(([fresh]) => fresh >= needed)?.[1] ?? null;
}

export function freshnessCurve(data: SummaryData, keys: FreshnessKeys = DEFAULT_KEYS): FreshnessCurve | null {
  const lag = data.metrics[keys.lag];
  if (lag?.type !== 'trend') return null;
  const visible = lag.values.count ?? 0;
  const timeouts = data.metrics[keys.timeouts]?.values.count ?? 0;
  const probes = visible + timeouts;
  if (probes === 0) return null;
  if (visible === 0) return { probes, timeouts, points: [], t99Ms: null, t999Ms: null };
  const kept = keptPoints(lag.values, visible);
  return {
    probes,
    timeouts,
    points: kept.map(([fresh, lagMs]) => ({ lagMs, freshShare: fresh / probes })),
    t99Ms: freshAfter(0.99, probes, kept),
    t999Ms: freshAfter(0.999, probes, kept),
  };
}
