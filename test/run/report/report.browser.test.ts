/**
 * The HTML report in a real browser: headless Chromium (Debian `chromium`) through playwright-core, offline
 * (every request but the file is blocked), on a representative experiment whose summaries a stock k6 made
 * (k6-summaries.ts). It takes a screenshot (to a temp folder) and checks that the table and every chart are
 * there and drawn: canvases with ink on them, one legend entry per series. Skipped without chromium or k6.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reportCharts } from '../../../run/report/charts.ts';
import { renderReport } from '../../../run/report/html.ts';
import { measuredPoints, runRows } from '../../../run/report/model.ts';
import { describeWithBinary } from '../../helpers/k6-e2e.ts';
import { CHROMIUM, NO_CHROMIUM, type OpenedReport, openReport } from './browser.ts';
import { experimentRuns, type FixtureRun, NO_STOCK_K6, STOCK_K6 } from './k6-summaries.ts';

/** The little of a canvas element read here (the Node-side tsconfig has no DOM types). */
interface Canvas2D {
  readonly width: number;
  readonly height: number;
  getContext(
    kind: '2d',
  ): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}

describeWithBinary('HTML report in headless Chromium', CHROMIUM, NO_CHROMIUM, (chromium) => {
  describeWithBinary('on k6-made summaries', STOCK_K6, NO_STOCK_K6, (k6) => {
    let work = '';
    let runs: FixtureRun[] = [];
    let opened: OpenedReport | undefined;
    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'cqrs-report-browser-'));
      runs = await experimentRuns(k6, join(work, 'runs'));
      const file = join(work, 'report.html');
      writeFileSync(file, renderReport({ title: 'Experiment', generatedAt: '2026-01-01T00:00:00Z', runs }));
      opened = await openReport(chromium, file);
    }, 120_000);
    afterAll(async () => {
      await opened?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });
    const page = () => {
      if (!opened) throw new Error('the report did not open');
      return opened.page;
    };

    it('loads offline, without errors', () => {
      expect(opened?.blocked).toEqual([]);
      expect(opened?.errors).toEqual([]);
    });

    it('shows the comparison table with one row per run and the strategy table per API strategy', async () => {
      expect(await page().locator('#runs tbody tr').count()).toBe(runs.length);
      const strategies = runRows(runs).reduce((n, r) => n + r.strategies.length, 0);
      expect(strategies).toBeGreaterThan(0);
      expect(await page().locator('#strategies tbody tr').count()).toBe(strategies);
      const firstRow = await page().locator('#runs tbody tr').first().locator('td').allTextContents();
      expect(firstRow.slice(0, 3)).toEqual([runs[0]?.scenario, runs[0]?.strategy, runs[0]?.lag]);
    });

    it('draws every chart: a canvas with ink, a title and one legend entry per series', async () => {
      const charts = reportCharts(measuredPoints(runRows(runs)), runs);
      expect(charts).toHaveLength(5);
      for (const c of charts) {
        const plot = page().locator(`[data-chart="${c.id}"]`);
        expect(await plot.locator('.u-title').textContent(), c.id).toBe(c.title);
        // Faceted mode has no legend row for x: one row per series.
        const legend = await plot.locator('.u-legend .u-series .u-label').allTextContents();
        expect(legend, c.id).toEqual(c.series.map((s) => s.label));
        expect(await plot.getAttribute('data-axes'), c.id).toBe(
          [c.x, c.y].map((a) => (a.unit === 'time' ? a.label : `${a.label} (${a.unit})`)).join(' | '),
        );
        const inked = await plot.locator('canvas').evaluate((el) => {
          const canvas = el as unknown as Canvas2D;
          const ctx = canvas.getContext('2d');
          if (!ctx) return 0;
          const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
          let n = 0;
          for (let i = 3; i < px.length; i += 4) if ((px[i] ?? 0) > 0) n++;
          return n / (canvas.width * canvas.height);
        });
        // Grid and axes alone ink about 1-2%; the series add the rest.
        expect(inked, c.id).toBeGreaterThan(0.02);
      }
      expect(await page().locator('#freshness-waits tbody tr').count()).toBe(9);
    });

    it('takes a screenshot of the whole page', async () => {
      const shot = join(work, 'report.png');
      await page().screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(50_000);
    });
  });
});
