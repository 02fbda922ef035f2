/**
 * Every SQL difference between MariaDB 10.11 (the local stack) and MySQL 8.4 (Compose, Kubernetes) lives here.
 * Runtime-neutral: the stack, the API and the k6 scripts all build their flavour-specific SQL from this module.
 */
export type Flavor = 'mariadb' | 'mysql';

export interface SourceOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Seconds before the replica reconnects after losing the source. */
  connectRetrySeconds?: number;
}

export interface Dialect {
  readonly flavor: Flavor;
  /** Replica status statement; one row, or none when this server is not a replica. */
  readonly showReplicaStatus: string;
  /** Column of `showReplicaStatus` with the coarse lag in whole seconds (NULL while a thread is stopped). */
  readonly secondsBehindColumn: string;
  /** Columns of `showReplicaStatus` saying whether the IO and SQL threads run ('Yes'/'No'/'Connecting'). */
  readonly ioRunningColumn: string;
  readonly sqlRunningColumn: string;
  readonly startReplica: string;
  readonly stopReplica: string;
  readonly startSqlThread: string;
  readonly stopSqlThread: string;
  /** Forget any GTID position, so a fresh replica replays the source's whole binlog. */
  readonly resetReplicaGtidPosition: string;
  /** Point the replica at a source with GTID auto-positioning. */
  changeSource(opts: SourceOptions): string;
  /** Delay applying events by whole seconds (MASTER_DELAY / SOURCE_DELAY); the replica must be stopped. */
  setApplyDelay(seconds: number): string;
  /** Column of `showReplicaStatus` holding the configured apply delay. */
  readonly applyDelayColumn: string;
  /** The option `setApplyDelay` sets, as the server's docs name it (for messages). */
  readonly applyDelayOption: 'MASTER_DELAY' | 'SOURCE_DELAY';
  /** Column of `showReplicaStatus` with the port of the source the replica is pointed at. */
  readonly sourcePortColumn: string;
  /**
   * Run right after a write on the same session: returns the write's GTID (MariaDB) or the session's
   * tracked/executed GTID set (MySQL) in a column named `gtid`.
   */
  readonly lastWriteGtid: string;
  /**
   * Blocks on the replica until `gtid` is applied or `timeoutSeconds` pass. Two placeholders: (gtid, timeout).
   * The single result column is named `waited`; `gtidWaitReached(waited)` interprets it.
   */
  readonly waitForGtid: string;
  gtidWaitReached(result: number | string | null | undefined): boolean;
  /** The source's whole executed GTID position (column `gtid`), for waiting until a replica has caught up. */
  readonly sourceGtidPosition: string;
  /**
   * The error number of a GTID position the server cannot parse (MariaDB 1941 "Could not parse GTID list",
   * MySQL 1772 "Malformed GTID set specification").
   */
  readonly unparsableGtidErrno: number;
  /**
   * A whole GTID position as `lastWriteGtid` gives it, whitespace removed, as a regular expression source
   * without anchors (for the `u` flag). See GTID syntax below.
   */
  readonly gtidPattern: string;
  /** Why a position that matches `gtidPattern` has numbers the server would refuse, or undefined if none. */
  gtidRangeProblem(gtid: string): string | undefined;
  /** Privileges the exporter user needs to read replica status. */
  readonly exporterGrants: string;
  /** Privileges to read replica status and nothing else (k6's Seconds_Behind sampler). */
  readonly monitorGrants: string;
  /** Replication privileges for the replication user. */
  readonly replicationGrants: string;
  /** Server option lines (my.cnf) every member needs: GTID replication, and nothing on shared ports. */
  readonly serverOptions: readonly string[];
  /** Extra server option lines (my.cnf) for a replica: refuse writes from non-admin users; wait for START. */
  readonly replicaServerOptions: readonly string[];
  /**
   * Run once on a replica (never on the primary, never into its binlog), after the schema has replicated:
   * replica-only triggers that stamp each replicated row's `applied_at` with the replica's own time (migration
   * 0004). Empty where the server runs no triggers for row events (MySQL): applied_at then stays NULL and the
   * estimators fall back to read-side times (common/visibility.ts).
   */
  readonly replicaApplyStamps: readonly string[];
}

/** Tables whose replicated rows get a replica-side apply stamp (migration 0004's applied_at columns). */
export const APPLY_STAMPED_TABLES = ['probe_rows', 'users'] as const;

/**
 * A TIMESTAMP(6)/DATETIME(6) expression as integer microseconds since the epoch: exact (UNIX_TIMESTAMP of a
 * fractional time is a DECIMAL), and comparable without time-zone conversions. Valid on both flavours.
 */
export const epochUs = (expr: string) => `CAST(UNIX_TIMESTAMP(${expr}) * 1000000 AS UNSIGNED)`;

/** The server's own time now in integer microseconds since the epoch (SYSDATE: evaluated when it runs). */
export const SYSDATE_US = epochUs('SYSDATE(6)');

