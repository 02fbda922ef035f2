/**
 * Session SQL for the two MySQL-only read strategies. Both need server features MariaDB lacks (Group
 * Replication, MySQL Router 8.2+), so the API runs this SQL on dedicated pools whose connections are set up
 * once, and never hands those connections to other strategies. Runtime-neutral: no imports.
 */

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
 * `gr-before`: run on a secondary's session; each read then waits until the member has applied every
 * transaction committed in the group before it began (no token needed).
 */
export function grBeforeSessionSql(): string[] {
  return [setGroupReplicationConsistency('BEFORE')];
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
