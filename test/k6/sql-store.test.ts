import { describe, expect, it } from 'vitest';
import { dialectFor } from '../../common/dialect.ts';
import { insertAcks } from '../../common/ledger-sql.ts';
import type { DecodedRow } from '../../lib/decode.ts';
import { SqlStore, sightingFromRows } from '../../lib/k6/sql-store.ts';
import type { SqlHandle } from '../../lib/sql/handle.ts';
import { SQL } from '../../lib/sql/statements.ts';
import type { Endpoint, ProbeKey } from '../../lib/store.ts';

interface Call {
  endpoint: Endpoint | 'monitor';
  kind: 'exec' | 'query';
  op: string;
  sql: string;
  args: unknown[];
}

/** A scripted stand-in for one SqlHandle: records every statement, answers queries from `answer`. */
function stubDb(
  endpoint: Endpoint | 'monitor',
  calls: Call[],
  answer: (sql: string, args: unknown[]) => DecodedRow[] = () => [],
): SqlHandle {
  const db = {
    endpoint,
    exec: (op: string, sql: string, ...args: unknown[]) => {
      calls.push({ endpoint, kind: 'exec', op, sql, args });
      return { lastInsertId: 42, rowsAffected: 1 };
    },
    query: (op: string, sql: string, ...args: unknown[]) => {
      calls.push({ endpoint, kind: 'query', op, sql, args });
      return answer(sql, args);
    },
    queryQuiet: (op: string, sql: string, ...args: unknown[]) => {
      calls.push({ endpoint, kind: 'query', op, sql, args });
      return answer(sql, args);
    },
  };
  return db as unknown as SqlHandle;
}

const key: ProbeKey = { runId: 'r1', runner: '0', vu: 3, seq: 7 };
const mariadb = dialectFor('mariadb');
const opts = { dialect: mariadb, payloadBytes: 4, gtidWaitSeconds: 2 } as const;

