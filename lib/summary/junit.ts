/**
 * JUnit XML for CI: one test case per user-facing threshold (the verdicts: defaults and CQRS_THRESHOLDS, never
 * the keep-only ones), failed when k6 marked it not ok, skipped when the summary holds no result for it.
 */
import { type SummaryData, type Thresholds, thresholdResults, thresholdTally } from './data.ts';

export function xmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function junitXml(data: SummaryData, suiteName: string, verdicts: Thresholds): string {
  const results = thresholdResults(data, verdicts);
  const { failed: failures, unevaluated: skipped } = thresholdTally(results);
  const seconds = ((data.state?.testRunDurationMs ?? 0) / 1000).toFixed(3);
  const cases = results.map((r) => {
    const name = xmlEscape(`${r.metric}: ${r.expression}`);
    const open = `    <testcase classname="${xmlEscape(suiteName)}" name="${name}"`;
    if (r.ok) return `${open}/>`;
    const inner =
      r.ok === null
        ? `<skipped message="${xmlEscape(`threshold ${r.expression} on ${r.metric} was not evaluated (k6 --no-thresholds?)`)}"/>`
        : `<failure message="${xmlEscape(`threshold ${r.expression} on ${r.metric} failed`)}"/>`;
    return `${open}>\n      ${inner}\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites tests="${results.length}" failures="${failures}">`,
    `  <testsuite name="${xmlEscape(suiteName)}" tests="${results.length}" failures="${failures}" skipped="${skipped}" time="${seconds}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
