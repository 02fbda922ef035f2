import { describe, expect, it } from 'vitest';
import { DIALECTS, flavorFromVersion, gtidFlavor } from '../../common/dialect.ts';

describe('dialect', () => {
  it.each(Object.values(DIALECTS))('$flavor: only a 0 result means the GTID wait was reached', (d) => {
    expect(d.gtidWaitReached(0)).toBe(true);
    expect(d.gtidWaitReached('0')).toBe(true);
    for (const notReached of [null, undefined, '', -1, 1, '-1', '1'])
      expect(d.gtidWaitReached(notReached)).toBe(false);
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

  it('knows which server refuses an unparsable GTID with which error, and which has Group Replication', () => {
    expect(DIALECTS.mariadb.unparsableGtidErrno).toBe(1941);
    expect(DIALECTS.mysql.unparsableGtidErrno).toBe(1772);
    expect(DIALECTS.mariadb.groupReplication).toBe(false);
    expect(DIALECTS.mysql.groupReplication).toBe(true);
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
