/**
 * A readable plain-text summary for stdout. k6 prints nothing of its own end-of-test summary when a script
 * exports handleSummary (checked on k6 v1.1 and v2.2): this text replaces it, so the keep-only thresholds k6 also
 * evaluated never show; only the verdicts do.
 */
import { type SummaryData, type Thresholds, thresholdResults, thresholdTally } from './data.ts';
import { type FigureOptions, generatorFigures, generatorWarning } from './figures.ts';
import { ms, num, pct } from './format.ts';

function metricLine(name: string, m: SummaryData['metrics'][string]): string {
  const v = m.values;
  switch (m.type) {
    case 'trend': {
      const f = m.contains === 'time' ? ms : (x: number | undefined) => num(x, 2);
      return `${name}: avg=${f(v.avg)} p50=${f(v.med)} p95=${f(v['p(95)'])} p99=${f(v['p(99)'])} max=${f(v.max)} n=${num(v.count)}`;
    }
    case 'counter':
      return `${name}: ${num(v.count)} (${num(v.rate, 2)}/s)`;
    case 'rate':
      return `${name}: ${num((v.rate ?? 0) * 100, 2)}% (${num(v.passes)} of ${num((v.passes ?? 0) + (v.fails ?? 0))})`;
    case 'gauge':
      return `${name}: last=${num(v.value, 2)} min=${num(v.min, 2)} max=${num(v.max, 2)}`;
  }
}

export interface TextSummaryOptions extends FigureOptions {
  /** The user-facing thresholds: the only ones listed. */
  readonly verdicts: Thresholds;
}

export function textSummary(
  data: SummaryData,
  title: string,
  headerLines: readonly string[],
  opts: TextSummaryOptions,
): string {
  // A run the load generator held back says so first: its lags and latencies are not the system's alone.
  const g = generatorFigures(data, opts);
  const warning = generatorWarning(g);
  // k6 omits dropped_iterations when nothing was dropped: the figure is shown here either way.
  const generator = `load generator: ${num(g.iterations)} iterations started, ${num(g.dropped)} dropped${
    g.startedShare === null ? '' : ` (${pct(g.startedShare)} of schedule)`
  }`;
  const lines = [
    `${title}`,
    ...(warning ? [`  ${warning}`] : []),
    ...headerLines.map((l) => `  ${l}`),
    `  ${generator}`,
    '',
  ];
  for (const name of Object.keys(data.metrics).sort()) {
    lines.push(`  ${metricLine(name, data.metrics[name] as SummaryData['metrics'][string])}`);
  }
  const thresholds = thresholdResults(data, opts.verdicts);
  if (thresholds.length > 0) {
    lines.push('', '  thresholds:');
    for (const t of thresholds) {
      const mark = t.ok === null ? '?' : t.ok ? '✓' : '✗';
      lines.push(`    ${mark} ${t.metric}: ${t.expression}${t.ok === null ? ' (not evaluated)' : ''}`);
    }
    const { failed, unevaluated } = thresholdTally(thresholds);
    const outcome =
      failed > 0
        ? `${failed} threshold(s) failed`
        : unevaluated > 0
          ? 'no threshold failed'
          : 'all thresholds passed';
    lines.push(`  ${outcome}${unevaluated > 0 ? `; ${unevaluated} not evaluated` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
