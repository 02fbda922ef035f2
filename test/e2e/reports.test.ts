/**
 * End-to-end: what the reports say about a run, under a real k6 against a test stack. Per-endpoint errors come
 * from a failing statement (the writer DSN pointed at the read-only replica), and a saturated arrival-rate run
 * is flagged as limited by the load generator. Runs only when K6_BIN points at a k6 with xk6-sql and the MySQL
 * driver (see build/xk6/README.md); otherwise the suite is skipped with that message.
 */
import { describe, expect, it } from 'vitest';
import { goDsn } from '../../common/endpoints.ts';
import { count, type SummaryData } from '../../lib/summary/data.ts';
import type { ConsistencyFigures } from '../../lib/summary/figures.ts';
import { thresholdsFor } from '../../lib/thresholds.ts';
import { findK6 } from '../../run/k6-binary.ts';
import { junitCaseNames, verdictNames } from '../helpers/bundles.ts';
import { describeWithK6Bin, useK6Runs } from '../helpers/k6-e2e.ts';

describeWithK6Bin('k6 reports end-to-end', (K6_BIN) => {
  const k6 = useK6Runs(async () => (await findK6({ ...process.env, K6_BIN })).path);
  const run = k6.run;

  describe('runs', () => {
    it('counts failed writer statements per endpoint: the Endpoints table shows them', async () => {
      await k6.stack.setLag('0');
      // The writer login on the replica, which is read_only: every INSERT fails (error 1290).
      const { replicaMonitor, writer } = k6.stack.endpoints;
      const r = await run('sql-write-load', {
        CQRS_WRITER_DSN: goDsn({ ...writer, host: replicaMonitor.host, port: replicaMonitor.port }),
      });
      // db_errors count==0 fails: a finished run with failed thresholds, not a crash.
      expect(r.exitCode, r.output).toBe(99);
      expect(r.output).toMatch(/1290|read-only|read_only/i);
      const s = r.summary as SummaryData;
      expect(s, r.output).not.toBeNull();
      const writerErrors = count(s, 'db_errors{endpoint:writer}');
      expect(writerErrors, JSON.stringify(Object.keys(s.metrics))).toBeGreaterThan(0);
      expect(r.figures?.writer.errors).toBe(writerErrors);
      const row = r.report.split('\n').find((l) => l.startsWith('| writer |'));
      expect(row, r.report).toBeDefined();
      const errorsCell = Number(row?.split('|').at(-2)?.trim());
      expect(errorsCell).toBe(writerErrors);
      expect(r.junit).toContain('<failure message="threshold count==0 on db_errors failed"/>');
    }, 120_000);

    it('flags a saturated run: 3000/s on 2 VUs is the load generator’s limit, not the replica’s', async () => {
      await k6.stack.setLag('0');
      const r = await run('sql-read-after-write', {
        CQRS_RATE: '3000',
        CQRS_VUS: '2',
        CQRS_PROFILE: 'soak',
      });
      expect(r.figures, r.output).not.toBeNull();
      const g = (r.figures as ConsistencyFigures).generator;
      expect(g.limited, JSON.stringify(g)).toBe(true);
      expect(g.dropped).toBeGreaterThan(0);
      expect(g.achievedPerSecond).toBeLessThan(g.scheduledPerSecond as number);
      const warnings = r.report.split('\n').filter((l) => l.includes('⚠'));
      expect(warnings, r.report).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /⚠ load generator was the limit: \d+ iterations dropped.*; achieved [\d.]+\/s of [\d.]+\/s scheduled/,
      );
      expect(r.report.split('\n').indexOf(warnings[0] as string)).toBeLessThan(4);
      expect(r.output).toContain('⚠ load generator was the limit');
    }, 120_000);

    it('does not flag a run that kept up', async () => {
      const r = await run('sql-read-after-write');
      expect(r.figures, r.output).not.toBeNull();
      expect(r.figures?.generator.limited).toBe(false);
      expect(r.figures?.generator.iterations).toBeGreaterThan(0);
      expect(r.report).not.toContain('⚠');
      // Only its sections: no heartbeat sampled, no API called.
      expect(r.report.split('\n').filter((l) => l.startsWith('## '))).toEqual([
        '## Read after write',
        '## Session guarantees',
        '## Reconciliation',
        '## Endpoints',
        '## Load generator',
        '## Thresholds',
      ]);
      expect(junitCaseNames(r.junit)).toEqual(verdictNames(thresholdsFor('sql-read-after-write', {})));
    }, 120_000);

    it('junit.xml and stdout list exactly the defaults plus CQRS_THRESHOLDS; the keeps stay in summary.json', async () => {
      const r = await run('sql-write-load', {
        CQRS_THRESHOLDS: JSON.stringify({
          sql_writes: ['count>0'],
          // The expression that keeps this submetric, written by the user: a verdict.
          'db_errors{endpoint:reader}': ['count>=0'],
          // A default dropped on a submetric the Endpoints table reads: kept, not listed.
          'db_query_duration{endpoint:writer}': [],
        }),
      });
      expect(r.exitCode, r.output).toBe(0);
      const expected = [
        'db_errors: count==0',
        'db_errors{endpoint:reader}: count>=0',
        'iteration_errors: count==0',
        'reconcile_errors: count==0',
        'reconcile_missing_reader: count==0',
        'reconcile_missing_writer: count==0',
        'sql_writes: count>0',
      ];
      expect(junitCaseNames(r.junit), r.junit).toEqual(expected);
      const listed = r.output
        .split('\n')
        .flatMap((l) => l.match(/^ {4}[✓✗?] (.*)$/)?.[1] ?? [])
        .sort();
      expect(listed, r.output).toEqual(expected);
      const s = r.summary as SummaryData;
      expect(s.metrics['db_query_duration{endpoint:writer}']?.thresholds).toEqual({ 'max>=0': { ok: true } });
      expect(s.metrics['db_errors{endpoint:writer}']?.thresholds).toEqual({ 'count>=0': { ok: true } });
      expect(
        r.report.split('\n').find((l) => l.startsWith('| writer |')),
        r.report,
      ).toMatch(/\| 0 \|$/);
      expect(r.report).not.toMatch(
        /## (Read after write|Replica lag|Session guarantees|Strategy comparison)/,
      );
    }, 120_000);
  });
});
