/**
 * The SQL probe's sync-before reader: the DSN lib/k6/harness.ts opens it with, the cluster's causal-read
 * session variable added as a Go driver parameter (go-sql-driver/mysql runs `SET name=value` on connect for a
 * parameter it does not know; a string value quoted with URL-encoded single quotes).
 */
import { describe, expect, it } from 'vitest';
import { parseGoDsn, redact, withGoDsnParams } from '../../common/dsn.ts';
import { syncBeforeDsnParams } from '../../common/mysql-strategies.ts';

describe('withGoDsnParams', () => {
  it.each([
    ['r:pw@tcp(h:3306)/cqrs', 'a=1', 'r:pw@tcp(h:3306)/cqrs?a=1'],
    [
      'r:pw@tcp(h:3306)/cqrs?interpolateParams=true',
      'a=1',
      'r:pw@tcp(h:3306)/cqrs?interpolateParams=true&a=1',
    ],
    ['r:pw@tcp(h:3306)/cqrs?', 'a=1', 'r:pw@tcp(h:3306)/cqrs?a=1'],
    ['r:pw@tcp(h:3306)/cqrs?x=1&', 'a=1', 'r:pw@tcp(h:3306)/cqrs?x=1&a=1'],
    ['r:pw@tcp(h:3306)/', 'a=1', 'r:pw@tcp(h:3306)/?a=1'],
    // A '?' or '/' in the password is before the last '/': the query has not started there.
    ['r:p?w/x@tcp(h:3306)/cqrs', 'a=1', 'r:p?w/x@tcp(h:3306)/cqrs?a=1'],
    ['r:p?w@tcp(h:3306)/cqrs?t=2', 'a=1&b=2', 'r:p?w@tcp(h:3306)/cqrs?t=2&a=1&b=2'],
    ['r:pw@tcp(h:3306)/cqrs?t=2', '', 'r:pw@tcp(h:3306)/cqrs?t=2'],
  ])('%s + %s → %s', (dsn, params, out) => {
    expect(withGoDsnParams(dsn, params)).toBe(out);
  });

  it('keeps the DSN parseable: same user, password, address and database, the parameters appended', () => {
    const dsn = 'reader:Sup3r@Secr3t/:x@tcp([::1]:23307)/cqrs?interpolateParams=true';
    const out = withGoDsnParams(dsn, syncBeforeDsnParams('mysql'));
    expect(parseGoDsn(out)).toEqual({
      ...parseGoDsn(dsn),
      params: 'interpolateParams=true&group_replication_consistency=%27BEFORE%27',
    });
    expect(redact(out)).toBe(
      'reader:***@tcp([::1]:23307)/cqrs?interpolateParams=true&group_replication_consistency=%27BEFORE%27',
    );
  });
});

describe('the sync-before reader DSN, as the harness builds it', () => {
  const stackDsn = 'reader:reader-secret@tcp(127.0.0.1:23307)/cqrs?interpolateParams=true';

  it('MariaDB Galera: wsrep_sync_wait=1', () => {
    expect(withGoDsnParams(stackDsn, syncBeforeDsnParams('mariadb'))).toBe(
      'reader:reader-secret@tcp(127.0.0.1:23307)/cqrs?interpolateParams=true&wsrep_sync_wait=1',
    );
  });

  it("MySQL Group Replication: group_replication_consistency='BEFORE', quoted as %27", () => {
    const dsn = withGoDsnParams(stackDsn, syncBeforeDsnParams('mysql'));
    expect(dsn).toBe(
      'reader:reader-secret@tcp(127.0.0.1:23307)/cqrs?interpolateParams=true&group_replication_consistency=%27BEFORE%27',
    );
    // What the driver decodes and sends: SET group_replication_consistency='BEFORE'.
    const param = new URLSearchParams(parseGoDsn(dsn)?.params).get('group_replication_consistency');
    expect(param).toBe("'BEFORE'");
  });
});
