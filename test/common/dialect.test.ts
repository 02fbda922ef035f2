import { describe, expect, it } from 'vitest';
import {
  APPLY_STAMPED_TABLES,
  DIALECTS,
  type Dialect,
  dialectFor,
  epochUs,
  type Flavor,
  flavorFromVersion,
  gtidFlavor,
  SYSDATE_US,
} from '../../common/dialect.ts';

const SOURCE = { host: 'db-1', port: 3306, user: 'repl', password: 'pw' };

/**
 * Every field of a dialect as plain data: the statements, the columns, the options, and what its two statement
 * builders return (with and without the optional retry). The GTID notation and the two checks are tested by
 * behaviour below.
 */
function pinned(d: Dialect) {
  const { changeSource, setApplyDelay, gtidWaitReached, gtidRangeProblem, gtidPattern, ...data } = d;
  return {
    ...data,
    changeSource: changeSource(SOURCE),
    changeSourceRetry5: changeSource({ ...SOURCE, connectRetrySeconds: 5 }),
    setApplyDelay0: setApplyDelay(0),
    setApplyDelay7: setApplyDelay(7),
  };
}

const STAMP = 'FOR EACH ROW SET NEW.applied_at = SYSDATE(6)';
const EXPECTED: Record<Flavor, ReturnType<typeof pinned>> = {
  mariadb: {
    flavor: 'mariadb',
    showReplicaStatus: 'SHOW SLAVE STATUS',
    secondsBehindColumn: 'Seconds_Behind_Master',
    ioRunningColumn: 'Slave_IO_Running',
    sqlRunningColumn: 'Slave_SQL_Running',
    startReplica: 'START SLAVE',
    stopReplica: 'STOP SLAVE',
    startSqlThread: 'START SLAVE SQL_THREAD',
    stopSqlThread: 'STOP SLAVE SQL_THREAD',
    resetReplicaGtidPosition: "SET GLOBAL gtid_slave_pos = ''",
    changeSource:
      "CHANGE MASTER TO MASTER_HOST='db-1', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='pw', " +
      'MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1',
    changeSourceRetry5:
      "CHANGE MASTER TO MASTER_HOST='db-1', MASTER_PORT=3306, MASTER_USER='repl', MASTER_PASSWORD='pw', " +
      'MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=5',
    setApplyDelay0: 'CHANGE MASTER TO MASTER_DELAY=0',
    setApplyDelay7: 'CHANGE MASTER TO MASTER_DELAY=7',
    applyDelayColumn: 'SQL_Delay',
    applyDelayOption: 'MASTER_DELAY',
    sourcePortColumn: 'Master_Port',
    lastWriteGtid: 'SELECT @@last_gtid AS gtid',
    waitForGtid: 'SELECT MASTER_GTID_WAIT(?, ?) AS waited',
    sourceGtidPosition: 'SELECT @@GLOBAL.gtid_binlog_pos AS gtid',
    unparsableGtidErrno: 1941,
    exporterGrants: 'PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT',
    monitorGrants: 'REPLICATION CLIENT, SLAVE MONITOR',
    replicationGrants: 'REPLICATION SLAVE',
    serverOptions: ['gtid_strict_mode=ON', 'log_slave_updates=ON'],
    replicaServerOptions: ['read_only=ON', 'skip-slave-start', 'slave_run_triggers_for_rbr=YES'],
    replicaApplyStamps: [
      'SET SESSION sql_log_bin = 0',
      `CREATE TRIGGER IF NOT EXISTS probe_rows_apply_stamp BEFORE INSERT ON probe_rows ${STAMP}`,
      `CREATE TRIGGER IF NOT EXISTS users_apply_stamp BEFORE INSERT ON users ${STAMP}`,
      'CREATE TRIGGER IF NOT EXISTS heartbeat_log_apply_stamp BEFORE INSERT ON heartbeat_log ' +
        'FOR EACH ROW SET NEW.applied_us = CAST(UNIX_TIMESTAMP(SYSDATE(6)) * 1000000 AS UNSIGNED)',
      'SET SESSION sql_log_bin = 1',
    ],
  },
  mysql: {
    flavor: 'mysql',
    showReplicaStatus: 'SHOW REPLICA STATUS',
    secondsBehindColumn: 'Seconds_Behind_Source',
    ioRunningColumn: 'Replica_IO_Running',
    sqlRunningColumn: 'Replica_SQL_Running',
    startReplica: 'START REPLICA',
    stopReplica: 'STOP REPLICA',
    startSqlThread: 'START REPLICA SQL_THREAD',
    stopSqlThread: 'STOP REPLICA SQL_THREAD',
    // RESET MASTER is gone in 8.4.
    resetReplicaGtidPosition: 'RESET BINARY LOGS AND GTIDS',
    changeSource:
      "CHANGE REPLICATION SOURCE TO SOURCE_HOST='db-1', SOURCE_PORT=3306, SOURCE_USER='repl', " +
      "SOURCE_PASSWORD='pw', SOURCE_AUTO_POSITION=1, SOURCE_CONNECT_RETRY=1, GET_SOURCE_PUBLIC_KEY=1",
    changeSourceRetry5:
      "CHANGE REPLICATION SOURCE TO SOURCE_HOST='db-1', SOURCE_PORT=3306, SOURCE_USER='repl', " +
      "SOURCE_PASSWORD='pw', SOURCE_AUTO_POSITION=1, SOURCE_CONNECT_RETRY=5, GET_SOURCE_PUBLIC_KEY=1",
    setApplyDelay0: 'CHANGE REPLICATION SOURCE TO SOURCE_DELAY=0',
    setApplyDelay7: 'CHANGE REPLICATION SOURCE TO SOURCE_DELAY=7',
    applyDelayColumn: 'SQL_Delay',
    applyDelayOption: 'SOURCE_DELAY',
    sourcePortColumn: 'Source_Port',
    lastWriteGtid: 'SELECT @@GLOBAL.gtid_executed AS gtid',
    // WAIT_UNTIL_SQL_THREAD_AFTER_GTIDS is gone in 8.4.
    waitForGtid: 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS waited',
    sourceGtidPosition: 'SELECT @@GLOBAL.gtid_executed AS gtid',
    unparsableGtidErrno: 1772,
    exporterGrants: 'PROCESS, REPLICATION CLIENT, SELECT',
    monitorGrants: 'REPLICATION CLIENT',
    replicationGrants: 'REPLICATION SLAVE',
    serverOptions: ['gtid_mode=ON', 'enforce_gtid_consistency=ON', 'log_replica_updates=ON', 'mysqlx=OFF'],
    replicaServerOptions: ['read_only=ON', 'super_read_only=ON', 'skip-replica-start'],
    replicaApplyStamps: [],
  },
};

