/**
 * `npm run report`: one folder gives its report.html, several need --out, and bad input is one line on stderr
 * with a non-zero exit. Runs the CLI as npm does (build/node-cli.mjs), on folders in a temp directory.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { K6_METRICS } from '../../../common/metrics.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const work = mkdtempSync(join(tmpdir(), 'cqrs-report-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const report = (...args: string[]) =>
  execa('node', [join(ROOT, 'build/node-cli.mjs'), join(ROOT, 'run/report/cli.ts'), ...args], {
    cwd: work,
    reject: false,
    all: true,
  });

function runDir(name: string, meta?: object): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const lag = { count: 4, min: 1, med: 2, max: 9, 'p(95)': 8, 'p(99)': 9, 'p(99.9)': 9 };
  const summary = {
    setup_data: { scenario: 'sql-read-after-write', runId: name },
    metrics: {
      [K6_METRICS.probeWrites.name]: { type: 'counter', values: { count: 4, rate: 1 } },
      [K6_METRICS.probeReads.name]: { type: 'counter', values: { count: 4, rate: 1 } },
      [K6_METRICS.visibilityLag.name]: { type: 'trend', contains: 'time', values: lag },
    },
  };
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
  if (meta) writeFileSync(join(dir, 'run.json'), JSON.stringify(meta));
  return dir;
}

describe('npm run report', () => {
  it('writes <folder>/report.html for one folder, with the scenario from setup and the lag from run.json', async () => {
    const dir = runDir('exp-a', { lag: '5ms', exitCode: 0 });
    const r = await report(dir);
    expect(r.exitCode, r.all).toBe(0);
    expect(r.all).toBe('report: exp-a/report.html');
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<td>sql-read-after-write</td><td>-</td><td>5ms</td>');
  }, 60_000);

  it('writes one experiment report at --out for several folders', async () => {
    const dirs = [runDir('exp-b'), runDir('exp-c')];
    const out = join(work, 'out', 'experiment.html');
    const r = await report(...dirs, '--out', out, '--title', 'Two runs');
    expect(r.exitCode, r.all).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<title>Two runs</title>');
    const runs = html.slice(html.indexOf('<table id="runs">'), html.indexOf('</table>'));
    expect(runs.match(/<tr><td>sql-read-after-write<\/td>/g)).toHaveLength(2);
  }, 60_000);

  const failures: [string, string[], number, RegExp][] = [
    ['no folder', [], 2, /^report: usage: npm run report -- <report folder>/],
    ['several folders without --out', ['a', 'b'], 2, /^report: 2 report folders make one experiment report/],
    ['an unknown option', ['--bogus'], 2, /^report: Unknown option '--bogus'.*; usage:/],
    ['a missing folder', ['nowhere'], 1, /^report: nowhere: no such folder$/],
  ];
  for (const [what, args, code, message] of failures) {
    it(`refuses ${what} in one line, exit ${code}`, async () => {
      const r = await report(...args);
      expect(r.exitCode, r.all).toBe(code);
      expect(r.stderr.split('\n'), r.all).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }, 60_000);
  }

  it('refuses a folder without summary.json, and one whose summary is not JSON', async () => {
    const empty = join(work, 'empty');
    mkdirSync(empty);
    const r = await report(empty);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe(`report: ${empty}: no summary.json (not a run's report folder?)`);
    const broken = runDir('broken');
    writeFileSync(join(broken, 'summary.json'), '{');
    const b = await report(broken);
    expect(b.exitCode).toBe(1);
    expect(b.stderr).toMatch(/^report: .*summary\.json: not valid JSON/);
    expect(existsSync(join(broken, 'report.html'))).toBe(false);
  }, 60_000);
});
