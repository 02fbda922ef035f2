/**
 * End-to-end: runs that cannot work stop at once and say why once, and failures during a run are counted, not
 * printed one stack trace each. Under a real k6 against a test stack (with the API): a bad password and an
 * unreachable endpoint (setup refuses, exit 108), a config error (one line, exit 107), a reused run id (setup
 * refuses, no report overwritten), a replica killed mid-run (its probes count as error-probes) and the API
 * killed mid-run (a bounded log). Exit codes as docs/k6-scenarios.md ("Exit codes and failures") states them.
 * Runs only when K6_BIN points at a k6 with xk6-sql and the MySQL driver (see build/xk6/README.md).
 */
import { describe, expect, it } from 'vitest';
import { goDsn } from '../../common/endpoints.ts';
import { K6_METRICS } from '../../common/metrics.ts';
import { count, type SummaryData } from '../../lib/summary/data.ts';
import type { ConsistencyFigures } from '../../lib/summary/figures.ts';
import { findK6 } from '../../run/k6-binary.ts';
import { describeWithK6Bin, type K6Run, useK6Runs } from '../helpers/k6-e2e.ts';

const M = K6_METRICS;
/** A JS stack frame as k6 prints it, inside a logfmt message (`\tat fn (file:…)`) or on its own line. */
const STACK_FRAME = /\\tat |\n\s+at \S/;

/** k6's log lines (logfmt), without the summary text handleSummary printed. */
const logLines = (r: K6Run) => r.output.split('\n').filter((l) => l.startsWith('time='));