describe('SqlStore (the xk6-sql side of the store interfaces)', () => {
  it('eventual: writes on the writer, reads and polls on the reader by tag', () => {
    const calls: Call[] = [];
    const store = new SqlStore(
      stubDb('writer', calls),
      stubDb('reader', calls, () => [{ id: 42, lag_us: '6125', stamped: 1 }]),
      null,
      {
        ...opts,
        strategy: 'eventual',
      },
    );
    const ack = store.write(key);
    expect(ack).toEqual({ id: 42 });
    expect(store.readAfterWrite(key, ack)).toEqual({
      seen: true,
      visibility: { lagUs: 6125, basis: 'apply-stamp' },
    });
    expect(store.poll(key)).toMatchObject({ seen: true });
    store.recordAck(key);
    store.flushAcks();
    expect(calls.map((c) => [c.endpoint, c.op])).toEqual([
      ['writer', 'probe_insert'],
      ['reader', 'probe_read'],
      ['reader', 'probe_poll'],
      ['writer', 'ledger'],
    ]);
    expect(calls[0]?.args).toEqual(['r1:0:3:7', 'r1', '0', 3, 7, 'xxxx']);
    expect(calls[1]).toMatchObject({ sql: SQL.probeSighting, args: ['r1:0:3:7'] });
    expect(calls[3]).toMatchObject({ sql: insertAcks(1), args: ['r1', '0', 3, 7] });
  });

  it('reads the visibility basis from the row: apply stamp, else read time; a miss is not seen', () => {
    const rows: DecodedRow[][] = [[{ id: 1, lag_us: 800, stamped: 0 }], []];
    expect(sightingFromRows(rows[0] as DecodedRow[], false)).toEqual({
      seen: true,
      visibility: { lagUs: 800, basis: 'read-time' },
    });
    expect(sightingFromRows(rows[1] as DecodedRow[], false)).toEqual({ seen: false });
    // On the writer a row is visible from its commit, whatever the columns say.
    expect(sightingFromRows(rows[0] as DecodedRow[], true)).toEqual({
      seen: true,
      visibility: { lagUs: 0, basis: 'commit' },
    });
  });

  it('writes acknowledgements 64 to a statement (≤ 1.6% extra writer statements), the rest when flushed', () => {
    const calls: Call[] = [];
    const flushed: number[] = [];
    let acked = 0;
    const store = new SqlStore(stubDb('writer', calls), stubDb('reader', calls), null, {
      ...opts,
      strategy: 'eventual',
      onAck: () => acked++,
      onAcksFlushed: (n) => flushed.push(n),
    });
    for (let seq = 0; seq < 1000; seq++) store.writeAndRecord({ ...key, seq });
    const ledger = () => calls.filter((c) => c.op === 'ledger');
    expect(ledger()).toHaveLength(15); // 15 × 64 = 960
    expect(store.pendingAcks).toBe(40);
    store.flushAcks();
    store.flushAcks(); // nothing left: no statement
    expect(ledger()).toHaveLength(16);
    expect(flushed).toEqual([...Array(15).fill(64), 40]);
    expect(acked).toBe(1000);
    expect(ledger()[15]).toMatchObject({ sql: insertAcks(40) });
    expect(ledger().flatMap((c) => c.args.filter((_, i) => i % 4 === 3))).toEqual(
      Array.from({ length: 1000 }, (_, i) => i),
    );
    expect(ledger().length / 1000).toBeLessThanOrEqual(0.05);
  });

  it('keeps acknowledgements buffered when a flush fails, and writes them with the next one', () => {
    const calls: Call[] = [];
    let down = true;
    const writer = stubDb('writer', calls);
    const exec = writer.exec.bind(writer);
    writer.exec = (op, sql, ...args) => {
      if (op === 'ledger' && down) throw new Error('writer down');
      return exec(op, sql, ...args);
    };
    const store = new SqlStore(writer, stubDb('reader', calls), null, {
      ...opts,
      strategy: 'eventual',
      ackBatch: 2,
    });
    store.recordAck({ ...key, seq: 1 });
    expect(() => store.recordAck({ ...key, seq: 2 })).toThrow('writer down');
    expect(store.pendingAcks).toBe(2);
    down = false;
    store.recordAck({ ...key, seq: 3 });
    expect(store.pendingAcks).toBe(0);
    expect(calls.filter((c) => c.op === 'ledger').map((c) => c.args.length)).toEqual([12]);
  });

  it('primary: the read after the write goes to the writer, polls still measure the reader', () => {
    const calls: Call[] = [];
    const store = new SqlStore(
      stubDb('writer', calls, () => [{ id: 42 }]),
      stubDb('reader', calls),
      null,
      {
        ...opts,
        strategy: 'primary',
      },
    );
    const ack = store.write(key);
    expect(store.readAfterWrite(key, ack)).toEqual({ seen: true, visibility: { lagUs: 0, basis: 'commit' } });
    expect(store.poll(key)).toEqual({ seen: false });
    expect(calls.map((c) => [c.endpoint, c.op])).toEqual([
      ['writer', 'probe_insert'],
      ['writer', 'probe_read'],
      ['reader', 'probe_poll'],
    ]);
  });

  it('gtid-wait: asks the writing session for its GTID, waits for it on the reader, then reads', () => {
    const calls: Call[] = [];
    const writer = stubDb('writer', calls, (sql) =>
      sql === mariadb.lastWriteGtid ? [{ gtid: '0-1-99' }] : [],
    );
    const reader = stubDb('reader', calls, (sql) =>
      sql === mariadb.waitForGtid ? [{ waited: 0 }] : [{ id: 42 }],
    );
    const store = new SqlStore(writer, reader, null, { ...opts, strategy: 'gtid-wait' });
    const ack = store.write(key);
    expect(ack).toEqual({ id: 42, gtid: '0-1-99' });
    expect(store.readAfterWrite(key, ack)).toMatchObject({ seen: true });
    expect(calls.map((c) => [c.endpoint, c.op, c.args])).toEqual([
      ['writer', 'probe_insert', ['r1:0:3:7', 'r1', '0', 3, 7, 'xxxx']],
      ['writer', 'last_gtid', []],
      ['reader', 'gtid_wait', ['0-1-99', 2]],
      ['reader', 'probe_read', ['r1:0:3:7']],
    ]);
  });

  it.each(['mariadb', 'mysql'] as const)(
    'gtid-wait (%s): a load write is one INSERT, no GTID round trip; only a write read back asks for its GTID',
    (flavor) => {
      const dialect = dialectFor(flavor);
      const calls: Call[] = [];
      const gtid = flavor === 'mysql' ? '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-9' : '0-1-99';
      const writer = stubDb('writer', calls, (sql) => (sql === dialect.lastWriteGtid ? [{ gtid }] : []));
      const store = new SqlStore(writer, stubDb('reader', calls), null, {
        ...opts,
        dialect,
        strategy: 'gtid-wait',
        ackBatch: 1000,
      });
      const statements = () => calls.map((c) => [c.endpoint, c.kind, c.op, c.sql]);
      const insert = ['writer', 'exec', 'insert', SQL.insertProbe];
      const lastGtid = ['writer', 'query', 'last_gtid', dialect.lastWriteGtid];

      // What sql-write-load, sql-replica-lag and sql-read-load send per iteration: the INSERT alone.
      for (let seq = 0; seq < 3; seq++) expect(store.writeAndRecord({ ...key, seq })).toEqual({ id: 42 });
      expect(statements()).toEqual([insert, insert, insert]);
      // sql-mixed's own write, read back later: the INSERT, then its GTID on the same session.
      calls.length = 0;
      expect(store.writeAndRecord(key, true)).toEqual({ id: 42, gtid });
      expect(statements()).toEqual([insert, lastGtid]);
      // The probe's write always carries its GTID.
      calls.length = 0;
      expect(store.write(key)).toEqual({ id: 42, gtid });
      expect(statements()).toEqual([['writer', 'exec', 'probe_insert', SQL.insertProbe], lastGtid]);
      expect(store.pendingAcks).toBe(4);
    },
  );

  it('gtid-wait: a write whose GTID the server does not give reads the reader without waiting', () => {
    const calls: Call[] = [];
    const store = new SqlStore(
      stubDb('writer', calls, () => [{ gtid: null }]),
      stubDb('reader', calls, (sql) => (sql === SQL.pointRead ? [{ id: 42 }] : [])),
      null,
      { ...opts, strategy: 'gtid-wait' },
    );
    const ack = store.writeAndRecord(key, true);
    expect(ack).toEqual({ id: 42, gtid: '' });
    expect(store.readBack(ack)).toBe(true);
    expect(calls.map((c) => [c.endpoint, c.op])).toEqual([
      ['writer', 'insert'],
      ['writer', 'last_gtid'],
      ['reader', 'point_read'],
    ]);
    // No row at all (not even NULL) is no GTID either.
    const empty = new SqlStore(stubDb('writer', []), stubDb('reader', []), null, {
      ...opts,
      strategy: 'gtid-wait',
    });
    expect(empty.write(key)).toEqual({ id: 42, gtid: '' });
  });

  it('reads a write back by id through the strategy: reader, writer, or reader after the GTID wait', () => {
    for (const [strategy, expected] of [
      [
        'eventual',
        [
          ['writer', 'insert', []],
          ['reader', 'point_read', [42]],
        ],
      ],
      [
        'primary',
        [
          ['writer', 'insert', []],
          ['writer', 'point_read', [42]],
        ],
      ],
      [
        'gtid-wait',
        [
          ['writer', 'insert', []],
          ['writer', 'last_gtid', []],
          ['reader', 'gtid_wait', ['0-1-99', 2]],
          ['reader', 'point_read', [42]],
        ],
      ],
    ] as const) {
      const calls: Call[] = [];
      const answer = (sql: string) =>
        sql === mariadb.lastWriteGtid ? [{ gtid: '0-1-99' }] : sql === SQL.pointRead ? [{ id: 42 }] : [];
      const store = new SqlStore(stubDb('writer', calls, answer), stubDb('reader', calls, answer), null, {
        ...opts,
        strategy,
      });
      const ack = store.writeAndRecord(key, true);
      expect(store.readBack(ack)).toBe(true);
      expect(store.readBackEndpoint()).toBe(strategy === 'primary' ? 'writer' : 'reader');
      expect(
        calls.map((c) => [c.endpoint, c.op, c.op === 'insert' ? [] : c.args]),
        strategy,
      ).toEqual(expected);
    }
  });

  it('samples heartbeat lag: the newest beat on the replica, then the oldest beat it lacks on the primary', () => {
    const calls: Call[] = [];
    let newest: DecodedRow[] = [];
    let missing: DecodedRow[] = [{ ts_us: null }];
    const store = new SqlStore(
      stubDb('writer', calls, (sql) =>
        sql === SQL.heartbeatOldestAfter ? missing : [{ now_us: '1764118000000000' }],
      ),
      stubDb('reader', calls, (sql) => (sql === SQL.heartbeatReplicaNewest ? newest : [])),
      null,
      { ...opts, strategy: 'eventual' },
    );
    expect(store.writerNowUs()).toBe(1_764_118_000_000_000);
    expect(store.sample(0)).toBeNull(); // nothing replicated yet
    // The newest beat there was applied 52.034 ms after it was written; nothing newer on the primary.
    newest = [{ ts_us: '1764118000123456', applied_us: '1764118000175490', now_us: '1764118000200000' }];
    expect(store.sample(0)).toEqual({ lagMs: 52.034, basis: 'apply-stamp', tsMs: 1_764_118_000_123.456 });
    // A beat from 1764118000133456 is still missing, 66.544 ms old on the replica's clock: lag is at least that.
    missing = [{ ts_us: 1_764_118_000_133_456 }];
    expect(store.sample(0)?.lagMs).toBe(66.544);
    // A beat from before this run (fromUs) is no measurement.
    expect(store.sample(1_764_118_000_123_457)).toBeNull();
    // Reader first: a beat committed between the two queries is newer than the replica's clock, not missing.
    expect(calls.slice(2, 4).map((c) => [c.endpoint, c.op, c.args])).toEqual([
      ['reader', 'heartbeat_read', []],
      ['writer', 'heartbeat_history', [1_764_118_000_123_456]],
    ]);
  });

  it('beats into the history and the pt-heartbeat row, pruning the history now and then', () => {
    const calls: Call[] = [];
    const store = new SqlStore(stubDb('writer', calls), stubDb('reader', calls), null, {
      ...opts,
      strategy: 'eventual',
    });
    for (let i = 0; i < 1200; i++) store.beat();
    expect(calls.filter((c) => c.sql === SQL.heartbeatLog)).toHaveLength(1200);
    expect(calls.filter((c) => c.sql === SQL.heartbeatBeat)).toHaveLength(1200);
    expect(calls.filter((c) => c.sql === SQL.heartbeatPrune)).toHaveLength(2);
  });

  it('reads Seconds_Behind through the dialect, and stops after the first failure with one warning', () => {
    const warnings: string[] = [];
    let fail = false;
    const monitor = {
      queryQuiet: () => {
        if (fail) throw new Error('Access denied; you need SLAVE MONITOR');
        return [{ Seconds_Behind_Master: 3 }];
      },
    } as unknown as SqlHandle;
    const store = new SqlStore(
      stubDb('writer', []),
      stubDb('reader', []),
      monitor,
      { ...opts, strategy: 'eventual' },
      (l) => warnings.push(l),
    );
    expect(store.secondsBehind()).toBe(3);
    fail = true;
    expect(store.secondsBehind()).toBeNull();
    fail = false;
    expect(store.secondsBehind()).toBeNull();
    expect(warnings).toEqual([
      'Seconds_Behind sampling disabled: Error: Access denied; you need SLAVE MONITOR',
    ]);
    const mysql = new SqlStore(
      stubDb('writer', []),
      stubDb('reader', []),
      {
        queryQuiet: () => [{ Seconds_Behind_Source: null }],
      } as unknown as SqlHandle,
      { ...opts, dialect: dialectFor('mysql'), strategy: 'eventual' },
    );
    expect(mysql.secondsBehind()).toBeNull();
  });

  it('reconciles by acknowledged write: per VU, acknowledgements and those without a row, for one run and runner', () => {
    const calls: Call[] = [];
    const store = new SqlStore(
      stubDb('writer', calls, (sql) =>
        sql === SQL.acksByVu
          ? [
              { vu: 1, acked: '5', missing: '0' },
              { vu: 2, acked: 3, missing: 1 },
            ]
          : [],
      ),
      stubDb('reader', calls, (sql) => (sql === SQL.acksByVu ? [{ vu: 1, acked: '4', missing: '1' }] : [])),
      null,
      { ...opts, strategy: 'eventual' },
    );
    const scope = { runId: 'r1', runner: '2' };
    expect([...store.acks('writer', scope)]).toEqual([
      [1, { acked: 5, missing: 0 }],
      [2, { acked: 3, missing: 1 }],
    ]);
    expect([...store.acks('reader', scope)]).toEqual([[1, { acked: 4, missing: 1 }]]);
    expect(calls.map((c) => [c.endpoint, c.op])).toEqual([
      ['writer', 'reconcile_acks'],
      ['reader', 'reconcile_acks'],
    ]);
    expect(calls.every((c) => c.args.join() === 'r1,2')).toBe(true);
  });
});
