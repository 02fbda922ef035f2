/**
 * The heartbeat lag estimator (common/heartbeat.ts), pinned with exact values: every place that prints a replica
 * lag (the k6 sampler, the fake store, stack:status, /readyz) goes through it. All times are µs.
 */
import { describe, expect, it } from 'vitest';
import {
  BEAT_STATEMENTS,
  estimateHeartbeatLag,
  HEARTBEAT_RETENTION_S,
  HEARTBEAT_SQL,
  oldestMissingFromRow,
  type RowsQuery,
  replicaBeatFromRow,
  sampleHeartbeatLag,
} from '../../common/heartbeat.ts';

const T = 1_000_000; // the replica's newest beat
const beat = (appliedUs: number | null, nowUs: number, tsUs = T) => ({ tsUs, appliedUs, nowUs });

describe('estimateHeartbeatLag with apply stamps: the newest beat’s apply lag or the oldest missing beat’s age', () => {
  it('is the apply lag of the newest beat when the replica lacks nothing', () => {
    expect(estimateHeartbeatLag(beat(T + 50_000, T + 200_000), null, 0)).toEqual({
      lagUs: 50_000,
      basis: 'apply-stamp',
      beatUs: T,
    });
  });

  it('is the age of the oldest missing beat when that is larger (a stopped replica)', () => {
    // The beat at T + 100 000 has been missing for 100 000 µs on the replica's clock; the apply lag is 50 000.
    expect(estimateHeartbeatLag(beat(T + 50_000, T + 200_000), T + 100_000, 0)).toEqual({
      lagUs: 100_000,
      basis: 'apply-stamp',
      beatUs: T,
    });
  });

  it('stays the apply lag when the missing beat is younger than it (a beat in flight)', () => {
    expect(estimateHeartbeatLag(beat(T + 50_000, T + 200_000), T + 180_000, 0)?.lagUs).toBe(50_000);
  });

  it('ignores a "missing" beat written after the replica answered instead of giving it a negative age', () => {
    // The replica's clock is 10 ms behind the primary's: the apply lag reads −10 000. The missing beat from
    // T + 300 000 is 100 000 µs in the replica's future; clamped, it still bounds the lag below by 0.
    expect(estimateHeartbeatLag(beat(T - 10_000, T + 200_000), T + 300_000, 0)?.lagUs).toBe(0);
  });
});

describe('estimateHeartbeatLag without apply stamps: the middle of the bracket (oldest missing age, newest age]', () => {
  it('is half the newest beat’s age when the replica lacks nothing', () => {
    expect(estimateHeartbeatLag(beat(null, T + 80_000), null, 0)).toEqual({
      lagUs: 40_000,
      basis: 'bracket',
      beatUs: T,
    });
  });

  it('is the midpoint between the missing beat’s age and the newest beat’s age', () => {
    // Missing for 150 000 µs, newest 250 000 µs old: (150 000 + 250 000) / 2.
    expect(estimateHeartbeatLag(beat(null, T + 250_000), T + 100_000, 0)).toEqual({
      lagUs: 200_000,
      basis: 'bracket',
      beatUs: T,
    });
  });

  it('gives a missing beat from the replica’s future age 0, not a negative one', () => {
    // Bracket (0, 200 000]: 100 000. Unclamped it would be (−100 000 + 200 000) / 2 = 50 000.
    expect(estimateHeartbeatLag(beat(null, T + 200_000), T + 300_000, 0)?.lagUs).toBe(100_000);
  });
});

describe('estimateHeartbeatLag: only beats of this run count', () => {
  it('has no estimate before any beat reached the replica', () => {
    expect(estimateHeartbeatLag(null, null, 0)).toBeNull();
    expect(estimateHeartbeatLag(null, T, 0)).toBeNull();
  });

  it('ignores a newest beat from before the run started, and takes one from its very first microsecond', () => {
    expect(estimateHeartbeatLag(beat(T + 1, T + 10), null, T + 1)).toBeNull();
    expect(estimateHeartbeatLag(beat(null, T + 10), null, T + 1)).toBeNull();
    expect(estimateHeartbeatLag(beat(T + 1, T + 10), null, T)).toEqual({
      lagUs: 1,
      basis: 'apply-stamp',
      beatUs: T,
    });
  });
});

describe('decoding the heartbeat rows', () => {
  it('reads numbers, numeric strings and bigints; NULL, empty and non-numeric cells are null', () => {
    expect(replicaBeatFromRow({ ts_us: '1000000', applied_us: 1_000_500n, now_us: 1_002_000 })).toEqual({
      tsUs: 1_000_000,
      appliedUs: 1_000_500,
      nowUs: 1_002_000,
    });
    for (const applied of [null, undefined, '', 'abc', Number.POSITIVE_INFINITY])
      expect(replicaBeatFromRow({ ts_us: 5, applied_us: applied, now_us: 7 })).toEqual({
        tsUs: 5,
        appliedUs: null,
        nowUs: 7,
      });
    expect(replicaBeatFromRow({ ts_us: 0, now_us: 0 })).toEqual({ tsUs: 0, appliedUs: null, nowUs: 0 });
  });

  it('has no beat without a row, a beat time or the replica’s time', () => {
    expect(replicaBeatFromRow(undefined)).toBeNull();
    expect(replicaBeatFromRow({ ts_us: null, applied_us: 1, now_us: 2 })).toBeNull();
    expect(replicaBeatFromRow({ ts_us: 1, applied_us: 1, now_us: null })).toBeNull();
    expect(replicaBeatFromRow({ ts_us: 'x', applied_us: 1, now_us: 2 })).toBeNull();
  });

  it('reads the oldest missing beat; null when there is none (MIN over no rows is NULL)', () => {
    expect(oldestMissingFromRow({ ts_us: '2000000' })).toBe(2_000_000);
    expect(oldestMissingFromRow({ ts_us: 3n })).toBe(3);
    expect(oldestMissingFromRow({ ts_us: null })).toBeNull();
    expect(oldestMissingFromRow(undefined)).toBeNull();
  });
});

