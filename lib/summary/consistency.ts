/**
 * The Markdown consistency report: first, when k6 dropped iterations, one line saying the load generator was
 * the limit (figures.ts, generatorWarning); the config; then the scenario's sections (sections.ts: only those
 * on a path it uses); then its thresholds, the verdicts only (never the keep-only ones).
 */
import { type SummaryData, type Thresholds, thresholdResults } from './data.ts';
import { type FigureOptions, generatorFigures, generatorWarning } from './figures.ts';
import { mdTable } from './format.ts';
import type { ReportSection } from './sections.ts';

export interface ConsistencyReportOptions extends FigureOptions {
  readonly title: string;
  /** Redacted config lines shown at the top. */
  readonly configLines?: readonly string[];
  /** The scenario's sections, in order (sectionsFor). */
  readonly sections: readonly ReportSection[];
  /** What the strategy comparison has a row for; [] for SQL. */
  readonly strategies?: readonly string[];
  /** The user-facing thresholds: the only ones listed. */
  readonly verdicts: Thresholds;
}

export function thresholdCell(ok: boolean | null): string {
  return ok === null ? 'not evaluated' : ok ? 'pass' : '**FAIL**';
}

export function consistencyReport(data: SummaryData, opts: ConsistencyReportOptions): string {
  const ctx = { strategies: opts.strategies ?? [], workloadMs: opts.workloadMs };
  const parts: string[] = [`# ${opts.title}`, ''];
  const warning = generatorWarning(generatorFigures(data, ctx));
  if (warning) parts.push(`**${warning}**`, '');
  if (opts.configLines?.length) parts.push('```', ...opts.configLines, '```', '');
  for (const section of opts.sections) parts.push(section.markdown(data, ctx), '');
  const thresholds = thresholdResults(data, opts.verdicts);
  if (thresholds.length > 0) {
    parts.push(
      '## Thresholds',
      mdTable(
        ['metric', 'threshold', 'result'],
        thresholds.map((t) => [t.metric, t.expression, thresholdCell(t.ok)]),
      ),
      '',
    );
  }
  return parts.join('\n');
}