describeWithK6Bin('k6 fail-fast end-to-end', (K6_BIN) => {
  const k6 = useK6Runs(async () => (await findK6({ ...process.env, K6_BIN })).path, { api: true });

  /** A run long enough that finishing in a few seconds proves it did not run its duration. */
  async function timed(scenario: string, env: Record<string, string>): Promise<K6Run & { ms: number }> {
    const started = Date.now();
    const r = await k6.run(scenario, { CQRS_DURATION: '30s', ...env });
    return { ...r, ms: Date.now() - started };
  }

  describe('runs', () => {
    it('a bad writer password: one line naming the writer and what it said, exit 108, within seconds', async () => {
      const writer = k6.stack.endpoints.writer;
      const r = await timed('sql-write-load', {
        CQRS_WRITER_DSN: goDsn({ ...writer, password: 'Wr0ng-Passw0rd' }),
      });
      expect(r.exitCode, r.output).toBe(108);
      expect(r.ms, r.output).toBeLessThan(10_000);
      const failed = logLines(r).filter((l) => l.includes('failed its check'));
      expect(failed, r.output).toHaveLength(1);
      expect(failed[0]).toMatch(
        /sql-write-load setup: writer \(writer:\*\*\*@tcp\([^)]+\)\/cqrs[^)]*\) failed its check: Error 1045 \(28000\): Access denied for user 'writer'/,
      );
      expect(r.output).toContain(
        'test aborted: sql-write-load: 1 of 2 endpoints failed the setup check (writer); no load was sent',
      );
      expect(r.output).not.toContain('Wr0ng-Passw0rd');
      expect(r.output).not.toMatch(STACK_FRAME);
      // No load, and no report files (they would describe a run that never happened).
      expect(r.output).toContain('setup did not finish, so no load ran and no report was written');
      expect(r.summary).toBeNull();
    }, 60_000);

    it('an unreachable reader and replica monitor: one line each, exit 108', async () => {
      const dead = { ...k6.stack.endpoints.reader, host: '127.0.0.1', port: 1 };
      const r = await timed('sql-replica-lag', {
        CQRS_READER_DSN: goDsn(dead),
        CQRS_REPLICA_MONITOR_DSN: goDsn({ ...k6.stack.endpoints.replicaMonitor, host: '127.0.0.1', port: 1 }),
      });
      expect(r.exitCode, r.output).toBe(108);
      expect(r.ms, r.output).toBeLessThan(10_000);
      const failed = logLines(r).filter((l) => l.includes('failed its check'));
      expect(
        failed.map((l) => /setup: (\w+(?: monitor)?) \(/.exec(l)?.[1]),
        r.output,
      ).toEqual(['reader', 'replica monitor']);
      for (const l of failed) expect(l).toContain('dial tcp 127.0.0.1:1: connect: connection refused');
      expect(r.output).not.toMatch(STACK_FRAME);
    }, 60_000);

    it('a config error: one line, no stack, exit 107', async () => {
      const r = await k6.run('sql-write-load', { CQRS_RATE: 'lots' });
      expect(r.exitCode, r.output).toBe(107);
      // k6's own notice of the native-histograms feature (common/k6-output.ts, in the stack's env) is no error.
      const lines = r.output
        .trim()
        .split('\n')
        .filter((l) => !/level=info msg="Experimental feature enabled" feature=native-histograms/.test(l));
      expect(lines, r.output).toHaveLength(1);
      expect(lines[0]).toContain(
        'invalid CQRS_RATE; reason: expected an integer in 1..100000, got \\"lots\\"',
      );
      expect(r.output).not.toMatch(STACK_FRAME);
      expect(r.output).not.toMatch(/file:\/\//);
    }, 60_000);

    it('a reused CQRS_TEST_ID: refused, naming the rows that hold it; no report overwritten; reuse on request', async () => {
      const first = await k6.run('sql-write-load');
      expect(first.exitCode, first.output).toBe(0);
      const id = /sql-write-load: run (\S+), runner 0;/.exec(first.output)?.[1] as string;
      const acked = count(first.summary as SummaryData, M.ackedWrites.name);
      expect(acked).toBeGreaterThan(0);

      const again = await timed('sql-write-load', { CQRS_TEST_ID: id });
      expect(again.exitCode, again.output).toBe(108);
      expect(again.ms, again.output).toBeLessThan(10_000);
      expect(again.output).toContain(
        `test aborted: sql-write-load: CQRS_TEST_ID=${id} is already used (runner 0): the writer holds ${acked} probe_rows and ${acked} probe_acks rows of it; choose a new CQRS_TEST_ID, or set CQRS_REUSE_TEST_ID=1 to add this run to it`,
      );
      // handleSummary returned no files: k6 wrote nothing over the first run's reports.
      expect(again.output).toContain('no report was written');
      expect(again.output).not.toMatch(/level=error msg="failed to handle the end-of-test summary"/);

      const reused = await k6.run('sql-write-load', {
        CQRS_TEST_ID: id,
        CQRS_REUSE_TEST_ID: '1',
        CQRS_DURATION: '2s',
      });
      expect(reused.exitCode, reused.output).toBe(0);
      expect(reused.output).toMatch(/\(reused: the writer holds \d+ probe_rows/);
      // No 1062: the reused run's keys are new; its reconciliation covers both runs. (Its reports went to the
      // first run's folder, as asked: the text summary on stdout is what this reads.)
      expect(reused.output).toMatch(/^\s+db_errors: 0 /m);
      expect(reused.output).toMatch(/^\s+iteration_errors: 0 /m);
      expect(reused.output).toMatch(
        new RegExp(`reconciliation \\(run ${id}, runner 0\\): (\\d+) acknowledged, 0 missing`),
      );
    }, 120_000);

    it('a replica killed mid-run: every acknowledged probe counts, the failed reads as error-probes', async () => {
      await k6.stack.setLag('0');
      const running = k6.run('sql-read-after-write', {
        CQRS_DURATION: '6s',
        CQRS_RATE: '40',
        CQRS_PROBE_TIMEOUT: '300ms',
        CQRS_CATCHUP_TIMEOUT: '0',
      });
      await new Promise((r) => setTimeout(r, 3000));
      await k6.stack.stopService('replica');
      let r: K6Run;
      try {
        r = await running;
      } finally {
        await k6.stack.startService('replica');
      }
      // Failed reads and the reconciliation that could not reach the reader fail thresholds: a finished run.
      expect(r.exitCode, r.output).toBe(99);
      const f = r.figures as ConsistencyFigures;
      expect(f, r.output).not.toBeNull();
      // Probes = acknowledged probe writes, none left out.
      expect(f.probes, r.output).toBe(f.reconcile.acknowledged);
      expect(f.probeErrors, r.output).toBeGreaterThan(0);
      expect(f.reads, r.output).toBeLessThan(f.probes);
      // Each probe whose immediate read failed is a probe error (so is one whose poll failed).
      expect(f.reads + f.probeErrors, r.output).toBeGreaterThanOrEqual(f.probes);
      expect(f.staleRate, r.output).not.toBeNull();
      expect(r.report).toMatch(/\d+ probes had a read fail after their write was acknowledged/);
      expect(count(r.summary as SummaryData, M.iterationErrors.name)).toBeGreaterThanOrEqual(f.probeErrors);
      expect(r.output).not.toMatch(STACK_FRAME);
    }, 180_000);

    it('the API killed mid-run at 100/s: errors counted by kind, a few lines per VU, no stack traces', async () => {
      const running = k6.run('api-read-after-write', {
        CQRS_API_STRATEGIES: 'eventual',
        CQRS_DURATION: '8s',
        // soak: the whole duration at the rate (smoke caps it at 10/s).
        CQRS_PROFILE: 'soak',
        CQRS_RATE: '100',
        CQRS_VUS: '20',
        CQRS_CATCHUP_TIMEOUT: '0',
      });
      await new Promise((r) => setTimeout(r, 3000));
      await k6.stack.stopService('api');
      let r: K6Run;
      try {
        r = await running;
      } finally {
        await k6.stack.startService('api');
      }
      expect(r.exitCode, r.output).toBe(99);
      const s = r.summary as SummaryData;
      const errors = count(s, M.iterationErrors.name);
      // About 5 s at 100/s failed.
      expect(errors, r.output).toBeGreaterThan(200);
      const logged = logLines(r).filter((l) => l.includes('iteration error ['));
      const vus = Math.max(...[...r.output.matchAll(/\(vu (\d+)\)/g)].map((m) => Number(m[1])));
      expect(logged.length, r.output).toBeLessThanOrEqual(3 * 2 * vus);
      expect(logged.length, r.output).toBeLessThan(errors / 4);
      expect(r.output).toMatch(/iteration errors not logged \(vu \d+, last \d+ s\): api-unreachable \d+/);
      expect(r.output).not.toMatch(STACK_FRAME);
      expect(r.output).not.toContain('Request Failed');
      // Bounded: far below the 2.2 MB of traces this made before.
      expect(r.output.length, r.output.slice(0, 2000)).toBeLessThan(100_000);
    }, 180_000);
  });
});
