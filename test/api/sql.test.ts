import { describe, expect, it } from 'vitest';
import { isOutage } from '../../api/errors.ts';
import {
  INSERT_USER,
  replicaVisibility,
  SELECT_USER_BY_EMAIL,
  SELECT_USER_BY_ID,
  SELECT_VISIBLE_USER_BY_ID,
  selectCreatedUser,
  toUser,
} from '../../api/users/sql.ts';
import { DIALECTS } from '../../common/dialect.ts';
import { ACKS_BY_VU } from '../../common/ledger-sql.ts';
import {
  routerSplitSessionSql,
  setGroupReplicationConsistency,
  syncBeforeDsnParams,
  syncBeforeSessionSql,
} from '../../common/mysql-strategies.ts';

describe('server-side strategy SQL', () => {
  it('sync-before switches on causal reads: wsrep_sync_wait on Galera, BEFORE consistency on Group Replication', () => {
    expect(syncBeforeSessionSql('mariadb')).toEqual(['SET SESSION wsrep_sync_wait = 1']);
    expect(syncBeforeSessionSql('mysql')).toEqual(["SET SESSION group_replication_consistency = 'BEFORE'"]);
  });

  it('sync-before as Go driver DSN parameters: the same variable, a string value quoted as %27', () => {
    expect(syncBeforeDsnParams('mariadb')).toBe('wsrep_sync_wait=1');
    expect(syncBeforeDsnParams('mysql')).toBe('group_replication_consistency=%27BEFORE%27');
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
    for (const sql of [INSERT_USER, SELECT_USER_BY_ID, SELECT_USER_BY_EMAIL, ...Object.values(ACKS_BY_VU)])
      expect(sql).toMatch(/\?/);
    expect(INSERT_USER).toBe('INSERT INTO users (email, name) VALUES (?, ?)');
  });

  it('reads the created row, its write time in µs and the write GTID in one statement, per flavour', () => {
    expect(selectCreatedUser(DIALECTS.mariadb)).toBe(
      'SELECT u.id, u.email, u.name, u.created_at, ' +
        'CAST(UNIX_TIMESTAMP(u.created_at) * 1000000 AS UNSIGNED) AS created_us, g.gtid ' +
        'FROM users u CROSS JOIN (SELECT @@last_gtid AS gtid) g WHERE u.id = ?',
    );
    expect(selectCreatedUser(DIALECTS.mysql)).toContain(
      'CROSS JOIN (SELECT @@GLOBAL.gtid_executed AS gtid) g',
    );
  });
});

describe('replica visibility columns', () => {
  const row = (lag: number | string | null, stamped: number | string | null) => ({
    id: 1,
    email: 'a@b.co',
    name: 'a',
    created_at: new Date(0),
    visibility_lag_us: lag,
    apply_stamped: stamped,
  });

  it('select the same user plus its lag, which never reaches the body', () => {
    expect(SELECT_VISIBLE_USER_BY_ID).toContain(
      'TIMESTAMPDIFF(MICROSECOND, created_at, COALESCE(applied_at, SYSDATE(6)))',
    );
    expect(toUser(row(5, 1))).toEqual({
      id: 1,
      email: 'a@b.co',
      name: 'a',
      created_at: '1970-01-01T00:00:00.000Z',
    });
  });

  it.each([
    [row(51_300, 1), { lagUs: 51_300, basis: 'apply-stamp' }],
    [row('812', '0'), { lagUs: 812, basis: 'read-time' }],
    // Clocks that disagree (two hosts): never a negative lag in the header.
    [row(-40, 1), { lagUs: 0, basis: 'apply-stamp' }],
    [row(null, null), undefined],
  ])('%o → %o', (r, expected) => {
    expect(replicaVisibility(r)).toEqual(expected);
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
