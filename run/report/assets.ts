/**
 * What the page inlines so that it opens with no network: uPlot's script and stylesheet, read from the
 * installed package at render time (never copied into the repository), and the page's own script.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface ReportAssets {
  readonly uplotJs: string;
  readonly uplotCss: string;
  /** client.js: draws the charts from the page's JSON. */
  readonly clientJs: string;
}

let cached: ReportAssets | undefined;

export function reportAssets(): ReportAssets {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const read = (path: string) => readFileSync(path, 'utf8');
  cached = {
    uplotJs: read(require.resolve('uplot/dist/uPlot.iife.min.js')),
    uplotCss: read(require.resolve('uplot/dist/uPlot.min.css')),
    clientJs: read(fileURLToPath(new URL('./client.js', import.meta.url))),
  };
  return cached;
}
