/** Number formatting shared by the text summary, the Markdown report and the comparison table. */
export function ms(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return 'n/a';
  return value < 10
    ? `${value.toFixed(2)} ms`
    : value < 1000
      ? `${value.toFixed(1)} ms`
      : `${(value / 1000).toFixed(2)} s`;
}

/**
 * A t-visibility figure (lib/summary/freshness.ts): the wait after a write, `> timeout` when that share of
 * reads was never fresh within the probe timeout, `n/a` without a curve.
 */
export function freshAfter(
  curve: { readonly points: readonly unknown[] } | null,
  value: number | null,
): string {
  if (curve === null) return 'n/a';
  return value === null ? '> timeout' : ms(value);
}

export function pct(value: number | null | undefined): string {
  return value === null || value === undefined || Number.isNaN(value)
    ? 'n/a'
    : `${(value * 100).toFixed(1)}%`;
}

export function num(value: number | null | undefined, digits = 0): string {
  return value === null || value === undefined || Number.isNaN(value) ? 'n/a' : value.toFixed(digits);
}

/** A Markdown table; cells are escaped for pipes. */
export function mdTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}
