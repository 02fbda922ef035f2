/**
 * The SQL the k6 scenarios send (lib/sql/statements.ts and the dialect), run for real against the test stack's
 * MariaDB through mysql2, with the same logins the scenarios use: writer, reader and the replica monitor.
 * Rows are decoded through lib/decode.ts like xk6-sql rows.
 */
import mysql, { type Connection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialectFor } from '../../common/dialect.ts';
import { HEARTBEAT_RETENTION_S, oldestMissingFromRow, replicaBeatFromRow } from '../../common/heartbeat.ts';
import { ACKS_BY_VU, ackValues, insertAcks } from '../../common/ledger-sql.ts';
import { probeEmail } from '../../lib/api/sql.ts';
import { type DecodedRow, decodeRow, numberCell, stringCell } from '../../lib/decode.ts';
import { probePayload, SQL } from '../../lib/sql/statements.ts';
import { type ProbeKey, probeTag } from '../../lib/store.ts';
import { startTestStack, type TestStack } from '../kit/stack.ts';

let stack: TestStack;
let writer: Connection;
let reader: Connection;
let monitor: Connection;
const dialect = dialectFor('mariadb');
const runId = `sqltest-${process.pid}-${Date.now().toString(36)}`;

async function q(conn: Connection, sql: string, ...args: unknown[]): Promise<DecodedRow[]> {
  const [rows] = await conn.query<RowDataPacket[]>(sql, args);
  return rows.map((r) => decodeRow(r));
}

