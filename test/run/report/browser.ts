/**
 * Opens a report file in headless Chromium (Debian's `chromium`, or CHROMIUM_BIN) through playwright-core,
 * offline: every request other than the file itself is aborted and recorded, so a report that needs the
 * network shows up as a blocked request instead of a page that happens to work here.
 */
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import which from 'which';

export const CHROMIUM: string | undefined =
  process.env.CHROMIUM_BIN || which.sync('chromium', { nothrow: true }) || undefined;
export const NO_CHROMIUM =
  'no chromium: CHROMIUM_BIN is unset and `chromium` is not on PATH (Debian: apt-get install chromium)';

export interface OpenedReport {
  readonly page: Page;
  /** Requests the page tried besides its own file. */
  readonly blocked: readonly string[];
  /** Uncaught errors and console errors of the page. */
  readonly errors: readonly string[];
  close(): Promise<void>;
}

export async function openReport(
  chromiumPath: string,
  file: string,
  viewport = { width: 1400, height: 900 },
): Promise<OpenedReport> {
  const browser: Browser = await chromium.launch({ executablePath: chromiumPath, headless: true });
  try {
    const url = pathToFileURL(file).href;
    const page = await browser.newPage({ viewport, deviceScaleFactor: 1 });
    const blocked: string[] = [];
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.route('**/*', (route) => {
      const target = route.request().url();
      if (target === url) return route.continue();
      blocked.push(target);
      return route.abort();
    });
    await page.goto(url, { waitUntil: 'load' });
    return { page, blocked, errors, close: () => browser.close() };
  } catch (err) {
    await browser.close();
    throw err;
  }
}