// --- GTID syntax ----------------------------------------------------------------------------------------------
// Each pattern is written so that every character has one reading (a tag starts with a letter, an interval
// with a digit): no backtracking blow-up on the 64 KiB a consistency token may be.

/** MariaDB `domain-server-seq[,…]`. */
const MARIADB_GTID = '\\d{1,10}-\\d{1,10}-\\d{1,20}';
const MARIADB_GTID_LIST = `${MARIADB_GTID}(?:,${MARIADB_GTID})*`;

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
/** A MySQL GTID tag (8.3+): a letter or underscore, then up to 31 letters, digits or underscores. */
const TAG = '[A-Za-z_][A-Za-z0-9_]{0,31}';
const INTERVAL = '\\d{1,20}(?:-\\d{1,20})?';
/** One uuid_set: the uuid, then its untagged intervals and/or tagged groups, e.g. `uuid:1-5:7:tag_a:1-3:tag_b:9`. */
const UUID_SET = `${UUID}(?:(?::${INTERVAL})+(?::${TAG}(?::${INTERVAL})+)*|(?::${TAG}(?::${INTERVAL})+)+)`;
/** The whole gtid-set grammar of MySQL 8.4, tags included: `uuid:1-5[:7…][:tag:1-3…][,uuid…]`. */
const MYSQL_GTID_SET = `${UUID_SET}(?:,${UUID_SET})*`;

/** Which flavour's notation a GTID position is in: only MySQL's has colons. */
export function gtidFlavor(gtid: string): Flavor {
  return gtid.includes(':') ? 'mysql' : 'mariadb';
}

// Limits as decimal strings, compared as such: BigInt is not something every k6 runtime has.
const UINT32_MAX = '4294967295';
const UINT64_MAX = '18446744073709551615';
const GNO_MAX = '9223372036854775807';

/** -1, 0 or 1 as the decimal digit strings a and b compare as numbers (leading zeros allowed). */
function compareDecimal(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x === y ? 0 : x < y ? -1 : 1;
}

const isDecimal = (s: string | undefined): s is string => s !== undefined && /^\d+$/.test(s);

/** Domain and server id are 32-bit unsigned, seq_no 64-bit unsigned, and a list holds each domain once. */
function mariadbGtidProblem(list: string): string | undefined {
  const domains = new Set<string>();
  for (const gtid of list.split(',')) {
    const [domain, server, seq, ...rest] = gtid.split('-');
    if (!isDecimal(domain) || !isDecimal(server) || !isDecimal(seq) || rest.length > 0) return 'not a GTID';
    if (compareDecimal(domain, UINT32_MAX) > 0) return `domain id of ${gtid} is over 2^32-1`;
    if (compareDecimal(server, UINT32_MAX) > 0) return `server id of ${gtid} is over 2^32-1`;
    if (compareDecimal(seq, UINT64_MAX) > 0) return `sequence number of ${gtid} is over 2^64-1`;
    const key = domain.replace(/^0+(?=\d)/, '');
    if (domains.has(key)) return `domain ${key} appears twice`;
    domains.add(key);
  }
  return undefined;
}

/** Transaction numbers are 1 … 2^63-1, and an interval does not end before it starts. */
function mysqlGtidProblem(set: string): string | undefined {
  for (const uuidSet of set.split(',')) {
    for (const part of uuidSet.split(':').slice(1)) {
      if (!/^\d/.test(part)) continue; // a tag
      const [start, end = start, ...rest] = part.split('-');
      if (!isDecimal(start) || !isDecimal(end) || rest.length > 0) return 'not a GTID';
      if (compareDecimal(start, '1') < 0 || compareDecimal(end, GNO_MAX) > 0) {
        return `interval ${part} is outside 1 … 2^63-1`;
      }
      if (compareDecimal(end, start) < 0) return `interval ${part} ends before it starts`;
    }
  }
  return undefined;
}

