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
import { findK6 } from '../../run/k6-binary.ts';
import { useK6Runs } from '../helpers/k6-e2e.ts';

const K6_BIN = process.env.K6_BIN;

if (!K6_BIN) {
  describe('k6 reports end-to-end', () => {
    it.skip('skipped: K6_BIN is not set (point it at a k6 with xk6-sql + MySQL driver; see build/xk6/README.md)', () => {});
  });
} else {
  const k6 = useK6Runs(async () => (await findK6({ ...process.env, K6_BIN })).path);
  const run = k6.run;

  describe('k6 reports end-to-end', () => {
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
    }, 120_000);
  });
}
