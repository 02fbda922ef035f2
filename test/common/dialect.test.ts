import { describe, expect, it } from 'vitest';
import { DIALECTS, flavorFromVersion } from '../../common/dialect.ts';

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

  it('tells the flavour from VERSION()', () => {
    expect(flavorFromVersion('10.11.6-MariaDB-0+deb12u1-log')).toBe('mariadb');
    expect(flavorFromVersion('8.4.3')).toBe('mysql');
  });
});