async function until<T>(fn: () => Promise<T | null>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const key = (vu: number, seq: number, runner = '0'): ProbeKey => ({ runId, runner, vu, seq });

async function insert(k: ProbeKey): Promise<number> {
  const [res] = await writer.query(SQL.insertProbe, [
    probeTag(k),
    k.runId,
    k.runner,
    k.vu,
    k.seq,
    probePayload(64),
  ]);
  return (res as { insertId: number }).insertId;
}

beforeAll(async () => {
  stack = await startTestStack();
  const { writer: w, reader: r } = stack.endpoints;
  writer = await mysql.createConnection({ ...w });
  reader = await mysql.createConnection({ ...r });
  monitor = await mysql.createConnection({ ...stack.endpoints.replicaMonitor });
});

afterAll(async () => {
  await Promise.all([writer?.end(), reader?.end(), monitor?.end()]);
  await stack?.down();
});

describe('schema the scenarios rely on', () => {
  it('has probe_rows, probe_acks (0003), heartbeat and heartbeat_log (0004) on both sides, and no probe_ledger (dropped by 0005)', async () => {
    for (const conn of [writer, reader]) {
      const tables = (await q(conn, 'SHOW TABLES')).map((r) => String(Object.values(r)[0]));
      expect(tables).toEqual(expect.arrayContaining(['probe_rows', 'heartbeat']));
      expect(tables).not.toContain('probe_ledger');
      expect(tables).toContain('probe_acks');
      expect(tables).toContain('heartbeat_log');
    }
    const versions = (await q(writer, 'SELECT version FROM schema_migrations')).map((r) =>
      numberCell(r, 'version'),
    );
    expect(versions).toEqual(expect.arrayContaining([1, 2]));
    expect(versions).toContain(3);
    expect(versions).toContain(4);
    expect(versions).toContain(5);
    // The apply-stamp triggers live on the replica only: see 'probe statements' (stamped 0 on the primary, 1 on the replica).
  });
});

describe('probe statements', () => {
  it('insert on the writer, point lookup by tag on both sides once replicated', async () => {
    const k = key(1, 0);
    const id = await insert(k);
    expect(id).toBeGreaterThan(0);
    // On the primary nothing stamps the row: the read-time basis (the store reports `commit` there).
    expect(await q(writer, SQL.probeSighting, probeTag(k))).toEqual([
      { id, lag_us: expect.any(Number), stamped: 0 },
    ]);
    const seen = await until(async () => {
      const rows = await q(reader, SQL.probeSighting, probeTag(k));
      return rows.length > 0 ? rows : null;
    });
    // The replica's own trigger stamped its apply time: a positive lag in whole microseconds.
    expect(seen).toEqual([{ id, lag_us: expect.any(Number), stamped: 1 }]);
    const lagUs = numberCell(seen[0] as DecodedRow, 'lag_us') as number;
    expect(Number.isInteger(lagUs)).toBe(true);
    expect(lagUs).toBeGreaterThan(0);
    expect(lagUs).toBeLessThan(1_000_000);
    // The stamp is the replica's: it is the same on every later read.
    expect(await q(reader, SQL.probeSighting, probeTag(k))).toEqual(seen);
    expect((await q(reader, SQL.pointRead, id))[0]).toMatchObject({
      id,
      tag: probeTag(k),
      payload: 'x'.repeat(64),
    });
    expect(numberCell((await q(writer, SQL.maxProbeId))[0] as DecodedRow, 'max_id')).toBeGreaterThanOrEqual(
      id,
    );
  });

  it('rejects a duplicate tag (each write is unique per run, runner, VU and sequence)', async () => {
    const k = key(1, 1);
    await insert(k);
    await expect(insert(k)).rejects.toThrow(/Duplicate entry/);
  });

  it('ledger acknowledgements, one row each, reconciled per VU by key and scoped by run and runner', async () => {
    for (const k of [key(2, 0), key(2, 1), key(3, 0), key(2, 0, '1')]) {
      await insert(k);
      await writer.query(insertAcks(1), ackValues([k]));
    }
    const checks = async (conn: Connection, runner: string) =>
      Object.fromEntries(
        (await q(conn, SQL.acksByVu, runId, runner)).map((r) => [
          numberCell(r, 'vu'),
          [numberCell(r, 'acked'), numberCell(r, 'missing')],
        ]),
      );
    expect(await checks(writer, '0')).toEqual({ 2: [2, 0], 3: [1, 0] });
    const onReader = await until(async () => {
      const r = await checks(reader, '1');
      return Object.keys(r).length > 0 ? r : null;
    });
    expect(onReader).toEqual({ 2: [1, 0] });
  });

  it('finds a lost acknowledged row that an unacknowledged committed row of the same VU would hide in counts', async () => {
    const acked = key(4, 0, '7');
    await insert(acked);
    await writer.query(insertAcks(1), ackValues([acked]));
    await insert(key(4, 1, '7')); // committed, never acknowledged
    // The acknowledged row is lost (the writer login may delete: it stands in for a failover losing it).
    await writer.query('DELETE FROM probe_rows WHERE tag = ?', [probeTag(acked)]);
    const [row] = await q(writer, SQL.acksByVu, runId, '7');
    expect(row).toEqual({ vu: 4, acked: 1, missing: 1 });
    const onReader = await until(async () => {
      const [r] = await q(reader, SQL.acksByVu, runId, '7');
      return r && numberCell(r, 'missing') === 1 ? r : null;
    });
    expect(onReader).toEqual({ vu: 4, acked: 1, missing: 1 });
  });

  it('reconciles API probes against users by their probe email, the same way', async () => {
    const [present, lost, unacked] = [key(6, 0, 'api'), key(6, 1, 'api'), key(6, 2, 'api')];
    for (const k of [present, unacked])
      await writer.query('INSERT INTO users (email, name) VALUES (?, ?)', [probeEmail(k), 'probe']);
    for (const k of [present, lost]) await writer.query(insertAcks(1), ackValues([k]));
    expect(await q(writer, ACKS_BY_VU.users, runId, 'api')).toEqual([{ vu: 6, acked: 2, missing: 1 }]);
    const onReader = await until(async () => {
      const rows = await q(reader, ACKS_BY_VU.users, runId, 'api');
      return rows.length > 0 && numberCell(rows[0] as DecodedRow, 'acked') === 2 ? rows : null;
    });
    expect(onReader).toEqual([{ vu: 6, acked: 2, missing: 1 }]);
  });

  it('counts what a run id already holds on the writer (a reused CQRS_TEST_ID is refused in setup)', async () => {
    const held = async (runner: string) =>
      (await q(writer, SQL.runHoldings, runId, runner, runId, runner))[0] as DecodedRow;
    expect(await held('never-used')).toEqual({ probe_rows_held: 0, probe_acks_held: 0 });
    const k = key(8, 0, 'holdings');
    await insert(k);
    await writer.query(insertAcks(1), ackValues([k]));
    await insert(key(8, 1, 'holdings'));
    expect(await held('holdings')).toEqual({ probe_rows_held: 2, probe_acks_held: 1 });
  });

  it('writes a batch of acknowledgements in one statement; a retried batch changes nothing', async () => {
    const batch = [0, 1, 2, 3, 4].map((seq) => key(5, seq, 'batch'));
    for (const k of batch) await insert(k);
    const [first] = await writer.query(insertAcks(batch.length), ackValues(batch));
    expect((first as { affectedRows: number }).affectedRows).toBe(5);
    // The same batch again (a flush retried after a failure that had committed it): no error, no new rows.
    const [again] = await writer.query(insertAcks(batch.length), ackValues(batch));
    expect((again as { affectedRows: number }).affectedRows).toBe(0);
    expect(await q(writer, SQL.acksByVu, runId, 'batch')).toEqual([{ vu: 5, acked: 5, missing: 0 }]);
  });
});

describe('heartbeat statements', () => {
  it('logs beats on the primary; the replica holds them with its own apply stamp; the primary finds the next one', async () => {
    await writer.query(SQL.heartbeatLog);
    await writer.query(SQL.heartbeatBeat);
    const [now] = await q(writer, SQL.heartbeatNow);
    const nowUs = numberCell(now as DecodedRow, 'now_us') as number;
    expect(Math.abs(nowUs / 1000 - Date.now())).toBeLessThan(60_000);
    const newest = await until(async () => {
      const beat = replicaBeatFromRow((await q(reader, SQL.heartbeatReplicaNewest))[0]);
      return beat && beat.tsUs >= nowUs - 1_000_000 ? beat : null;
    });
    expect(Number.isInteger(newest.tsUs)).toBe(true);
    expect(newest.appliedUs).not.toBeNull();
    expect((newest.appliedUs as number) - newest.tsUs).toBeGreaterThan(0);
    expect((newest.appliedUs as number) - newest.tsUs).toBeLessThan(1_000_000);
    expect(newest.nowUs).toBeGreaterThanOrEqual(newest.appliedUs as number);
    // Nothing newer yet; after another beat on a frozen replica, that beat is the oldest one it lacks.
    expect(oldestMissingFromRow((await q(writer, SQL.heartbeatOldestAfter, newest.tsUs))[0])).toBeNull();
    await stack.setLag('freeze');
    try {
      await new Promise((r) => setTimeout(r, 2));
      await writer.query(SQL.heartbeatLog);
      const missing = oldestMissingFromRow((await q(writer, SQL.heartbeatOldestAfter, newest.tsUs))[0]);
      expect(missing).toBeGreaterThan(newest.tsUs);
      const held = replicaBeatFromRow((await q(reader, SQL.heartbeatReplicaNewest))[0]);
      expect(held?.tsUs).toBe(newest.tsUs);
    } finally {
      await stack.setLag('thaw');
    }
  });

  it('prunes only beats past the retention', async () => {
    const old = Math.round((Date.now() - (HEARTBEAT_RETENTION_S + 60) * 1000) * 1000);
    await writer.query('INSERT INTO heartbeat_log (ts_us) VALUES (?)', [old]);
    await writer.query(SQL.heartbeatLog);
    await writer.query(SQL.heartbeatPrune);
    const [gone] = await q(writer, 'SELECT COUNT(*) AS n FROM heartbeat_log WHERE ts_us = ?', old);
    expect(numberCell(gone as DecodedRow, 'n')).toBe(0);
    const [kept] = await q(writer, 'SELECT COUNT(*) AS n FROM heartbeat_log');
    expect(numberCell(kept as DecodedRow, 'n')).toBeGreaterThan(0);
  });
});

describe('heartbeat writers racing', () => {
  it('never moves the heartbeat back when a writer with an earlier NOW(6) stamps after a later one', async () => {
    const late = await mysql.createConnection({ ...stack.endpoints.writer });
    try {
      await writer.query(SQL.heartbeatBeat);
      const tsOf = async (conn: Connection) =>
        numberCell(
          (
            await q(
              conn,
              'SELECT CAST(UNIX_TIMESTAMP(MAX(ts)) * 1000000 AS UNSIGNED) AS ts_us FROM heartbeat',
            )
          )[0] as DecodedRow,
          'ts_us',
        ) as number;
      const before = await tsOf(writer);
      // A concurrent writer whose statement read NOW(6) 5 s earlier (a session clock set back stands in for it).
      await late.query('SET @@timestamp = UNIX_TIMESTAMP(NOW(6)) - 5');
      await late.query(SQL.heartbeatBeat);
      expect(await tsOf(writer)).toBe(before);
      const replicated = await until(async () => {
        const t = await tsOf(reader);
        return t >= before ? t : null;
      });
      expect(replicated).toBe(before);
      await writer.query(SQL.heartbeatBeat); // the normal path still moves it forward
      expect(await tsOf(writer)).toBeGreaterThan(before);
    } finally {
      await late.end();
    }
  });
});

describe('dialect queries', () => {
  it('reads Seconds_Behind_Master with the monitor login (the reader has no such privilege)', async () => {
    const row = (await q(monitor, dialect.showReplicaStatus))[0] as DecodedRow;
    expect(row).toHaveProperty(dialect.secondsBehindColumn);
    expect(numberCell(row, dialect.secondsBehindColumn)).toBeGreaterThanOrEqual(0);
    await expect(q(reader, dialect.showReplicaStatus)).rejects.toThrow(/denied/i);
  });

  it('gets the write’s GTID on the same session and waits for it on the replica', async () => {
    await insert(key(9, 0));
    const gtid = stringCell((await q(writer, dialect.lastWriteGtid))[0] as DecodedRow, 'gtid');
    expect(gtid).toMatch(/^\d+-\d+-\d+$/);
    const waited = (await q(reader, dialect.waitForGtid, gtid, 2))[0] as DecodedRow;
    expect(dialect.gtidWaitReached(numberCell(waited, 'waited'))).toBe(true);
  });

  it('times out waiting on a frozen replica (-1), then catches up after thaw', async () => {
    await stack.setLag('freeze');
    try {
      await insert(key(9, 1));
      const gtid = stringCell((await q(writer, dialect.lastWriteGtid))[0] as DecodedRow, 'gtid');
      const waited = (await q(reader, dialect.waitForGtid, gtid, 0.5))[0] as DecodedRow;
      expect(numberCell(waited, 'waited')).toBe(-1);
      expect(dialect.gtidWaitReached(numberCell(waited, 'waited'))).toBe(false);
    } finally {
      await stack.setLag('thaw');
    }
    const row = await until(async () => {
      const r = await q(reader, SQL.probeSighting, probeTag(key(9, 1)));
      return r.length > 0 ? r : null;
    });
    expect(row).toHaveLength(1);
  });
});
