import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { K6_METRICS } from '../../common/metrics.ts';
import { CONFIG_SCHEMA } from '../../lib/config.ts';
import { consistencyFigures } from '../../lib/summary/figures.ts';
import { comparisonTable, GENERATOR_FOOTNOTE } from '../../run/comparison.ts';
import {
  experimentSettings,
  k6Placement,
  refuseUsedReportDir,
  reportListing,
  workloadMs,
} from '../../run/experiment.ts';
import { PROJECT_ROOT } from '../../stack/config.ts';

describe('npm start (experiment)', () => {
  it('defaults to lags 0, 5 ms, 50 ms for 10 s each, and validates overrides', () => {
    expect(experimentSettings({})).toEqual({
      lags: ['0', '5ms', '50ms'],
      duration: '10s',
      // Every run streams to the stack's Prometheus unless told not to.
      remoteWrite: true,
      webDashboard: false,
      reportRoot: join(PROJECT_ROOT, 'reports'),
      bundleRoot: join(PROJECT_ROOT, 'dist'),
    });
    expect(experimentSettings({ CQRS_EXP_LAGS: '20ms, 200ms', CQRS_EXP_DURATION: '1m' })).toMatchObject({
      lags: ['20ms', '200ms'],
      duration: '1m',
    });
    expect(() => experimentSettings({ CQRS_EXP_LAGS: '0,freeze' })).toThrow(
      'invalid CQRS_EXP_LAGS; reason: expected delays like 0,5ms,50ms, got "freeze"',
    );
    expect(() => experimentSettings({ CQRS_EXP_LAGS: '0,bogus' })).toThrow(
      'invalid CQRS_EXP_LAGS; reason: expected delays like 0,5ms,50ms, got "bogus"',
    );
    expect(() => experimentSettings({ CQRS_EXP_LAGS: ' , ' })).toThrow(/^invalid CQRS_EXP_LAGS; reason: /);
    // Checked as k6 will check it once it is CQRS_DURATION.
    expect(() => experimentSettings({ CQRS_EXP_DURATION: '500ms' })).toThrow(
      `invalid CQRS_EXP_DURATION; reason: expected ${CONFIG_SCHEMA.durationMs.parser.expected}, got "500ms"`,
    );
    expect(() => experimentSettings({ CQRS_EXP_REMOTE_WRITE: 'yes' })).toThrow(
      'invalid CQRS_EXP_REMOTE_WRITE; reason: expected one of 0|1, got "yes"',
    );
    expect(experimentSettings({ CQRS_EXP_REMOTE_WRITE: '0' }).remoteWrite).toBe(false);
    expect(experimentSettings({ CQRS_EXP_WEB_DASHBOARD: '1' }).webDashboard).toBe(true);
  });

  it('puts the reports under CQRS_REPORT_DIR, relative to the project or absolute', () => {
    expect(experimentSettings({ CQRS_REPORT_DIR: 'out/runs/' }).reportRoot).toBe(
      join(PROJECT_ROOT, 'out/runs'),
    );
    expect(experimentSettings({ CQRS_REPORT_DIR: '/tmp/cqrs-reports' }).reportRoot).toBe('/tmp/cqrs-reports');
    expect(() => experimentSettings({ CQRS_REPORT_DIR: '/' })).toThrow(
      'invalid CQRS_REPORT_DIR; reason: expected a folder below the file system root, got "/"',
    );
  });

  it('hands k6 a CQRS_REPORT_DIR it accepts (relative, no "..") that names the same folder', () => {
    // Inside the project: k6 runs at the project root, as it always has.
    const inside = k6Placement(join(PROJECT_ROOT, 'reports'));
    expect(inside).toMatchObject({ cwd: PROJECT_ROOT, reportDir: 'reports' });
    expect(inside.script('sql-replica-lag')).toBe('dist/sql-replica-lag.js');
    expect(k6Placement(join(PROJECT_ROOT, 'out/runs')).reportDir).toBe('out/runs');
    // Elsewhere: k6 runs in the folder's parent and gets the bundle's full path.
    const outside = k6Placement('/tmp/x/reports');
    expect(outside).toMatchObject({ cwd: '/tmp/x', reportDir: 'reports' });
    expect(outside.script('sql-replica-lag')).toBe(join(PROJECT_ROOT, 'dist/sql-replica-lag.js'));
    // CQRS_BUNDLE_DIR elsewhere: named in full; below k6's folder: relative to it.
    expect(k6Placement(join(PROJECT_ROOT, 'reports'), '/tmp/b').script('x')).toBe('/tmp/b/x.js');
    expect(k6Placement('/tmp/x/reports', '/tmp/x/dist').script('x')).toBe('dist/x.js');
    for (const root of [
      join(PROJECT_ROOT, 'reports'),
      join(PROJECT_ROOT, 'a/b'),
      '/tmp/x/reports',
      PROJECT_ROOT,
    ]) {
      const p = k6Placement(root);
      expect(p.reportDir).not.toMatch(/^\/|(^|\/)\.\.(\/|$)/);
      expect(join(p.cwd, p.reportDir)).toBe(root);
    }
  });

  it("reads each run's generator rates over its profile's schedule", () => {
    expect(workloadMs({}, '10s')).toBe(10_000);
    expect(workloadMs({ CQRS_PROFILE: 'load' }, '10s')).toBe(12_000);
    expect(workloadMs({ CQRS_PROFILE: 'nope' }, '10s')).toBeUndefined();
  });

  it('exits 1 with one line naming both ways to get k6 when there is none', async () => {
    const run = await execa('npx', ['tsx', 'run/experiment.ts'], {
      reject: false,
      env: {
        PATH: process.env.PATH?.split(':')
          .filter((d) => !d.includes('k6'))
          .join(':'),
        K6_BIN: '',
      },
      extendEnv: false,
    });
    expect(run.exitCode).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(
      /^npm start: no k6 found .*automatic extension resolution.*xk6 recipe in build\/xk6\//,
    );
  });

  it('prints one comparison row per run', () => {
    const figures = consistencyFigures({
      metrics: {
        [K6_METRICS.probeWrites.name]: { type: 'counter', values: { count: 100 } },
        [K6_METRICS.probeReads.name]: { type: 'counter', values: { count: 100 } },
        [K6_METRICS.staleReads.name]: { type: 'counter', values: { count: 97 } },
        [K6_METRICS.visibilityLag.name]: {
          type: 'trend',
          values: { med: 53.3, 'p(95)': 56, 'p(99)': 58, max: 60, avg: 53, count: 100 },
        },
      },
    });
    const table = comparisonTable([
      { scenario: 'sql-read-after-write', lag: '50ms', figures, exitCode: 0 },
      { scenario: 'sql-replica-lag', lag: '50ms', figures: null, exitCode: 107 },
      { scenario: 'sql-replica-lag', lag: '0', figures: null, exitCode: 108 },
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[2]).toMatch(
      // 100 probes, none timed out: 99% fresh after p(99); p(99.9) not kept in this summary, so the max.
      /^sql-read-after-write\s+50ms\s+97\.0%\s+53\.3 ms\s+56\.0 ms\s+58\.0 ms\s+58\.0 ms\s+60\.0 ms\s+0\s+-\s+-/,
    );
    expect(lines[2]).toMatch(/ok$/);
    expect(lines[3]).toMatch(/config or script error \(k6 exit 107\)$/);
    expect(lines[4]).toMatch(/setup refused \(k6 exit 108\)$/);
    expect(table).not.toContain('⚠');
  });

  it('marks a run whose load generator was the limit, with a footnote under the table', () => {
    const run = (dropped: number) =>
      consistencyFigures({
        state: { testRunDurationMs: 10_000 },
        metrics: {
          [K6_METRICS.probeWrites.name]: { type: 'counter', values: { count: 100 } },
          [K6_METRICS.probeReads.name]: { type: 'counter', values: { count: 100 } },
          [K6_METRICS.staleReads.name]: { type: 'counter', values: { count: 11 } },
          iterations: { type: 'counter', values: { count: 7241, rate: 724.1 } },
          ...(dropped > 0
            ? { dropped_iterations: { type: 'counter' as const, values: { count: dropped } } }
            : {}),
        },
      });
    const table = comparisonTable([
      { scenario: 'sql-read-after-write', lag: '0', figures: run(8759), exitCode: 0 },
      { scenario: 'sql-replica-lag', lag: '0', figures: run(0), exitCode: 0 },
    ]);
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/\bmissing\s+generator\s+result$/);
    expect(lines[2]).toMatch(/\s⚠ 45\.3% of rate\s+ok$/);
    expect(lines[3]).toMatch(/\s0\s+ok\s+ok$/);
    expect(lines.slice(4)).toEqual(['', GENERATOR_FOOTNOTE]);
    expect(GENERATOR_FOOTNOTE).toMatch(/^⚠ generator: k6 dropped iterations.*generator's own queueing/);
  });

  it('refuses a report folder that already holds files, unless CQRS_REUSE_TEST_ID=1', () => {
    const root = mkdtempSync(join(tmpdir(), 'cqrs-exp-dirs-'));
    try {
      const used = join(root, 'exp-1');
      mkdirSync(used);
      // Missing or empty: a fresh run.
      expect(() => refuseUsedReportDir(join(root, 'missing'), {})).not.toThrow();
      expect(() => refuseUsedReportDir(used, {})).not.toThrow();
      writeFileSync(join(used, 'consistency.md'), '# earlier run');
      expect(() => refuseUsedReportDir(used, {})).toThrow(
        /exp-1\/ already holds a run's reports \(consistency\.md\); remove it, or set CQRS_REUSE_TEST_ID=1/,
      );
      expect(() => refuseUsedReportDir(used, { CQRS_REUSE_TEST_ID: '1' })).not.toThrow();
      expect(() => refuseUsedReportDir(used, { CQRS_REUSE_TEST_ID: '0' })).toThrow(/already holds/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('lists the report files that exist, per run, and says when a run wrote nothing', () => {
    const root = mkdtempSync(join(tmpdir(), 'cqrs-exp-list-'));
    try {
      mkdirSync(join(root, 'a'));
      for (const f of ['summary.json', 'k6.log', 'consistency.md']) writeFileSync(join(root, 'a', f), '');
      mkdirSync(join(root, 'b'));
      expect(reportListing([join(root, 'a'), join(root, 'b'), join(root, 'c')])).toEqual([
        '  a/: consistency.md, k6.log, summary.json',
        '  b/: nothing was written',
        '  c/: nothing was written',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
