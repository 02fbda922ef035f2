/**
 * Session setup of the read strategies whose consistency is a server feature: `sync-before` (a synchronous
 * cluster's causal reads: Galera's wsrep_sync_wait, Group Replication's BEFORE consistency) and `router-split`
 * (MySQL Router 8.2+). The API runs this SQL on dedicated pools whose connections are set up once, and never
 * hands those connections to other strategies; the SQL probe gets the same session variable through its DSN.
 * Which server setups have the feature is the registry's (`servers` in common/strategies.ts). Runtime-neutral:
 * no imports but types.
 */
import type { Flavor } from './dialect.ts';

/** Group Replication consistency levels (MySQL 8.0.14+). */
export const GR_CONSISTENCY_LEVELS = [
  'EVENTUAL',
  'BEFORE_ON_PRIMARY_FAILOVER',
  'BEFORE',
  'AFTER',
  'BEFORE_AND_AFTER',
] as const;
export type GrConsistencyLevel = (typeof GR_CONSISTENCY_LEVELS)[number];

export function setGroupReplicationConsistency(level: GrConsistencyLevel): string {
  if (!(GR_CONSISTENCY_LEVELS as readonly string[]).includes(level)) {
    throw new Error(
      `invalid group_replication_consistency; reason: expected one of ${GR_CONSISTENCY_LEVELS.join('|')}, got ${String(level)}`,
    );
  }
  return `SET SESSION group_replication_consistency = '${level}'`;
}

/**
 * Galera's causality checks (a bitmask; MariaDB Galera 10.11): 1 makes each read (SELECT, BEGIN/START
 * TRANSACTION; SHOW is bit 8, not set here) wait until the node has applied every write set the cluster
 * committed before it began.
 */
export const WSREP_SYNC_WAIT_READS = 1;

/** The session variable, and its value as SQL, that makes a reader's reads causal on each flavour's cluster. */
const SYNC_BEFORE_SETTING: { readonly [F in Flavor]: { name: string; sqlValue: string } } = {
  mariadb: { name: 'wsrep_sync_wait', sqlValue: String(WSREP_SYNC_WAIT_READS) },
  mysql: { name: 'group_replication_consistency', sqlValue: "'BEFORE'" },
};

/**
 * `sync-before`: run on a reader connection of a synchronous cluster; each read then waits until the node has
 * applied every transaction committed in the cluster before it began (no token needed). MariaDB Galera:
 * `wsrep_sync_wait = 1`; MySQL Group Replication: `group_replication_consistency = 'BEFORE'`.
 */
export function syncBeforeSessionSql(flavor: Flavor): string[] {
  if (flavor === 'mysql') return [setGroupReplicationConsistency('BEFORE')];
  return [`SET SESSION ${SYNC_BEFORE_SETTING.mariadb.name} = ${SYNC_BEFORE_SETTING.mariadb.sqlValue}`];
}

/**
 * The same session setting as go-sql-driver/mysql DSN parameters, for xk6-sql's connections (the SQL probe
 * opens no pool whose connections it could set up itself). The driver takes any parameter it does not know as
 * a system variable and runs `SET name=value` on every new connection; a string value must be quoted, and the
 * quotes URL-encoded: `group_replication_consistency=%27BEFORE%27` (mysql), `wsrep_sync_wait=1` (mariadb).
 * Append it with common/dsn.ts `withGoDsnParams`.
 */
export function syncBeforeDsnParams(flavor: Flavor): string {
  const { name, sqlValue } = SYNC_BEFORE_SETTING[flavor];
  return `${name}=${encodeURIComponent(sqlValue).replace(/'/g, '%27')}`;
}

/**
 * `router-split`: run on a connection to Router's read/write-split port (6450). Reads go to a read-only
 * destination after it has applied the session's last write, or to the primary once the timeout passes.
 * Docs (1 s) and source (2 s) disagree on the default timeout, so it is always set. Router tracks writes per
 * client connection: read-your-writes holds for writes made on the same connection.
 */
export function routerSplitSessionSql(waitTimeoutSeconds: number): string[] {
  if (!Number.isInteger(waitTimeoutSeconds) || waitTimeoutSeconds < 0 || waitTimeoutSeconds > 4_294_967_295) {
    throw new Error(
      `invalid wait_for_my_writes_timeout; reason: expected an integer number of seconds 0..4294967295, got ${waitTimeoutSeconds}`,
    );
  }
  return [
    "ROUTER SET access_mode = 'auto'",
    'ROUTER SET wait_for_my_writes = 1',
    `ROUTER SET wait_for_my_writes_timeout = ${waitTimeoutSeconds}`,
  ];
}

/** The conventional Router port for read/write splitting. */
export const ROUTER_SPLIT_PORT = 6450;
