/**
 * handleSummary's output: a text summary on stdout and, under <report dir>/<test id>/, the text, the raw JSON,
 * JUnit XML and the Markdown consistency report (file names carry `.runner-<n>` when several k6-operator runners
 * each write their own). No remote jslib: everything here is local code.
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

/**
 * One folder per test id, shared by every runner: k6 writes handleSummary files but does not create folders, so
 * only a folder made before the run (`mkdir -p reports/<test id>`) can hold them.
 */
export function reportFolder(opts: Pick<SummaryFilesOptions, 'reportDir' | 'testId'>): string {
  return `${opts.reportDir}/${opts.testId}`;
}

/** `summary.json` for runner 0 (the only one outside k6-operator), `summary.runner-2.json` for runner 2. */
export function reportFileName(name: string, runner: string): string {
  if (runner === '0') return name;
  const dot = name.lastIndexOf('.');
  return dot < 0 ? `${name}.runner-${runner}` : `${name.slice(0, dot)}.runner-${runner}${name.slice(dot)}`;
}

export function summaryFiles(data: SummaryData, opts: SummaryFilesOptions): Record<string, string> {
  const dir = reportFolder(opts);
  const file = (name: string) => `${dir}/${reportFileName(name, opts.runner)}`;
  const header = [`test id: ${opts.testId}, runner: ${opts.runner}`, ...(opts.configLines ?? [])];
  const text = textSummary(data, `${opts.scenario} summary`, header, opts);
  return {
    stdout: `${text}\nreports: ${opts.runner === '0' ? `${dir}/` : file('*.*')}\n`,
    [file('summary.txt')]: text,
    [file('summary.json')]: JSON.stringify(data, null, 2),
    [file('junit.xml')]: junitXml(data, `k6 ${opts.scenario}`),
    [file('consistency.md')]: consistencyReport(data, opts),
  };
}