describe('sampleHeartbeatLag through async drivers', () => {
  type Call = [string, (string | number)[] | undefined];
  function drivers(
    replicaRows: Record<string, unknown>[] | null,
    primaryRows: Record<string, unknown>[] | null,
  ) {
    const calls: { replica: Call[]; primary: Call[] } = { replica: [], primary: [] };
    const replica: RowsQuery = async (sql, args) => {
      calls.replica.push([sql, args]);
      return replicaRows;
    };
    const primary: RowsQuery = async (sql, args) => {
      calls.primary.push([sql, args]);
      return primaryRows;
    };
    return { replica, primary, calls };
  }
  const row = { ts_us: T, applied_us: T + 30_000, now_us: T + 500_000 };
  const newest = { tsUs: T, appliedUs: T + 30_000, nowUs: T + 500_000 };

  it('asks the replica for its newest beat, then the primary for the oldest beat after it', async () => {
    const d = drivers([row], [{ ts_us: T + 100_000 }]);
    expect(await sampleHeartbeatLag(d.replica, d.primary, T)).toEqual({
      newest,
      estimate: { lagUs: 400_000, basis: 'apply-stamp', beatUs: T },
    });
    expect(d.calls).toEqual({
      replica: [[HEARTBEAT_SQL.replicaNewest, undefined]],
      primary: [[HEARTBEAT_SQL.oldestAfter, [T]]],
    });
  });

  it('takes the apply lag alone when the primary has no newer beat', async () => {
    for (const missing of [[{ ts_us: null }], []]) {
      const d = drivers([row], missing);
      expect((await sampleHeartbeatLag(d.replica, d.primary, 0)).estimate).toEqual({
        lagUs: 30_000,
        basis: 'apply-stamp',
        beatUs: T,
      });
    }
  });

  it('has no estimate, and does not ask the primary, until one of this run’s beats has replicated', async () => {
    for (const rows of [null, []]) {
      const d = drivers(rows, [{ ts_us: 1 }]);
      expect(await sampleHeartbeatLag(d.replica, d.primary, 0)).toEqual({ newest: null, estimate: null });
      expect(d.calls.primary).toEqual([]);
    }
    const old = drivers([row], [{ ts_us: 1 }]);
    expect(await sampleHeartbeatLag(old.replica, old.primary, T + 1)).toEqual({ newest, estimate: null });
    expect(old.calls.primary).toEqual([]);
  });

  it('has no estimate when the primary cannot answer (nobody knows what the replica lacks)', async () => {
    const d = drivers([row], null);
    expect(await sampleHeartbeatLag(d.replica, d.primary, 0)).toEqual({ newest, estimate: null });
    expect(d.calls.primary).toHaveLength(1);
  });
});

describe('heartbeat statements', () => {
  // Run against real servers in test/sql/statements.test.ts; pinned here so that a changed word shows up in the
  // unit tests (and in mutation testing) too.
  it('writes a beat as a history row, then the pt-heartbeat row, which never moves back', () => {
    expect(BEAT_STATEMENTS).toEqual([
      'INSERT IGNORE INTO heartbeat_log (ts_us) VALUES (CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS UNSIGNED))',
      'INSERT INTO heartbeat (server_id, ts) VALUES (@@server_id, NOW(6)) ' +
        'ON DUPLICATE KEY UPDATE ts = GREATEST(ts, NOW(6))',
    ]);
    expect(BEAT_STATEMENTS).toEqual([HEARTBEAT_SQL.logBeat, HEARTBEAT_SQL.beatRow]);
  });

  it('prunes beats older than an hour, and reads the beat times in integer µs', () => {
    expect(HEARTBEAT_RETENTION_S).toBe(3600);
    expect(HEARTBEAT_SQL.prune).toBe(
      'DELETE FROM heartbeat_log WHERE ts_us < CAST(UNIX_TIMESTAMP(NOW(6) - INTERVAL 3600 SECOND) * 1000000 AS UNSIGNED)',
    );
    expect(HEARTBEAT_SQL.now).toBe('SELECT CAST(UNIX_TIMESTAMP(SYSDATE(6)) * 1000000 AS UNSIGNED) AS now_us');
    expect(HEARTBEAT_SQL.replicaNewest).toBe(
      'SELECT ts_us, applied_us, CAST(UNIX_TIMESTAMP(SYSDATE(6)) * 1000000 AS UNSIGNED) AS now_us ' +
        'FROM heartbeat_log ORDER BY ts_us DESC LIMIT 1',
    );
    expect(HEARTBEAT_SQL.oldestAfter).toBe('SELECT MIN(ts_us) AS ts_us FROM heartbeat_log WHERE ts_us > ?');
  });
});
