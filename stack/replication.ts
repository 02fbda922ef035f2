/**
 * Users, schema and GTID replication of the local pair. Everything is created on the primary only and reaches
 * the replica through replication (the replica starts from an empty GTID position and replays the binlog), so
 * the two can never disagree about users or schema. Every step is idempotent: `stack:up` may run it again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { Dialect } from '../common/dialect.ts';
import type { StackConfig } from './config.ts';
import { StackError } from './errors.ts';
import { migrate } from './schema.ts';

const ROLES = ['repl', 'writer', 'reader', 'exporter', 'monitor'] as const;

/** Accounts are `'user'@'%'`: the servers only listen on 127.0.0.1, so '%' reaches no other host. */
export async function bootstrapPrimary(
  conn: Connection,
  cfg: StackConfig,
  dialect: Dialect,
): Promise<number[]> {
  const db = cfg.database;
  const u = cfg.users;
  const statements = [
    `CREATE DATABASE IF NOT EXISTS \`${db}\` CHARACTER SET utf8mb4`,
    ...ROLES.map(
      (role) => `CREATE USER IF NOT EXISTS '${u[role].user}'@'%' IDENTIFIED BY '${u[role].password}'`,
    ),
    // Re-applying the password keeps an override of CQRS_STACK_*_PASSWORD in force on an existing datadir.
    ...ROLES.map((role) => `ALTER USER '${u[role].user}'@'%' IDENTIFIED BY '${u[role].password}'`),
    `GRANT ${dialect.replicationGrants} ON *.* TO '${u.repl.user}'@'%'`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON \`${db}\`.* TO '${u.writer.user}'@'%'`,
    `GRANT SELECT ON \`${db}\`.* TO '${u.reader.user}'@'%'`,
    `GRANT ${dialect.exporterGrants} ON *.* TO '${u.exporter.user}'@'%'`,
    `ALTER USER '${u.exporter.user}'@'%' WITH MAX_USER_CONNECTIONS 3`,
    `GRANT ${dialect.monitorGrants} ON *.* TO '${u.monitor.user}'@'%'`,
    `GRANT SELECT ON \`${db}\`.* TO '${u.monitor.user}'@'%'`,
  ];
  for (const sql of statements) await conn.query(sql);
  await conn.query(`USE \`${db}\``);
  return migrate(conn);
}

export interface ReplicaStatus {
  configured: boolean;
  ioRunning: string;
  sqlRunning: string;
  secondsBehind: number | null;
  sourcePort: number | null;
  applyDelaySeconds: number;
  lastError: string;
}

export async function replicaStatus(conn: Connection, dialect: Dialect): Promise<ReplicaStatus> {
  const [rows] = await conn.query<RowDataPacket[]>(dialect.showReplicaStatus);
  const row = rows[0];
  if (!row) {
    return {
      configured: false,
      ioRunning: 'No',
      sqlRunning: 'No',
      secondsBehind: null,
      sourcePort: null,
      applyDelaySeconds: 0,
      lastError: '',
    };
  }
  const behind = row[dialect.secondsBehindColumn];
  return {
    configured: true,
    ioRunning: String(row[dialect.ioRunningColumn]),
    sqlRunning: String(row[dialect.sqlRunningColumn]),
    secondsBehind: behind === null || behind === undefined ? null : Number(behind),
    sourcePort: Number(row[dialect.sourcePortColumn] ?? 0) || null,
    applyDelaySeconds: Number(row[dialect.applyDelayColumn] ?? 0),
    lastError: String(row.Last_IO_Error || row.Last_SQL_Error || ''),
  };
}

/**
 * Points the replica at `sourcePort` (the delay proxy) and starts both threads. A replica already pointed
 * there is only (re)started, so its GTID position is kept across `stack:up` runs.
 */
export async function startReplication(
  conn: Connection,
  cfg: StackConfig,
  dialect: Dialect,
  sourcePort: number,
): Promise<void> {
  const status = await replicaStatus(conn, dialect);
  if (!status.configured || status.sourcePort !== sourcePort) {
    await conn.query(dialect.stopReplica);
    if (!status.configured) await conn.query(dialect.resetReplicaGtidPosition);
    await conn.query(
      dialect.changeSource({
        host: cfg.host,
        port: sourcePort,
        user: cfg.users.repl.user,
        password: cfg.users.repl.password,
      }),
    );
  }
  await conn.query(dialect.startReplica);
}

/** Waits until the replica has applied everything the primary had executed when called. */
export async function waitForCatchUp(
  primary: Connection,
  replica: Connection,
  dialect: Dialect,
  timeoutMs: number,
): Promise<void> {
  const [rows] = await primary.query<RowDataPacket[]>(dialect.sourceGtidPosition);
  const gtid = String(rows[0]?.gtid ?? '');
  const deadline = Date.now() + timeoutMs;
  // Wait in short slices so a replication error is reported as soon as it shows, not at the deadline.
  for (;;) {
    const [res] = await replica.query<RowDataPacket[]>(dialect.waitForGtid, [gtid, 0.2]);
    if (dialect.gtidWaitReached(res[0]?.waited ?? null)) return;
    const status = await replicaStatus(replica, dialect);
    if (status.lastError && !/connect/i.test(status.lastError)) {
      throw new StackError(`replica stopped with an error: ${status.lastError}`);
    }
    if (Date.now() > deadline) {
      throw new StackError(
        `replica did not catch up within ${timeoutMs} ms (io=${status.ioRunning}, sql=${status.sqlRunning})`,
      );
    }
    await sleep(5);
  }
}

/**
 * Creates the replica-only apply-stamp triggers (common/dialect.ts replicaApplyStamps) once the schema has
 * replicated; idempotent. Runs as root on the replica's socket, outside its binlog.
 */
export async function installApplyStamps(
  replica: Connection,
  cfg: StackConfig,
  dialect: Dialect,
): Promise<void> {
  if (dialect.replicaApplyStamps.length === 0) return;
  await replica.query(`USE \`${cfg.database}\``);
  for (const sql of dialect.replicaApplyStamps) await replica.query(sql);
}
