/**
 * The report as one self-contained HTML page: inline CSS, the charts' data as inline JSON, uPlot and the
 * page's script inlined (assets.ts). Every text that comes from the input is escaped; the JSON is made safe
 * to sit inside a <script> element. Deterministic: the same input renders the same bytes.
 */

import { STRATEGY_COLUMNS, strategyCells as strategyRow } from '../../lib/api/report.ts';
import { freshAfter, ms, num, pct } from '../../lib/summary/format.ts';
import { FRESHNESS_NOTE } from '../../lib/summary/sections.ts';
import { runResult } from '../comparison.ts';
import { reportAssets } from './assets.ts';
import { type ChartSpec, reportCharts } from './charts.ts';
import { type MeasuredPoint, measuredPoints, type ReportInput, type RunRow, runRows } from './model.ts';

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** JSON that cannot end its <script> element or open a comment there. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** k6's exit code in words, as npm start's table says it; `-` when unknown. */
export function resultText(exitCode: number | undefined): string {
  return exitCode === undefined ? '-' : runResult(exitCode);
}

function table(id: string, header: readonly string[], rows: readonly (readonly string[])[]): string {
  const th = header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table id="${id}"><thead><tr>${th}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

const RUN_HEADER = [
  'scenario',
  'strategy',
  'injected lag',
  'stale rate',
  'vis p50',
  'vis p95',
  'vis p99',
  '99% fresh after',
  '99.9% fresh after',
  'timeouts',
  'hb lag p50',
  'hb lag p95',
  'writer p95',
  'reader p95',
  'missing',
  'result',
];

function runCells({ run, figures: f, strategies }: RunRow): string[] {
  const probed = f.probes > 0;
  const when = (yes: boolean, cell: () => string) => (yes ? cell() : '-');
  const strategy =
    run.strategy ?? (strategies.length > 0 ? strategies.map((s) => s.strategy).join(', ') : '-');
  return [
    run.scenario,
    strategy,
    run.lag,
    when(f.reads > 0, () => pct(f.staleRate)),
    when(probed, () => ms(f.visibilityLag?.p50)),
    when(probed, () => ms(f.visibilityLag?.p95)),
    when(probed, () => ms(f.visibilityLag?.p99)),
    when(probed, () => freshAfter(f.freshness, f.freshness?.t99Ms ?? null)),
    when(probed, () => freshAfter(f.freshness, f.freshness?.t999Ms ?? null)),
    when(probed, () => num(f.visibilityTimeouts)),
    when(f.heartbeatLag !== null, () => ms(f.heartbeatLag?.p50)),
    when(f.heartbeatLag !== null, () => ms(f.heartbeatLag?.p95)),
    ms(f.writer.latency?.p95),
    ms(f.reader.latency?.p95),
    num(f.reconcile.missingWriter + f.reconcile.missingReader),
    resultText(run.exitCode),
  ];
}

const STRATEGY_HEADER = ['scenario', 'injected lag', ...STRATEGY_COLUMNS];

function strategyCells(rows: readonly RunRow[]): string[][] {
  return rows.flatMap(({ run, strategies }) =>
    strategies.map((s) => [run.scenario, run.lag, ...strategyRow(s)]),
  );
}

function freshnessCells(points: readonly MeasuredPoint[]): string[][] {
  return points.flatMap((p) =>
    p.freshness
      ? [
          [
            p.series,
            p.lag,
            num(p.freshness.probes),
            num(p.freshness.timeouts),
            freshAfter(p.freshness, p.freshness.t99Ms),
            freshAfter(p.freshness, p.freshness.t999Ms),
          ],
        ]
      : [],
  );
}

function chartFigure(c: ChartSpec, beside = ''): string {
  return [
    `<figure class="chart" id="${c.id}">`,
    beside
      ? `<div class="side"><div class="plot" data-chart="${c.id}"></div>${beside}</div>`
      : `<div class="plot" data-chart="${c.id}"></div>`,
    `<figcaption>${escapeHtml(c.note)}</figcaption>`,
    '</figure>',
  ].join('\n');
}

const CSS = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1d1d1f; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.meta, figcaption, .note { color: #555; font-size: 12.5px; }
table { border-collapse: collapse; font-size: 12.5px; margin: 6px 0; }
th, td { border: 1px solid #d8d8d8; padding: 3px 7px; text-align: right; white-space: nowrap; }
th { background: #f3f4f6; }
td:first-child, th:first-child { text-align: left; }
.wide { overflow-x: auto; }
figure.chart { margin: 10px 0 24px; }
.side { display: flex; gap: 24px; align-items: flex-start; }
.side > * { flex: none; }
`;

export function renderReport(input: ReportInput): string {
  const rows = runRows(input.runs);
  const points = measuredPoints(rows);
  const charts = reportCharts(points, input.runs);
  const chart = (id: string) => charts.find((c) => c.id === id);
  const strategyRows = strategyCells(rows);
  const a = reportAssets();
  const sections: string[] = [];
  if (rows.length > 0) {
    sections.push(
      '<h2>Comparison</h2>',
      `<div class="wide">${table('runs', RUN_HEADER, rows.map(runCells))}</div>`,
      `<p class="note">${escapeHtml(FRESHNESS_NOTE)} ` +
        'Missing: acknowledged writes absent on the writer or the reader at the end.</p>',
    );
  }
  if (strategyRows.length > 0) {
    sections.push(
      '<h2>Strategies (API runs)</h2>',
      `<div class="wide">${table('strategies', STRATEGY_HEADER, strategyRows)}</div>`,
      '<p class="note">Primary offload: share of client reads served by the replica or the cache ' +
        '(X-Read-Source).</p>',
    );
  }
  for (const c of charts) {
    if (c.id === 'freshness') continue;
    sections.push(`<h2>${escapeHtml(c.title)}</h2>`, chartFigure(c));
  }
  const fresh = chart('freshness');
  if (fresh) {
    const beside = table(
      'freshness-waits',
      ['series', 'injected lag', 'probes', 'timeouts', '99% fresh after', '99.9% fresh after'],
      freshnessCells(points),
    );
    sections.push(
      `<h2>${escapeHtml(fresh.title)}</h2>`,
      chartFigure(fresh, `<div class="waits">${beside}</div>`),
    );
  }
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(input.title)}</title>`,
    `<style>${a.uplotCss}\n${CSS}</style>`,
    '</head><body>',
    `<h1>${escapeHtml(input.title)}</h1>`,
    `<p class="meta">Generated ${escapeHtml(input.generatedAt)} from ${rows.length} run${rows.length === 1 ? '' : 's'}: ` +
      `${escapeHtml(input.runs.map((r) => r.testId).join(', '))}</p>`,
    ...sections,
    `<script type="application/json" id="report-charts">${scriptJson(charts)}</script>`,
    `<script>${a.uplotJs}</script>`,
    `<script>${a.clientJs}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
