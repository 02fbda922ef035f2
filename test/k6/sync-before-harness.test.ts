/**
 * The built SQL bundles open their reader with the cluster's causal reads on under CQRS_SQL_STRATEGY=sync-before
 * (or its alias gr-before), through the DSN (lib/k6/harness.ts), and leave the writer, the replica monitor and
 * every other strategy's reader as given. xk6-sql is a stub that records each DSN it is asked to open.
 */
import { describe, expect, it } from 'vitest';
import { evaluateBundle, K6_STUBS, useBuiltBundles } from '../helpers/bundles.ts';

const STUBS: Record<string, string> = {
  ...K6_STUBS,
  'k6/x/sql':
    'const db = { exec: () => ({ lastInsertId: () => 1, rowsAffected: () => 1 }), query: () => [], close() {} };\n' +
    'export function open(driver, dsn) { (globalThis.__opened ??= []).push(dsn); return db; }\n' +
    'export default { open };',
};

const DSNS = {
  CQRS_WRITER_DSN: 'writer:pw@tcp(primary:1)/cqrs?interpolateParams=true',
  CQRS_READER_DSN: 'reader:pw@tcp(replica:2)/cqrs?interpolateParams=true',
  CQRS_REPLICA_MONITOR_DSN: 'monitor:pw@tcp(replica:2)/cqrs',
};

const built = useBuiltBundles('cqrs-sync-before-');

/** The DSNs the bundle's init code opened: writer, reader, monitor (lib/k6/harness.ts's order). */
async function opened(scenario: string, env: Record<string, string>): Promise<string[]> {
  const record: string[] = [];
  await evaluateBundle(built.path(scenario), STUBS, { __opened: record, __ENV: { ...DSNS, ...env } });
  return record;
}

describe('the SQL probe under sync-before', () => {
  it.each([
    ['mariadb', 'sync-before', 'wsrep_sync_wait=1'],
    ['mariadb', 'gr-before', 'wsrep_sync_wait=1'],
    ['mysql', 'sync-before', 'group_replication_consistency=%27BEFORE%27'],
  ])(
    '%s, CQRS_SQL_STRATEGY=%s: the reader DSN gets %s; writer and monitor as given',
    async (flavor, strategy, param) => {
      for (const scenario of ['sql-read-after-write', 'sql-mixed']) {
        const dsns = await opened(scenario, {
          CQRS_FLAVOR: flavor,
          CQRS_TOPOLOGY: 'cluster',
          CQRS_SQL_STRATEGY: strategy,
        });
        expect(dsns, scenario).toEqual([
          DSNS.CQRS_WRITER_DSN,
          `${DSNS.CQRS_READER_DSN}&${param}`,
          DSNS.CQRS_REPLICA_MONITOR_DSN,
        ]);
      }
    },
  );

  it('every other strategy opens the reader as given', async () => {
    for (const strategy of ['eventual', 'primary', 'gtid-wait']) {
      const dsns = await opened('sql-read-after-write', { CQRS_SQL_STRATEGY: strategy });
      expect(dsns, strategy).toEqual([
        DSNS.CQRS_WRITER_DSN,
        DSNS.CQRS_READER_DSN,
        DSNS.CQRS_REPLICA_MONITOR_DSN,
      ]);
    }
  });
});
