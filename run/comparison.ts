/**
 * The plain-text comparison table `npm start` prints: one row per run (scenario × injected lag), built from
 * each run's summary.json. A run whose load generator was the limit (k6 dropped iterations) is marked ⚠ in the
 * `generator` column, with a footnote under the table. Runtime-neutral.
 */
import type { Topology } from '../common/topology.ts';
import { STRATEGY_COLUMNS, type StrategyRow, strategyCells } from '../lib/api/report.ts';
import type { ConsistencyFigures, GeneratorFigures } from '../lib/summary/figures.ts';
import { freshAfter, ms, num, pct } from '../lib/summary/format.ts';

export interface ComparisonRow {
  /** Set in the cluster and combined comparisons, where runs differ by topology and strategy: shown first. */
  readonly topology?: Topology;
  readonly strategy?: string;
  readonly scenario: string;
  readonly lag: string;
  /** null when the run produced no summary. */
  readonly figures: ConsistencyFigures | null;
  /** k6's exit code: 0 passed, 99 thresholds failed, 107 bad config, 108 setup refused, else broke. */
  readonly exitCode: number;
}

const HEADER = [
  'scenario',
  'lag',
  'stale rate',
  'vis p50',
  'vis p95',
  'vis p99',
  'fresh 99%',
  'fresh 99.9%',
  'timeouts',
  'hb lag p50',
  'hb lag p95',
  'writer p95',
  'reader p95',
  'missing',
  'generator',
  'result',
];

export const GENERATOR_FOOTNOTE =
  '⚠ generator: k6 dropped iterations, so the run got the shown share of its scheduled rate; ' +
  "that row's client-side latencies include the generator's own queueing and its stale rate was measured at a " +
  'lower rate than asked (raise CQRS_VUS or lower CQRS_RATE)';

/** `ok`, `⚠ 45% of rate` (achieved / scheduled), or `-` for a summary without iteration counts. */
function generatorCell(g: GeneratorFigures): string {
  if (!g.limited) return g.iterations > 0 ? 'ok' : '-';
  return `⚠ ${pct(g.startedShare)} of rate`;
}

/** k6's exit code in words (docs/k6-scenarios.md, "Exit codes and failures"). */
export function runResult(exitCode: number): string {
  if (exitCode === 0) return 'ok';
  if (exitCode === 99) return 'thresholds failed';
  // docs/k6-scenarios.md, "Exit codes and failures".
  if (exitCode === 107) return 'config or script error (k6 exit 107)';
  if (exitCode === 108) return 'setup refused (k6 exit 108)';
  return `k6 exit ${exitCode}`;
}

function cells(r: ComparisonRow): string[] {
  const f = r.figures;
  if (!f) return [r.scenario, r.lag, ...Array(HEADER.length - 3).fill('-'), runResult(r.exitCode)];
  const probed = f.probes > 0;
  return [
    r.scenario,
    r.lag,
    probed ? pct(f.staleRate) : '-',
    probed ? ms(f.visibilityLag?.p50) : '-',
    probed ? ms(f.visibilityLag?.p95) : '-',
    probed ? ms(f.visibilityLag?.p99) : '-',
    probed ? freshAfter(f.freshness, f.freshness?.t99Ms ?? null) : '-',
    probed ? freshAfter(f.freshness, f.freshness?.t999Ms ?? null) : '-',
    probed ? num(f.visibilityTimeouts) : '-',
    f.heartbeatLag ? ms(f.heartbeatLag.p50) : '-',
    f.heartbeatLag ? ms(f.heartbeatLag.p95) : '-',
    ms(f.writer.latency?.p95),
    ms(f.reader.latency?.p95),
    num(f.reconcile.missingWriter + f.reconcile.missingReader),
    generatorCell(f.generator),
    runResult(r.exitCode),
  ];
}

/** Columns padded to their widest cell, a rule under the header; trailing spaces trimmed. */
function textTable(header: readonly string[], body: readonly (readonly string[])[]): string[] {
  const table = [header, ...body];
  const widths = header.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
}

/** One strategy of an api-read-after-write run on one topology (the combined comparison's rows). */
export interface TopologyRow {
  readonly topology: Topology;
  /** The lag injected during the run ('0': the topology's natural lag). */
  readonly lag: string;
  readonly row: StrategyRow;
  /** The run's k6 exit code (the run compares every strategy of its topology at once). */
  readonly exitCode: number;
}

/**
 * The strategy comparison of consistency.md (lib/api/report.ts), with the topology first: client-side fixes
 * (gtid-wait, sticky, cache) on the async replica beside server-side causal reads (sync-before) on the cluster.
 */
export function topologyStrategyTable(rows: readonly TopologyRow[]): string {
  return textTable(
    ['topology', 'lag', ...STRATEGY_COLUMNS, 'result'],
    rows.map((r) => [r.topology, r.lag, ...strategyCells(r.row), runResult(r.exitCode)]),
  ).join('\n');
}

export function comparisonTable(rows: readonly ComparisonRow[]): string {
  const limited = rows.some((r) => r.figures?.generator.limited);
  const labelled = rows.some((r) => r.topology !== undefined);
  const header = labelled ? ['topology', HEADER[0] as string, 'strategy', ...HEADER.slice(1)] : HEADER;
  const body = rows.map((r) => {
    const c = cells(r);
    return labelled ? [r.topology ?? '-', c[0] as string, r.strategy ?? '-', ...c.slice(1)] : c;
  });
  return [...textTable(header, body), ...(limited ? ['', GENERATOR_FOOTNOTE] : [])].join('\n');
}
