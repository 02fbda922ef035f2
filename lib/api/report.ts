/**
 * The consistency report's strategy comparison for the API scenarios: one row per strategy with stale rate,
 * visibility lag, read latency, primary offload (share of client reads served by the replica or the cache,
 * from X-Read-Source) and errors. Its per-strategy submetrics are declared once (`strategySubmetrics`): the
 * rows read them and the section's needs list them, so lib/summary/sections.ts keeps every one. Runtime-neutral.
 */
import { K6_METRICS, type K6MetricDef } from '../../common/metrics.ts';
import type { ReadSource } from '../../common/strategies.ts';
import { count, type SummaryData, submetric, trend } from '../summary/data.ts';
import { freshAfter, mdTable, ms, num, pct } from '../summary/format.ts';
import { type FreshnessCurve, freshnessCurve } from '../summary/freshness.ts';
import { FRESHNESS_NOTE, type MetricNeed, type ReportSection } from '../summary/sections.ts';

const M = K6_METRICS;
/** The read sources that take load off the primary: primary offload counts these (reports and dashboards). */
export const OFFLOADED: readonly ReadSource[] = ['replica', 'cache'];

/** The submetrics one strategy's row reads, tagged with the strategy (and the read source for offload). */
function strategySubmetrics(strategy: string) {
  const key = (m: K6MetricDef, tags: Record<string, string> = {}) => ({
    key: submetric(m.name, { strategy, ...tags }),
    kind: m.kind,
  });
  return {
    immediate: key(M.probeReads),
    stale: key(M.staleReads),
    clientReads: key(M.apiReads),
    offloaded: OFFLOADED.map((source) => key(M.apiReads, { source })),
    lag: key(M.visibilityLag),
    timeouts: key(M.visibilityTimeouts),
    readDuration: key(M.apiReadDuration),
    errors: key(M.apiErrors),
  } satisfies Record<string, MetricNeed | MetricNeed[]>;
}

export interface StrategyRow {
  readonly strategy: string;
  readonly reads: number;
  readonly staleRate: number | null;
  readonly lagP50: number | null;
  readonly lagP95: number | null;
  /** The t-visibility curve of this strategy's probes (lib/summary/freshness.ts). */
  readonly freshness: FreshnessCurve | null;
  readonly readP95: number | null;
  /** Share of client reads not served by the primary; null without reads. */
  readonly offload: number | null;
  readonly errors: number;
}

export function strategyRows(data: SummaryData, strategies: readonly string[]): StrategyRow[] {
  return strategies.map((strategy) => {
    const k = strategySubmetrics(strategy);
    const immediate = count(data, k.immediate.key);
    const stale = count(data, k.stale.key);
    const clientReads = count(data, k.clientReads.key);
    const offloaded = k.offloaded.reduce((n, source) => n + count(data, source.key), 0);
    const lag = trend(data, k.lag.key);
    return {
      strategy,
      reads: clientReads,
      staleRate: immediate > 0 ? stale / immediate : null,
      lagP50: lag?.p50 ?? null,
      lagP95: lag?.p95 ?? null,
      freshness: freshnessCurve(data, { lag: k.lag.key, timeouts: k.timeouts.key }),
      readP95: trend(data, k.readDuration.key)?.p95 ?? null,
      offload: clientReads > 0 ? offloaded / clientReads : null,
      errors: count(data, k.errors.key),
    };
  });
}

/** The strategy comparison's columns, in consistency.md and the HTML report alike. */
export const STRATEGY_COLUMNS = [
  'strategy',
  'reads',
  'stale rate',
  'lag p50',
  'lag p95',
  '99% fresh after',
  '99.9% fresh after',
  'read p95',
  'primary offload',
  'errors',
];

/** One strategy's row under STRATEGY_COLUMNS. */
export function strategyCells(r: StrategyRow): string[] {
  return [
    r.strategy,
    num(r.reads),
    pct(r.staleRate),
    ms(r.lagP50),
    ms(r.lagP95),
    freshAfter(r.freshness, r.freshness?.t99Ms ?? null),
    freshAfter(r.freshness, r.freshness?.t999Ms ?? null),
    ms(r.readP95),
    pct(r.offload),
    num(r.errors),
  ];
}

export const STRATEGY_COMPARISON: ReportSection = {
  title: 'Strategy comparison',
  path: 'api',
  needs: (ctx) => ctx.strategies.flatMap((strategy) => Object.values(strategySubmetrics(strategy)).flat()),
  markdown: (data, ctx) => {
    const rows = strategyRows(data, ctx.strategies).map(strategyCells);
    return [
      '## Strategy comparison',
      mdTable(STRATEGY_COLUMNS, rows),
      '',
      'Primary offload: share of client reads served by the replica or the cache (X-Read-Source).',
      '',
      FRESHNESS_NOTE,
    ].join('\n');
  },
};
