import { describe, expect, it } from 'vitest';
import { dialectFor } from '../../common/dialect.ts';
import type { DecodedRow } from '../../lib/decode.ts';
import { SqlStore } from '../../lib/k6/sql-store.ts';
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
      stubDb('reader', calls, () => [{ id: 42 }]),
      null,
      {
        ...opts,
        strategy: 'eventual',
      },
    );
    const ack = store.write(key);
    expect(ack).toEqual({ id: 42 });
    expect(store.readAfterWrite(key, ack)).toBe(true);
    expect(store.poll(key)).toBe(true);
    store.recordAck(key);
    expect(calls.map((c) => [c.endpoint, c.op])).toEqual([
      ['writer', 'probe_insert'],
      ['reader', 'probe_read'],
      ['reader', 'probe_poll'],
      ['writer', 'ledger'],
    ]);
    expect(calls[0]?.args).toEqual(['r1:0:3:7', 'r1', '0', 3, 7, 'xxxx']);
    expect(calls[1]).toMatchObject({ sql: SQL.probeVisible, args: ['r1:0:3:7'] });
    expect(calls[3]).toMatchObject({ sql: SQL.ackWrite, args: ['r1', '0', 3, 7] });
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
    expect(store.readAfterWrite(key, ack)).toBe(true);
    expect(store.poll(key)).toBe(false);
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
    expect(store.readAfterWrite(key, ack)).toBe(true);
    expect(calls.map((c) => [c.endpoint, c.op, c.args])).toEqual([
      ['writer', 'probe_insert', ['r1:0:3:7', 'r1', '0', 3, 7, 'xxxx']],
      ['writer', 'last_gtid', []],
      ['reader', 'gtid_wait', ['0-1-99', 2]],
      ['reader', 'probe_read', ['r1:0:3:7']],
    ]);
  });

  it('reads a write back by id through the strategy: reader, writer, or reader after the GTID wait', () => {
    for (const [strategy, expected] of [
      [
        'eventual',
        [
          ['writer', 'insert', []],
          ['writer', 'ledger', ['r1', '0', 3, 7]],
          ['reader', 'point_read', [42]],
        ],
      ],
      [
        'primary',
        [
          ['writer', 'insert', []],
          ['writer', 'ledger', ['r1', '0', 3, 7]],
          ['writer', 'point_read', [42]],
        ],
      ],
      [
        'gtid-wait',
        [
          ['writer', 'insert', []],
          ['writer', 'last_gtid', []],
          ['writer', 'ledger', ['r1', '0', 3, 7]],
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

  it('samples heartbeat lag in ms from integer microseconds, null before any heartbeat', () => {
    let rows: DecodedRow[] = [{ lag_us: null, ts_us: null }];
    const store = new SqlStore(
      stubDb('writer', []),
      stubDb('reader', [], () => rows),
      null,
      {
        ...opts,
        strategy: 'eventual',
      },
    );
    expect(store.sample()).toBeNull();
    rows = [{ lag_us: '52034', ts_us: '1764118000123456' }];
    expect(store.sample()).toEqual({ lagMs: 52.034, tsMs: 1_764_118_000_123.456 });
  });

  it('subtracts the primary’s own heartbeat age, read right after the replica’s, clamped at 0', () => {
    const calls: Call[] = [];
    let replicaAge = '152034';
    let primaryAge: number | null = 100_000;
    const store = new SqlStore(
      stubDb('writer', calls, (sql) => (sql === SQL.heartbeatAge ? [{ age_us: primaryAge }] : [])),
      stubDb('reader', calls, (sql) =>
        sql === SQL.heartbeatSample ? [{ lag_us: replicaAge, ts_us: '1764118000123456' }] : [],
      ),
      null,
      { ...opts, strategy: 'eventual' },
    );
    // Zero lag, heartbeat 100 ms old on both sides would read 100 ms without the correction.
    expect(store.sample()).toEqual({ lagMs: 52.034, tsMs: 1_764_118_000_123.456 });
    expect(calls.map((c) => [c.endpoint, c.op])).toEqual([
      ['reader', 'heartbeat_read'],
      ['writer', 'heartbeat_age'],
    ]);
    replicaAge = '90000'; // the primary beat between the two reads: never a negative lag
    expect(store.sample()?.lagMs).toBe(0);
    replicaAge = '100000';
    primaryAge = 100_000;
    expect(store.sample()?.lagMs).toBe(0);
    primaryAge = null; // no heartbeat on the primary: the replica's age is all there is
    expect(store.sample()?.lagMs).toBe(100);
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
