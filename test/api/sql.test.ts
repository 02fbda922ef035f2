import { describe, expect, it } from 'vitest';
import { isOutage } from '../../api/errors.ts';
import {
  INSERT_USER,
  SELECT_USER_BY_EMAIL,
  SELECT_USER_BY_ID,
  selectCreatedUser,
} from '../../api/users/sql.ts';
import { DIALECTS } from '../../common/dialect.ts';
import {
  grBeforeSessionSql,
  routerSplitSessionSql,
  setGroupReplicationConsistency,
} from '../../common/mysql-strategies.ts';

describe('MySQL-only strategy SQL', () => {
  it('gr-before sets the session consistency to BEFORE', () => {
    expect(grBeforeSessionSql()).toEqual(["SET SESSION group_replication_consistency = 'BEFORE'"]);
  });

  it('refuses consistency levels MySQL does not have', () => {
    expect(() => setGroupReplicationConsistency("BEFORE'; DROP TABLE users; --" as never)).toThrow(
      /^invalid group_replication_consistency; reason: expected one of/,
    );
  });

  it('router-split asks Router to wait for the session writes, with an explicit timeout', () => {
    expect(routerSplitSessionSql(2)).toEqual([
      "ROUTER SET access_mode = 'auto'",
      'ROUTER SET wait_for_my_writes = 1',
      'ROUTER SET wait_for_my_writes_timeout = 2',
    ]);
    expect(routerSplitSessionSql(0).at(-1)).toBe('ROUTER SET wait_for_my_writes_timeout = 0');
  });

  it.each([-1, 1.5, Number.NaN, 2 ** 32])('rejects a Router timeout of %s', (t) => {
    expect(() => routerSplitSessionSql(t)).toThrow(/^invalid wait_for_my_writes_timeout/);
  });
});

describe('users SQL', () => {
  it('is parameterised', () => {
    for (const sql of [INSERT_USER, SELECT_USER_BY_ID, SELECT_USER_BY_EMAIL]) expect(sql).toMatch(/\?/);
    expect(INSERT_USER).toBe('INSERT INTO users (email, name) VALUES (?, ?)');
  });

  it('reads the created row and the write GTID in one statement, per flavour', () => {
    expect(selectCreatedUser(DIALECTS.mariadb)).toBe(
      'SELECT u.id, u.email, u.name, u.created_at, g.gtid FROM users u CROSS JOIN (SELECT @@last_gtid AS gtid) g WHERE u.id = ?',
    );
    expect(selectCreatedUser(DIALECTS.mysql)).toContain(
      'CROSS JOIN (SELECT @@GLOBAL.gtid_executed AS gtid) g',
    );
  });
});

describe('isOutage', () => {
  it.each([
    [{ code: 'ECONNREFUSED' }, true],
    [{ code: 'PROTOCOL_CONNECTION_LOST' }, true],
    [{ code: 'ER_OPTION_PREVENTS_STATEMENT' }, true],
    [new Error("Can't add new command when connection is in closed state"), true],
    [new Error('Queue limit reached.'), true],
    [{ code: 'ER_DUP_ENTRY' }, false],
    [{ code: 'ER_PARSE_ERROR' }, false],
    [null, false],
    ['ECONNREFUSED', false],
  ])('%o → %s', (err, expected) => {
    expect(isOutage(err)).toBe(expected);
  });
});
