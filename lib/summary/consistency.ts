/**
 * The Markdown consistency report: stale reads, visibility lag, heartbeat lag, session violations,
 * reconciliation, throughput and latency by endpoint, thresholds. Extra sections plug in through
 * `extraSections` (the API scenarios add their strategy comparison, lib/api/report.ts).
 */
import { type SummaryData, thresholdResults } from './data.ts';
import { consistencyFigures, type EndpointFigures } from './figures.ts';
import { mdTable, ms, num, pct } from './format.ts';

export type ReportSection = (data: SummaryData) => string;

export interface ConsistencyReportOptions {
  readonly title: string;
  /** Redacted config lines shown at the top. */
  readonly configLines?: readonly string[];
  readonly extraSections?: readonly ReportSection[];
}

function endpointRow(name: string, e: EndpointFigures): string[] {
  const l = e.latency;
  return [
    name,
    num(e.statements),
    num(e.perSecond, 1),
    ms(l?.p50),
    ms(l?.p95),
    ms(l?.p99),
    ms(l?.max),
    num(e.errors),
  ];
}

export function consistencyReport(data: SummaryData, opts: ConsistencyReportOptions): string {
  const f = consistencyFigures(data);
  const parts: string[] = [`# ${opts.title}`, ''];
  if (opts.configLines?.length) parts.push('```', ...opts.configLines, '```', '');
  parts.push(
    '## Read after write',
    mdTable(
      ['probes', 'stale reads', 'stale rate', 'lag p50', 'lag p95', 'lag p99', 'lag max', 'timeouts'],
      [
        [
          num(f.probes),
          num(f.staleReads),
          pct(f.staleRate),
          ms(f.visibilityLag?.p50),
          ms(f.visibilityLag?.p95),
          ms(f.visibilityLag?.p99),
          ms(f.visibilityLag?.max),
          num(f.visibilityTimeouts),
        ],
      ],
    ),
    '',
    '## Replica lag (heartbeat)',
    mdTable(
      ['samples', 'p50', 'p95', 'p99', 'max', 'Seconds_Behind max'],
      [
        [
          num(f.heartbeatLag?.count),
          ms(f.heartbeatLag?.p50),
          ms(f.heartbeatLag?.p95),
          ms(f.heartbeatLag?.p99),
          ms(f.heartbeatLag?.max),
          f.secondsBehindMax === null ? 'n/a' : `${f.secondsBehindMax} s`,
        ],
      ],
    ),
    '',
    '## Session guarantees',
    mdTable(
      ['read-your-writes violations', 'monotonic-read violations'],
      [[num(f.rywViolations), num(f.monotonicViolations)]],
    ),
    '',
    '## Reconciliation',
    mdTable(
      ['acknowledged writes', 'missing on writer', 'missing on reader'],
      [[num(f.reconcile.checked), num(f.reconcile.missingWriter), num(f.reconcile.missingReader)]],
    ),
    '',
    '## Endpoints',
    mdTable(
      ['endpoint', 'statements', 'per second', 'p50', 'p95', 'p99', 'max', 'errors'],
      [endpointRow('writer', f.writer), endpointRow('reader', f.reader)],
    ),
    '',
  );
  for (const section of opts.extraSections ?? []) parts.push(section(data), '');
  const thresholds = thresholdResults(data);
  if (thresholds.length > 0) {
    parts.push(
      '## Thresholds',
      mdTable(
        ['metric', 'threshold', 'result'],
        thresholds.map((t) => [t.metric, t.expression, t.ok ? 'pass' : '**FAIL**']),
      ),
      '',
    );
  }
  return parts.join('\n');
}
