/**
 * handleSummary's output: a text summary on stdout and, under <report dir>/<test id>/ (plus runner-<n>/ when
 * several k6-operator runners each write their own), the text, the raw JSON, JUnit XML and the Markdown
 * consistency report. No remote jslib: everything here is local code.
 */

import { type ConsistencyReportOptions, consistencyReport } from './consistency.ts';
import type { SummaryData } from './data.ts';
import { junitXml } from './junit.ts';
import { textSummary } from './text.ts';

export interface SummaryFilesOptions extends ConsistencyReportOptions {
  readonly scenario: string;
  readonly testId: string;
  readonly runner: string;
  readonly reportDir: string;
}

export function reportFolder(opts: Pick<SummaryFilesOptions, 'reportDir' | 'testId' | 'runner'>): string {
  const base = `${opts.reportDir}/${opts.testId}`;
  return opts.runner === '0' ? base : `${base}/runner-${opts.runner}`;
}

export function summaryFiles(data: SummaryData, opts: SummaryFilesOptions): Record<string, string> {
  const dir = reportFolder(opts);
  const header = [`test id: ${opts.testId}, runner: ${opts.runner}`, ...(opts.configLines ?? [])];
  const text = textSummary(data, `${opts.scenario} summary`, header);
  return {
    stdout: `${text}\nreports: ${dir}/\n`,
    [`${dir}/summary.txt`]: text,
    [`${dir}/summary.json`]: JSON.stringify(data, null, 2),
    [`${dir}/junit.xml`]: junitXml(data, `k6 ${opts.scenario}`),
    [`${dir}/consistency.md`]: consistencyReport(data, opts),
  };
}
