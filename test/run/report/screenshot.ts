/**
 * Regenerates the docs image of the HTML report: `npx tsx test/run/report/screenshot.ts docs/images/report.png
 * [report folders…]`. Without folders it renders the representative experiment of k6-summaries.ts (a stock
 * k6 makes its summaries); with them, those runs' summary.json files. Not a test: tests never write into the
 * work tree, and this writes the committed image.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readReportRun } from '../../../run/report/files.ts';
import { renderReport } from '../../../run/report/html.ts';
import type { ReportRun } from '../../../run/report/model.ts';
import { CHROMIUM, NO_CHROMIUM, openReport } from './browser.ts';
import { experimentRuns, NO_STOCK_K6, STOCK_K6 } from './k6-summaries.ts';

async function main([out, ...dirs]: string[]): Promise<void> {
  if (!out) throw new Error('usage: npx tsx test/run/report/screenshot.ts <out.png> [report folders…]');
  if (!CHROMIUM) throw new Error(NO_CHROMIUM);
  const work = mkdtempSync(join(tmpdir(), 'cqrs-report-shot-'));
  try {
    let runs: ReportRun[];
    if (dirs.length > 0) runs = dirs.map((d) => readReportRun(d));
    else if (STOCK_K6) runs = await experimentRuns(STOCK_K6, join(work, 'runs'));
    else throw new Error(NO_STOCK_K6);
    const file = join(work, 'report.html');
    writeFileSync(
      file,
      renderReport({ title: 'CQRS experiment', generatedAt: '2026-01-01T00:00:00Z', runs }),
    );
    const opened = await openReport(CHROMIUM, file, { width: 1640, height: 900 });
    try {
      if (opened.blocked.length || opened.errors.length)
        throw new Error(
          `the report did not load cleanly: ${[...opened.blocked, ...opened.errors].join('; ')}`,
        );
      await opened.page.screenshot({ path: resolve(out), fullPage: true });
    } finally {
      await opened.close();
    }
    console.log(`screenshot: ${out}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(`screenshot: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
