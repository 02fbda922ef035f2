/**
 * The generated parts of docs/k6-scenarios.md: the variable table (from the config schema) and the metric
 * table (from the metric registry). A test keeps the document equal to these; run this file
 * (`npx tsx test/helpers/doc-blocks.ts`) to write them into the document.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { K6_METRICS, nativeHistogramSeries, remoteWriteSeries } from '../../common/metrics.ts';
import { configTableMarkdown } from '../../lib/config.ts';
import { mdTable } from '../../lib/summary/format.ts';

export const DOC_BLOCKS = {
  config: () => padTable(configTableMarkdown()),
  metrics: (): string =>
    padTable(
      mdTable(
        ['k6 metric', 'type', 'Prometheus series (remote write)', 'meaning'],
        Object.values(K6_METRICS).map((m) => [
          `\`${m.name}\``,
          m.kind + (m.isTime ? ' (ms)' : ''),
          m.kind === 'trend'
            ? `\`${nativeHistogramSeries(m)}\` (native histogram), else \`${remoteWriteSeries(m, 'p(95)')}\` …`
            : `\`${remoteWriteSeries(m)}\``,
          m.help,
        ]),
      ),
    ),
} as const;

export type DocBlock = keyof typeof DOC_BLOCKS;

export const blockStart = (name: DocBlock) =>
  `<!-- generated:${name} (edit lib/config.ts or common/metrics.ts) -->`;
export const blockEnd = (name: DocBlock) => `<!-- /generated:${name} -->`;

export const DOC_PATH = 'docs/k6-scenarios.md';

/** A Markdown table's rows as cells; an escaped `\|` stays inside its cell. */
export function tableCells(markdown: string): string[][] {
  return markdown.split('\n').map((line) =>
    line
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((c) => c.trim()),
  );
}

/** Columns padded to one width, as the docs are written, so that the raw Markdown reads as a table too. */
export function padTable(markdown: string): string {
  const rows = tableCells(markdown);
  // Code points, not UTF-16 units: "→" is one column wide.
  const width = (cell: string) => [...cell].length;
  const widths = (rows[0] ?? []).map((_, i) => Math.max(3, ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: readonly string[], fill: (cell: string, w: number) => string) =>
    `| ${widths.map((w, i) => fill(cells[i] ?? '', w)).join(' | ')} |`;
  return rows
    .map((r, i) =>
      i === 1 ? line(r, (_, w) => '-'.repeat(w)) : line(r, (c, w) => c + ' '.repeat(w - width(c))),
    )
    .join('\n');
}

/** `doc` with every generated block replaced by what the code generates now. */
export function withBlocks(doc: string): string {
  let out = doc;
  for (const name of Object.keys(DOC_BLOCKS) as DocBlock[]) {
    const start = out.indexOf(blockStart(name));
    const end = out.indexOf(blockEnd(name));
    if (start < 0 || end < start) throw new Error(`${DOC_PATH}: no ${blockStart(name)} … ${blockEnd(name)}`);
    out = `${out.slice(0, start)}${blockStart(name)}\n${DOC_BLOCKS[name]()}\n${out.slice(end)}`;
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    writeFileSync(DOC_PATH, withBlocks(readFileSync(DOC_PATH, 'utf8')));
    console.log(`${DOC_PATH}: generated blocks written`);
  } catch (err) {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
