/**
 * The plain-text comparison table `npm start` prints: one row per run (scenario × injected lag), built from
 * each run's summary.json. Runtime-neutral.
 */
import type { ConsistencyFigures } from './figures.ts';
import { ms, num, pct } from './format.ts';

export interface ComparisonRow {
  readonly scenario: string;
  readonly lag: string;
  /** null when the run produced no summary. */
  readonly figures: ConsistencyFigures | null;
  /** k6's exit code: 0 passed, 99 thresholds failed, anything else broke. */
  readonly exitCode: number;
}

const HEADER = [
  'scenario',
  'lag',
  'stale rate',
  'vis p50',
  'vis p95',
  'vis p99',
  'timeouts',
  'hb lag p50',
  'hb lag p95',
  'writer p95',
  'reader p95',
  'missing',
  'result',
];

function result(exitCode: number): string {
  if (exitCode === 0) return 'ok';
  if (exitCode === 99) return 'thresholds failed';
  return `k6 exit ${exitCode}`;
}

function cells(r: ComparisonRow): string[] {
  const f = r.figures;
  if (!f) return [r.scenario, r.lag, ...Array(HEADER.length - 3).fill('-'), result(r.exitCode)];
  const probed = f.probes > 0;
  return [
    r.scenario,
    r.lag,
    probed ? pct(f.staleRate) : '-',
    probed ? ms(f.visibilityLag?.p50) : '-',
    probed ? ms(f.visibilityLag?.p95) : '-',
    probed ? ms(f.visibilityLag?.p99) : '-',
    probed ? num(f.visibilityTimeouts) : '-',
    f.heartbeatLag ? ms(f.heartbeatLag.p50) : '-',
    f.heartbeatLag ? ms(f.heartbeatLag.p95) : '-',
    ms(f.writer.latency?.p95),
    ms(f.reader.latency?.p95),
    num(f.reconcile.missingWriter + f.reconcile.missingReader),
    result(r.exitCode),
  ];
}

export function comparisonTable(rows: readonly ComparisonRow[]): string {
  const table = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(HEADER), widths.map((w) => '-'.repeat(w)).join('  '), ...table.slice(1).map(line)].join('\n');
}
