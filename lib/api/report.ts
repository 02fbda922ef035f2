/**
 * The consistency report's strategy comparison for the API scenarios: one row per strategy with stale rate,
 * visibility lag, read latency, primary offload (share of client reads served by the replica or the cache,
 * from X-Read-Source) and errors. k6 keeps tagged submetrics in the summary only when a threshold names them,
 * so `strategyThresholds` lists them as passive thresholds. Runtime-neutral.
 */
import { K6_METRICS } from '../../common/metrics.ts';
import type { ReadSource } from '../../common/strategies.ts';
import type { ReportSection } from '../summary/consistency.ts';
import { count, type SummaryData, submetric, trend } from '../summary/data.ts';
import { mdTable, ms, num, pct } from '../summary/format.ts';

const M = K6_METRICS;
const OFFLOADED: readonly ReadSource[] = ['replica', 'cache'];

export interface StrategyRow {
  readonly strategy: string;
  readonly reads: number;
  readonly staleRate: number | null;
  readonly lagP50: number | null;
  readonly lagP95: number | null;
  readonly readP95: number | null;
  /** Share of client reads not served by the primary; null without reads. */
  readonly offload: number | null;
  readonly errors: number;
}

export function strategyRows(data: SummaryData, strategies: readonly string[]): StrategyRow[] {
  return strategies.map((strategy) => {
    const t = { strategy };
    const immediate = count(data, submetric(M.probeReads.name, t));
    const stale = count(data, submetric(M.staleReads.name, t));
    const clientReads = count(data, submetric(M.apiReads.name, t));
    const offloaded = OFFLOADED.reduce(
      (n, source) => n + count(data, submetric(M.apiReads.name, { strategy, source })),
      0,
    );
    const lag = trend(data, submetric(M.visibilityLag.name, t));
    return {
      strategy,
      reads: clientReads,
      staleRate: immediate > 0 ? stale / immediate : null,
      lagP50: lag?.p50 ?? null,
      lagP95: lag?.p95 ?? null,
      readP95: trend(data, submetric(M.apiReadDuration.name, t))?.p95 ?? null,
      offload: clientReads > 0 ? offloaded / clientReads : null,
      errors: count(data, submetric(M.apiErrors.name, t)),
    };
  });
}

export function strategyComparison(strategies: readonly string[]): ReportSection {
  return (data) => {
    const rows = strategyRows(data, strategies).map((r) => [
      r.strategy,
      num(r.reads),
      pct(r.staleRate),
      ms(r.lagP50),
      ms(r.lagP95),
      ms(r.readP95),
      pct(r.offload),
      num(r.errors),
    ]);
    return [
      '## Strategy comparison',
      mdTable(
        ['strategy', 'reads', 'stale rate', 'lag p50', 'lag p95', 'read p95', 'primary offload', 'errors'],
        rows,
      ),
      '',
      'Primary offload: share of client reads served by the replica or the cache (X-Read-Source).',
      '',
    ].join('\n');
  };
}

/** Passive thresholds that make k6 keep every submetric the comparison reads. */
export function strategyThresholds(strategies: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const strategy of strategies) {
    const t = { strategy };
    out[submetric(M.probeReads.name, t)] = ['count>=0'];
    out[submetric(M.staleReads.name, t)] = ['count>=0'];
    out[submetric(M.apiReads.name, t)] = ['count>=0'];
    for (const source of OFFLOADED) out[submetric(M.apiReads.name, { strategy, source })] = ['count>=0'];
    out[submetric(M.apiErrors.name, t)] = ['count>=0'];
    out[submetric(M.visibilityLag.name, t)] = ['max>=0'];
    out[submetric(M.apiReadDuration.name, t)] = ['max>=0'];
  }
  return out;
}