/** Every piece of SQL or server option text a dialect can produce, its statement builders' output included. */
function allText(d: Dialect): string[] {
  return Object.values(pinned(d)).flatMap((v) =>
    typeof v === 'string' ? [v] : Array.isArray(v) ? v.map(String) : [],
  );
}

/** Statements, functions and options that MySQL 8.4 removed (the 8.0 deprecations), none of which it may send. */
const GONE_IN_MYSQL_84 = [
  'RESET MASTER',
  'RESET SLAVE',
  'SHOW MASTER STATUS',
  'WAIT_UNTIL_SQL_THREAD_AFTER_GTIDS',
  'MASTER_POS_WAIT',
  'master_info_repository',
  'relay_log_info_repository',
  'log_slave_updates',
  'skip-slave-start',
  'slave_',
];

describe('dialect', () => {
  it.each(Object.values(DIALECTS))('$flavor: only a 0 result means the GTID wait was reached', (d) => {
    expect(d.gtidWaitReached(0)).toBe(true);
    expect(d.gtidWaitReached('0')).toBe(true);
    for (const notReached of [null, undefined, '', -1, 1, '-1', '1'])
      expect(d.gtidWaitReached(notReached)).toBe(false);
  });

  it.each(['mariadb', 'mysql'] as const)('%s: every statement, column and option, exactly', (flavor) => {
    const d = dialectFor(flavor);
    expect(d).toBe(DIALECTS[flavor]);
    expect(pinned(d)).toEqual(EXPECTED[flavor]);
    // A field added to the dialect must be pinned here too.
    const built = ['changeSourceRetry5', 'setApplyDelay0', 'setApplyDelay7'];
    const byBehaviour = ['setApplyDelay', 'gtidWaitReached', 'gtidRangeProblem', 'gtidPattern'];
    expect(Object.keys(d).sort()).toEqual(
      [...Object.keys(EXPECTED[flavor]).filter((k) => !built.includes(k)), ...byBehaviour].sort(),
    );
  });

  it('MySQL 8.4: no MASTER or SLAVE word anywhere but the REPLICATION SLAVE privilege, nothing 8.4 removed', () => {
    const legacyWord = (sql: string) => /master|slave/i.test(sql.replace(/\bREPLICATION SLAVE\b/g, ''));
    const text = allText(DIALECTS.mysql);
    expect(text).toHaveLength(30);
    for (const sql of text) {
      expect(legacyWord(sql), sql).toBe(false);
      for (const gone of GONE_IN_MYSQL_84) expect(sql.toLowerCase(), sql).not.toContain(gone.toLowerCase());
    }
    // The check itself sees what it looks for.
    expect(legacyWord('RESET MASTER')).toBe(true);
    expect(legacyWord('REPLICATION SLAVE, SLAVE MONITOR')).toBe(true);
    expect(legacyWord('log_slave_updates=ON')).toBe(true);
    expect(allText(DIALECTS.mariadb).filter(legacyWord)).toContain('SHOW SLAVE STATUS');
  });

  it('builds the apply stamps from the stamped tables and the server time in microseconds', () => {
    expect(APPLY_STAMPED_TABLES).toEqual(['probe_rows', 'users']);
    expect(epochUs('t.x')).toBe('CAST(UNIX_TIMESTAMP(t.x) * 1000000 AS UNSIGNED)');
    expect(SYSDATE_US).toBe('CAST(UNIX_TIMESTAMP(SYSDATE(6)) * 1000000 AS UNSIGNED)');
  });

  it('names the MariaDB statements and columns', () => {
    const d = DIALECTS.mariadb;
    expect(d.showReplicaStatus).toBe('SHOW SLAVE STATUS');
    expect(d.secondsBehindColumn).toBe('Seconds_Behind_Master');
    expect(d.setApplyDelay(2)).toBe('CHANGE MASTER TO MASTER_DELAY=2');
  });

  it('names the MySQL 8.4 statements and columns', () => {
    const d = DIALECTS.mysql;
    expect(d.showReplicaStatus).toBe('SHOW REPLICA STATUS');
    expect(d.secondsBehindColumn).toBe('Seconds_Behind_Source');
    expect(d.setApplyDelay(2)).toBe('CHANGE REPLICATION SOURCE TO SOURCE_DELAY=2');
    expect(d.serverOptions).toContain('mysqlx=OFF');
  });

  it.each(Object.values(DIALECTS))('$flavor: quotes values in CHANGE SOURCE and refuses bad numbers', (d) => {
    const sql = d.changeSource({ host: '127.0.0.1', port: 3306, user: "o'brien", password: 'a\\b' });
    expect(sql).toContain("'o''brien'");
    expect(sql).toContain("'a\\\\b'");
    expect(() => d.changeSource({ host: 'h', port: -1, user: 'u', password: 'p' })).toThrow(
      /non-negative integer/,
    );
    expect(() => d.setApplyDelay(1.5)).toThrow(/non-negative integer/);
  });

  it('knows which server refuses an unparsable GTID with which error', () => {
    expect(DIALECTS.mariadb.unparsableGtidErrno).toBe(1941);
    expect(DIALECTS.mysql.unparsableGtidErrno).toBe(1772);
  });

  it.each([
    ['mariadb', '0-1-42,1-2-7'],
    ['mysql', '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:tag:1-3'],
  ] as const)('%s: its GTID notation matches its own positions only', (flavor, gtid) => {
    const own = new RegExp(`^(?:${DIALECTS[flavor].gtidPattern})$`, 'u');
    const other = new RegExp(`^(?:${DIALECTS[flavor === 'mysql' ? 'mariadb' : 'mysql'].gtidPattern})$`, 'u');
    expect(gtidFlavor(gtid)).toBe(flavor);
    expect(own.test(gtid)).toBe(true);
    expect(other.test(gtid)).toBe(false);
    expect(DIALECTS[flavor].gtidRangeProblem(gtid)).toBeUndefined();
  });

  it('compares GTID numbers as decimals, leading zeros and all, without BigInt', () => {
    const { mariadb, mysql } = DIALECTS;
    expect(mariadb.gtidRangeProblem('04294967295-1-1')).toBeUndefined();
    expect(mariadb.gtidRangeProblem('4294967296-1-1')).toMatch(/domain id/);
    expect(mariadb.gtidRangeProblem('0-1-1,00-1-2')).toMatch(/appears twice/);
    expect(mariadb.gtidRangeProblem('0-1')).toBe('not a GTID');
    const u = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
    expect(mysql.gtidRangeProblem(`${u}:9-10`)).toBeUndefined();
    expect(mysql.gtidRangeProblem(`${u}:10-9`)).toMatch(/ends before/);
    expect(mysql.gtidRangeProblem(`${u}:000`)).toMatch(/outside/);
  });

  it('MariaDB: domain and server ids up to 2^32-1, sequence numbers up to 2^64-1, each domain once', () => {
    const problem = DIALECTS.mariadb.gtidRangeProblem;
    for (const ok of [
      '0-1-1',
      '4294967295-4294967295-18446744073709551615',
      // Leading zeros do not count: neither for the limits nor for telling domains apart.
      '004294967295-1-1',
      '0-1-018446744073709551615',
      '1000000000-1-1',
      '100-1-1,10-1-2,1-1-3',
      '10-1-1,1-1-2',
    ])
      expect(problem(ok), ok).toBeUndefined();
    expect(problem('4294967296-1-1')).toBe('domain id of 4294967296-1-1 is over 2^32-1');
    expect(problem('9999999999-1-1')).toBe('domain id of 9999999999-1-1 is over 2^32-1');
    expect(problem('10000000000-1-1')).toBe('domain id of 10000000000-1-1 is over 2^32-1');
    expect(problem('0-4294967296-1')).toBe('server id of 0-4294967296-1 is over 2^32-1');
    expect(problem('0-1-18446744073709551616')).toBe(
      'sequence number of 0-1-18446744073709551616 is over 2^64-1',
    );
    expect(problem('0-1-1,00-1-2')).toBe('domain 0 appears twice');
    expect(problem('0-1-1,000-1-2')).toBe('domain 0 appears twice');
    expect(problem('7-1-1,5-1-1,07-2-2')).toBe('domain 7 appears twice');
    for (const bad of ['0-1', '-1-1', '0--1', '0-1-', '0-1-1-1', 'a0-1-1', '0a-1-1', '0-1-1,', '0-1-1.5'])
      expect(problem(bad), bad).toBe('not a GTID');
  });

  it('MySQL: transaction numbers 1 … 2^63-1, intervals in order, tags skipped, every uuid set checked', () => {
    const problem = DIALECTS.mysql.gtidRangeProblem;
    const u = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
    const u2 = '4f22ab58-82db-22f2-af44-d91bba530673';
    for (const ok of [
      `${u}:1`,
      `${u}:5-5`,
      // The start's leading zeros do not count either: 5 … 6.
      `${u}:005-6`,
      `${u}:1-9223372036854775807`,
      `${u}:9223372036854775807`,
      `${u}:1-3:7:tag_9:2-4`,
      `${u}:x1:1`,
      `${u}:1,${u2}:2-3`,
    ])
      expect(problem(ok), ok).toBeUndefined();
    expect(problem(`${u}:0`)).toBe('interval 0 is outside 1 … 2^63-1');
    expect(problem(`${u}:0-5`)).toBe('interval 0-5 is outside 1 … 2^63-1');
    expect(problem(`${u}:000`)).toBe('interval 000 is outside 1 … 2^63-1');
    expect(problem(`${u}:9223372036854775808`)).toBe('interval 9223372036854775808 is outside 1 … 2^63-1');
    expect(problem(`${u}:1-9223372036854775808`)).toBe(
      'interval 1-9223372036854775808 is outside 1 … 2^63-1',
    );
    expect(problem(`${u}:10-9`)).toBe('interval 10-9 ends before it starts');
    expect(problem(`${u}:1,${u2}:1:t:6-5`)).toBe('interval 6-5 ends before it starts');
    for (const bad of [`${u}:1-2-3`, `${u}:1-`, `${u}:1-x`, `${u}:1a`])
      expect(problem(bad), bad).toBe('not a GTID');
  });

  it.each([
    ['mariadb', ['0-1-1', '4294967295-4294967295-18446744073709551615', '0-1-42,1-2-7,2-3-9']],
    [
      'mysql',
      [
        '3e11fa47-71ca-11e1-9e33-c80aa9429562:1',
        '3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7',
        '3e11fa47-71ca-11e1-9e33-c80aa9429562:tag:1-3',
        `3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:_a${'b'.repeat(30)}:1-3:Z9:4`,
        '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,4f22ab58-82db-22f2-af44-d91bba530673:t:2:3-4',
      ],
    ],
  ] as const)('%s: its GTID notation takes every form of a position', (flavor, positions) => {
    const re = new RegExp(`^(?:${DIALECTS[flavor].gtidPattern})$`, 'u');
    for (const gtid of positions) expect(re.test(gtid), gtid).toBe(true);
  });

  it.each([
    [
      'mariadb',
      ['', '0-1', '0-1-1,', ',0-1-1', '0-1-1;1-1-1', '12345678901-1-1', '0-1-123456789012345678901', 'a-1-1'],
    ],
    [
      'mysql',
      [
        '',
        '3e11fa47-71ca-11e1-9e33-c80aa9429562',
        '3e11fa47-71ca-11e1-9e33-c80aa9429562:',
        '3e11fa47-71ca-11e1-9e33-c80aa9429562:tag',
        '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:tag',
        '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-',
        `3e11fa47-71ca-11e1-9e33-c80aa9429562:a${'b'.repeat(32)}:1`,
        '3e11fa47-71ca-11e1-9e33-c80aa9429562:1:9tag:2',
        '3e11fa47-71ca-11e1-9e33-c80aa942956:1',
        'g3e11fa4-71ca-11e1-9e33-c80aa9429562:1',
        '3e11fa47-71ca-11e1-9e33-c80aa9429562:1,',
        '3e11fa47-71ca-11e1-9e33-c80aa9429562:123456789012345678901',
      ],
    ],
  ] as const)('%s: its GTID notation refuses what is no position', (flavor, positions) => {
    const re = new RegExp(`^(?:${DIALECTS[flavor].gtidPattern})$`, 'u');
    for (const gtid of positions) expect(re.test(gtid), gtid).toBe(false);
  });

  it('tells a GTID notation by its colons', () => {
    expect(gtidFlavor('0-1-1')).toBe('mariadb');
    expect(gtidFlavor('')).toBe('mariadb');
    expect(gtidFlavor('3e11fa47-71ca-11e1-9e33-c80aa9429562:1')).toBe('mysql');
  });

  it.each(Object.values(DIALECTS))(
    '$flavor: escapes every quote and backslash, and refuses bad numbers exactly',
    (d) => {
      const sql = d.changeSource({ host: "h'1'", port: 0, user: 'a\\\\b', password: "x'\\'y" });
      expect(sql).toContain(d.flavor === 'mysql' ? "SOURCE_HOST='h''1'''" : "MASTER_HOST='h''1'''");
      // Two backslashes become four; a quote becomes two.
      expect(sql).toContain("USER='a\\\\\\\\b',");
      expect(sql).toContain("PASSWORD='x''\\\\''y',");
      expect(() => d.setApplyDelay(-1)).toThrow(new Error('expected a non-negative integer, got -1'));
      expect(() => d.setApplyDelay(Number.NaN)).toThrow(
        new Error('expected a non-negative integer, got NaN'),
      );
      expect(() => d.changeSource({ ...SOURCE, connectRetrySeconds: 0.5 })).toThrow(
        new Error('expected a non-negative integer, got 0.5'),
      );
    },
  );

  it.each(Object.values(DIALECTS))('$flavor: names the apply-delay option its statement sets', (d) => {
    expect(d.setApplyDelay(3)).toContain(`${d.applyDelayOption}=3`);
  });

  it('names the replica status column with the source port', () => {
    expect(DIALECTS.mariadb.sourcePortColumn).toBe('Master_Port');
    expect(DIALECTS.mysql.sourcePortColumn).toBe('Source_Port');
  });

  it('tells the flavour from VERSION()', () => {
    expect(flavorFromVersion('10.11.6-MariaDB-0+deb12u1-log')).toBe('mariadb');
    expect(flavorFromVersion('8.4.3')).toBe('mysql');
  });
});