const mariadb: Dialect = {
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
  changeSource: (o) =>
    `CHANGE MASTER TO MASTER_HOST=${quote(o.host)}, MASTER_PORT=${int(o.port)}, MASTER_USER=${quote(o.user)}, ` +
    `MASTER_PASSWORD=${quote(o.password)}, MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=${int(o.connectRetrySeconds ?? 1)}`,
  setApplyDelay: (s) => `CHANGE MASTER TO MASTER_DELAY=${int(s)}`,
  applyDelayColumn: 'SQL_Delay',
  applyDelayOption: 'MASTER_DELAY',
  sourcePortColumn: 'Master_Port',
  lastWriteGtid: 'SELECT @@last_gtid AS gtid',
  // MASTER_GTID_WAIT returns 0 when reached, -1 on timeout.
  waitForGtid: 'SELECT MASTER_GTID_WAIT(?, ?) AS waited',
  gtidWaitReached: reachedWhenZero,
  sourceGtidPosition: 'SELECT @@GLOBAL.gtid_binlog_pos AS gtid',
  unparsableGtidErrno: 1941,
  gtidPattern: MARIADB_GTID_LIST,
  gtidRangeProblem: mariadbGtidProblem,
  exporterGrants: 'PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT',
  monitorGrants: 'REPLICATION CLIENT, SLAVE MONITOR',
  replicationGrants: 'REPLICATION SLAVE',
  serverOptions: ['gtid_strict_mode=ON', 'log_slave_updates=ON'],
  // Triggers run for row events only with this on (the apply stamps below depend on it).
  replicaServerOptions: ['read_only=ON', 'skip-slave-start', 'slave_run_triggers_for_rbr=YES'],
  replicaApplyStamps: [
    // Not into the replica's own binlog: the triggers belong to this server alone.
    'SET SESSION sql_log_bin = 0',
    // SYSDATE(6), not NOW(6): inside replicated events NOW(6) is the source's timestamp.
    ...APPLY_STAMPED_TABLES.map(
      (t) =>
        `CREATE TRIGGER IF NOT EXISTS ${t}_apply_stamp BEFORE INSERT ON ${t} ` +
        'FOR EACH ROW SET NEW.applied_at = SYSDATE(6)',
    ),
    // heartbeat_log keeps integer microseconds (migration 0004).
    'CREATE TRIGGER IF NOT EXISTS heartbeat_log_apply_stamp BEFORE INSERT ON heartbeat_log ' +
      `FOR EACH ROW SET NEW.applied_us = ${SYSDATE_US}`,
    'SET SESSION sql_log_bin = 1',
  ],
};

const mysql: Dialect = {
  flavor: 'mysql',
  showReplicaStatus: 'SHOW REPLICA STATUS',
  secondsBehindColumn: 'Seconds_Behind_Source',
  ioRunningColumn: 'Replica_IO_Running',
  sqlRunningColumn: 'Replica_SQL_Running',
  startReplica: 'START REPLICA',
  stopReplica: 'STOP REPLICA',
  startSqlThread: 'START REPLICA SQL_THREAD',
  stopSqlThread: 'STOP REPLICA SQL_THREAD',
  resetReplicaGtidPosition: 'RESET BINARY LOGS AND GTIDS',
  changeSource: (o) =>
    `CHANGE REPLICATION SOURCE TO SOURCE_HOST=${quote(o.host)}, SOURCE_PORT=${int(o.port)}, ` +
    `SOURCE_USER=${quote(o.user)}, SOURCE_PASSWORD=${quote(o.password)}, SOURCE_AUTO_POSITION=1, ` +
    `SOURCE_CONNECT_RETRY=${int(o.connectRetrySeconds ?? 1)}, GET_SOURCE_PUBLIC_KEY=1`,
  setApplyDelay: (s) => `CHANGE REPLICATION SOURCE TO SOURCE_DELAY=${int(s)}`,
  applyDelayColumn: 'SQL_Delay',
  applyDelayOption: 'SOURCE_DELAY',
  sourcePortColumn: 'Source_Port',
  // With session_track_gtids=OWN_GTID the OK packet carries the commit GTID; a client that cannot read it
  // falls back to the executed set, which over-waits but is never too early.
  lastWriteGtid: 'SELECT @@GLOBAL.gtid_executed AS gtid',
  // WAIT_FOR_EXECUTED_GTID_SET returns 0 when reached, 1 on timeout.
  waitForGtid: 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS waited',
  gtidWaitReached: reachedWhenZero,
  sourceGtidPosition: 'SELECT @@GLOBAL.gtid_executed AS gtid',
  unparsableGtidErrno: 1772,
  gtidPattern: MYSQL_GTID_SET,
  gtidRangeProblem: mysqlGtidProblem,
  exporterGrants: 'PROCESS, REPLICATION CLIENT, SELECT',
  monitorGrants: 'REPLICATION CLIENT',
  replicationGrants: 'REPLICATION SLAVE',
  // mysqlx=OFF: the X plugin would otherwise claim port 33060 for every instance.
  serverOptions: ['gtid_mode=ON', 'enforce_gtid_consistency=ON', 'log_replica_updates=ON', 'mysqlx=OFF'],
  replicaServerOptions: ['read_only=ON', 'super_read_only=ON', 'skip-replica-start'],
  // MySQL runs no triggers for row events on a replica.
  replicaApplyStamps: [],
};

export const DIALECTS: Readonly<Record<Flavor, Dialect>> = { mariadb, mysql };

export function dialectFor(flavor: Flavor): Dialect {
  return DIALECTS[flavor];
}

/** Tells the flavour from `SELECT VERSION()` (MariaDB versions contain "MariaDB"). */
export function flavorFromVersion(version: string): Flavor {
  return /mariadb/i.test(version) ? 'mariadb' : 'mysql';
}

/**
 * Both wait functions return 0 once the GTID is applied. NULL (bad arguments, or no row at all) is not success:
 * `Number(null)` is 0, so it has to be ruled out first.
 */
function reachedWhenZero(result: number | string | null | undefined): boolean {
  return result !== null && result !== undefined && result !== '' && Number(result) === 0;
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

function int(value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new Error(`expected a non-negative integer, got ${value}`);
  return value;
}
