/** JUnit XML for CI: one test case per threshold expression, failed when k6 marked it not ok. */
import { type SummaryData, thresholdResults } from './data.ts';

export function xmlEscape(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function junitXml(data: SummaryData, suiteName: string): string {
  const results = thresholdResults(data);
  const failures = results.filter((r) => !r.ok).length;
  const seconds = ((data.state?.testRunDurationMs ?? 0) / 1000).toFixed(3);
  const cases = results.map((r) => {
    const name = xmlEscape(`${r.metric}: ${r.expression}`);
    const open = `    <testcase classname="${xmlEscape(suiteName)}" name="${name}"`;
    return r.ok
      ? `${open}/>`
      : `${open}>\n      <failure message="${xmlEscape(`threshold ${r.expression} on ${r.metric} failed`)}"/>\n    </testcase>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites tests="${results.length}" failures="${failures}">`,
    `  <testsuite name="${xmlEscape(suiteName)}" tests="${results.length}" failures="${failures}" time="${seconds}">`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
