import { describe, expect, it } from 'vitest';
import { newTestId } from '../../common/k6-output.ts';
import { CONFIG_SCHEMA } from '../../lib/config.ts';
import { comparisonTable, topologyStrategyTable } from '../../run/comparison.ts';
import {
  comparedStrategies,
  experimentMode,
  lagsFor,
  plannedTestIds,
  planRuns,
  sqlStrategiesOn,
} from '../../run/experiment.ts';

const lags = { lags: ['0', '5ms', '50ms'] };

describe('npm start -- --topology', () => {
  it('takes async|cluster|both from the flag, else from CQRS_STACK_TOPOLOGY, else async', () => {
    expect(experimentMode([], {})).toBe('async');
    expect(experimentMode([], { CQRS_STACK_TOPOLOGY: 'cluster' })).toBe('cluster');
    expect(experimentMode(['--topology', 'both'], { CQRS_STACK_TOPOLOGY: 'cluster' })).toBe('both');
    expect(experimentMode(['--topology=async'], {})).toBe('async');
    expect(() => experimentMode(['--topology', 'galera'], {})).toThrow(
      'invalid --topology "galera"; expected one of async|cluster|both',
    );
    expect(() => experimentMode(['--lags', '5ms'], {})).toThrow(/--lags/);
    // The stack's variable is read with its own schema: it cannot say both, and empty is unset.
    expect(experimentMode([], { CQRS_STACK_TOPOLOGY: '' })).toBe('async');
    expect(() => experimentMode([], { CQRS_STACK_TOPOLOGY: 'both' })).toThrow(
      'invalid CQRS_STACK_TOPOLOGY; reason: expected one of async|cluster, got "both"',
    );
  });

  it('runs the cluster at its natural lag only, and refuses a steady lag asked for it alone', () => {
    expect(lagsFor('async', lags, {})).toEqual(['0', '5ms', '50ms']);
    expect(lagsFor('cluster', lags, {})).toEqual(['0']);
    expect(lagsFor('cluster', { lags: ['0'] }, { CQRS_EXP_LAGS: '0' })).toEqual(['0']);
    expect(lagsFor('cluster', { lags: ['0ms'] }, { CQRS_EXP_LAGS: '0ms' })).toEqual(['0']);
    expect(() => lagsFor('cluster', { lags: ['50ms'] }, { CQRS_EXP_LAGS: '50ms' })).toThrow(
      /^invalid CQRS_EXP_LAGS; reason: expected 0 on the cluster topology .*, got "50ms"$/,
    );
    // In the combined mode the lags are the async pair's: the cluster takes 0 without complaint.
    expect(lagsFor('cluster', { lags: ['50ms'] }, { CQRS_EXP_LAGS: '50ms' }, true)).toEqual(['0']);
  });

  it('compares on each topology exactly the strategies its servers serve', () => {
    expect(sqlStrategiesOn('mariadb', 'async')).toEqual(['eventual', 'primary', 'gtid-wait']);
    expect(sqlStrategiesOn('mariadb', 'cluster')).toEqual(['eventual', 'primary', 'sync-before']);
    expect(comparedStrategies('mariadb', 'async')).toEqual([
      'eventual',
      'primary',
      'gtid-wait',
      'sticky',
      'cache',
    ]);
    expect(comparedStrategies('mariadb', 'cluster')).toEqual([
      'eventual',
      'primary',
      'sticky',
      'cache',
      'sync-before',
    ]);
  });

  it('plans the default experiment as before: both SQL scenarios per lag, with CQRS_SQL_STRATEGY', () => {
    const [plan] = planRuns('exp-1', 'async', lags, { CQRS_SQL_STRATEGY: 'gtid-wait' });
    expect(plan?.api).toBeNull();
    expect(plan?.sql.map((r) => `${r.testId} ${r.strategy}`)).toEqual([
      'exp-1-read-after-write-lag0 gtid-wait',
      'exp-1-replica-lag-lag0 gtid-wait',
      'exp-1-read-after-write-lag5ms gtid-wait',
      'exp-1-replica-lag-lag5ms gtid-wait',
      'exp-1-read-after-write-lag50ms gtid-wait',
      'exp-1-replica-lag-lag50ms gtid-wait',
    ]);
    // A strategy the async pair cannot serve is refused once, before any run.
    expect(() => planRuns('exp-1', 'async', lags, { CQRS_SQL_STRATEGY: 'sync-before' })).toThrow(
      /^invalid CQRS_SQL_STRATEGY; reason: expected a strategy the async topology serves \(strategy sync-before needs a synchronous cluster.*try --topology cluster\), got "sync-before"$/,
    );
  });

  it('plans the cluster and the combined comparison, every run with its own test id', () => {
    const cluster = planRuns('exp-2', 'cluster', lags, {});
    expect(plannedTestIds(cluster)).toEqual([
      'exp-2-cluster-rw-eventual-lag0',
      'exp-2-cluster-rw-primary-lag0',
      'exp-2-cluster-rw-sync-before-lag0',
      'exp-2-cluster-replica-lag-lag0',
      'exp-2-api-cluster',
    ]);
    const both = planRuns('exp-3', 'both', lags, {});
    expect(both.map((p) => [p.topology, p.sql.length, p.api?.lag])).toEqual([
      ['async', 9, '50ms'],
      ['cluster', 3, '0'],
    ]);
    // The API comparison runs at the largest lag, whatever the order given.
    expect(planRuns('exp-4', 'both', { lags: ['50ms', '0', '5ms'] }, {})[0]?.api?.lag).toBe('50ms');
    const ids = plannedTestIds(both);
    expect(new Set(ids).size).toBe(ids.length);
    // Every id is one k6 accepts as CQRS_TEST_ID, with a real base and the longest lag a user may give.
    const base = newTestId('exp', new Date());
    for (const mode of ['async', 'cluster', 'both'] as const) {
      for (const p of planRuns(base, mode, { lags: ['0', '1.5s', '2999.5ms'] }, {})) {
        for (const id of plannedTestIds([p])) expect(CONFIG_SCHEMA.testId.parser.parse(id), id).toBe(id);
      }
    }
  });

  it('labels the tables by topology and strategy only when the runs differ by them', () => {
    const row = { scenario: 'sql-read-after-write', lag: '0', figures: null, exitCode: 0 };
    expect(comparisonTable([row]).split('\n')[0]).toMatch(/^scenario\s+lag\s+stale rate/);
    const labelled = comparisonTable([{ ...row, topology: 'cluster', strategy: 'sync-before' }]).split('\n');
    expect(labelled[0]).toMatch(/^topology\s+scenario\s+strategy\s+lag\s+stale rate/);
    expect(labelled[2]).toMatch(/^cluster\s+sql-read-after-write\s+sync-before\s+0\s+-/);
    const strategies = topologyStrategyTable([
      {
        topology: 'cluster',
        lag: '0',
        exitCode: 0,
        row: {
          strategy: 'sync-before',
          reads: 200,
          staleRate: 0,
          lagP50: 1.4,
          lagP95: 3.7,
          freshness: null,
          readP95: 5.7,
          offload: 1,
          errors: 0,
        },
      },
    ]).split('\n');
    expect(strategies[0]).toMatch(/^topology\s+lag\s+strategy\s+reads\s+stale rate/);
    expect(strategies[2]).toMatch(
      /^cluster\s+0\s+sync-before\s+200\s+0\.0%\s+1\.40 ms\s+3\.70 ms\s.*5\.70 ms\s+100\.0%\s+0\s+ok$/,
    );
  });
});
