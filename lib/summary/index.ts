/**
 * handleSummary's output: a text summary on stdout and, under <report dir>/<test id>/, the text, the raw JSON,
 * JUnit XML and the Markdown consistency report (file names carry `.runner-<n>` when several k6-operator runners
 * each write their own). The text, the JUnit XML and the report list the verdicts (`opts.verdicts`) and no
 * keep-only threshold; summary.json stays k6's raw data, every expression included. No remote jslib:
 * everything here is local code.
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

export const REPORT_FILES = ['summary.txt', 'summary.json', 'junit.xml', 'consistency.md'] as const;

/**
 * The line stdout ends with. handleSummary cannot know whether the folder exists (k6 gives scripts no file
 * system, and writes the files only after this returns), so it names the files it hands k6 and says on what
 * condition they land; k6 itself prints "could not open …" for each it could not write. `npm start` lists the
 * files that exist after the run.
 */
export function reportsLine(dir: string, names: readonly string[]): string {
  return `reports: ${names.join(', ')} go to ${dir}/ if that folder exists (k6 does not create it; it names any file it could not write)`;
}

export function summaryFiles(data: SummaryData, opts: SummaryFilesOptions): Record<string, string> {
  const dir = reportFolder(opts);
  const name = (n: string) => reportFileName(n, opts.runner);
  const file = (n: string) => `${dir}/${name(n)}`;
  const header = [`test id: ${opts.testId}, runner: ${opts.runner}`, ...(opts.configLines ?? [])];
  const text = textSummary(data, `${opts.scenario} summary`, header, opts);
  const [txt, json, junit, md] = REPORT_FILES;
  return {
    stdout: `${text}\n${reportsLine(dir, REPORT_FILES.map(name))}\n`,
    [file(txt)]: text,
    [file(json)]: JSON.stringify(data, null, 2),
    [file(junit)]: junitXml(data, `k6 ${opts.scenario}`, opts.verdicts),
    [file(md)]: consistencyReport(data, opts),
  };
}
