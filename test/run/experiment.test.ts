import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { K6_METRICS } from '../../common/metrics.ts';
import { consistencyFigures } from '../../lib/summary/figures.ts';
import { comparisonTable, GENERATOR_FOOTNOTE } from '../../run/comparison.ts';
import { experimentSettings, refuseUsedReportDir, reportListing, workloadMs } from '../../run/experiment.ts';

describe('npm start (experiment)', () => {
  it('defaults to lags 0, 5 ms, 50 ms for 10 s each, and validates overrides', () => {
    expect(experimentSettings({})).toEqual({
      lags: ['0', '5ms', '50ms'],
      duration: '10s',
      remoteWrite: false,
    });
    expect(experimentSettings({ CQRS_EXP_LAGS: '20ms, 200ms', CQRS_EXP_DURATION: '1m' })).toMatchObject({
      lags: ['20ms', '200ms'],
      duration: '1m',
    });
    expect(() => experimentSettings({ CQRS_EXP_LAGS: '0,freeze' })).toThrow(
      'invalid CQRS_EXP_LAGS; reason: expected delays like 0,5ms,50ms, got "freeze"',
    );
    expect(() => experimentSettings({ CQRS_EXP_DURATION: '500ms' })).toThrow(/invalid CQRS_EXP_DURATION/);
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
      /^sql-read-after-write\s+50ms\s+97\.0%\s+53\.3 ms\s+56\.0 ms\s+58\.0 ms\s+0\s+-\s+-/,
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
