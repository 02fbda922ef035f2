/**
 * End-to-end on the cluster topology (three Galera nodes, stack/galera.ts): the bundles in a real k6 against a
 * cluster test stack with the API. The SQL runs need K6_BIN (a k6 with xk6-sql and the MySQL driver); the API
 * comparison runs on the pinned stock k6, so CI runs it.
 */
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { K6_METRICS } from '../../common/metrics.ts';
import { strategyRows } from '../../lib/api/report.ts';
import { count, type SummaryData } from '../../lib/summary/data.ts';
import type { ConsistencyFigures } from '../../lib/summary/figures.ts';
import { comparedStrategies } from '../../run/experiment.ts';
import { findK6 } from '../../run/k6-binary.ts';
import {
  describeWithBinary,
  describeWithK6Bin,
  STOCK_K6,
  STOCK_K6_MISSING,
  useK6Runs,
} from '../helpers/k6-e2e.ts';

const M = K6_METRICS;

describeWithK6Bin('k6 end-to-end on the cluster topology', (K6_BIN) => {
  const k6 = useK6Runs(async () => (await findK6({ ...process.env, K6_BIN })).path, {
    topology: 'cluster',
  });

  it('sql-read-after-write with sync-before (wsrep_sync_wait on the reader connection): 0 stale, 0 missing', async () => {
    const r = await k6.run('sql-read-after-write', { CQRS_SQL_STRATEGY: 'sync-before' });
    expect(r.exitCode, r.output).toBe(0);
    const f = r.figures as ConsistencyFigures;
    expect(f.probes, r.output).toBeGreaterThan(50);
    expect(f.staleRate).toBe(0);
    expect(f.errors).toBe(0);
    expect(f.reconcile.checked).toBeGreaterThan(0);
    expect(f.reconcile.missingWriter + f.reconcile.missingReader).toBe(0);
    const s = r.summary as SummaryData;
    expect(count(s, M.reconcileChecked.name)).toBe(count(s, M.ackedWrites.name));
    // The config echo shows the canonical id, typed back as it was given.
    expect(r.report).toMatch(/CQRS_SQL_STRATEGY=sync-before/);
    expect(r.report).toMatch(/CQRS_TOPOLOGY=cluster/);
  }, 120_000);

  it('the alias gr-before runs as sync-before', async () => {
    const r = await k6.run('sql-read-after-write', { CQRS_SQL_STRATEGY: 'gr-before', CQRS_DURATION: '2s' });
    expect(r.exitCode, r.output).toBe(0);
    expect((r.figures as ConsistencyFigures).staleRate).toBe(0);
    expect(r.report).toMatch(/CQRS_SQL_STRATEGY=sync-before/);
  }, 120_000);

  it('sync-before on the async topology stops at init with one line, exit 107', async () => {
    const r = await k6.run('sql-read-after-write', {
      CQRS_SQL_STRATEGY: 'sync-before',
      CQRS_TOPOLOGY: 'async',
    });
    expect(r.exitCode, r.output).toBe(107);
    expect(r.output).toMatch(/CQRS_SQL_STRATEGY.*sync-before.*synchronous cluster/);
  }, 60_000);
});

describeWithBinary('stock k6 end-to-end on the cluster topology', STOCK_K6, STOCK_K6_MISSING, (STOCK) => {
  const k6 = useK6Runs(
    async () => {
      await execa(STOCK, ['version']);
      return STOCK;
    },
    { api: true, topology: 'cluster' },
  );

  it("api-read-after-write compares the cluster's strategies: sync-before reads the replica with 0 stale", async () => {
    const strategies = comparedStrategies('mariadb', 'cluster');
    expect(strategies).toEqual(['eventual', 'primary', 'sticky', 'cache', 'sync-before']);
    // CQRS_TOPOLOGY=cluster (from the stack's env) makes these the default list: none is named here.
    const r = await k6.run('api-read-after-write');
    expect(r.exitCode, r.output).toBe(0);
    const rows = strategyRows(r.summary as SummaryData, strategies);
    const sync = rows.find((row) => row.strategy === 'sync-before');
    expect(sync?.reads, r.output).toBeGreaterThan(20);
    expect(sync?.staleRate).toBe(0);
    // Every sync-before read was served by the reader node, none by the primary.
    expect(sync?.offload).toBe(1);
    expect(sync?.errors).toBe(0);
    for (const s of ['primary', 'sticky'] as const)
      expect(rows.find((row) => row.strategy === s)?.staleRate).toBe(0);
  }, 120_000);
});
