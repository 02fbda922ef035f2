/**
 * The Compose lab's replica-setup step (a one-shot service): the local stack's own bootstrap, through the same
 * functions `stack:up` runs (stack/replication.ts), so users, grants and schema cannot differ between the two.
 * On the primary: the database, the repl/writer/reader/exporter/monitor accounts and their grants, then the
 * pending db/migrations/*.sql. On the replica: pointed at the delay proxy with GTID auto-positioning
 * (CHANGE REPLICATION SOURCE TO … SOURCE_AUTO_POSITION=1, from common/dialect.ts), START REPLICA, wait until it
 * has applied everything, then read-only. Idempotent, like stack:up: `docker compose up` may run it again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import mysql, { type Connection } from 'mysql2/promise';
import { z } from 'zod';
import { dialectFor } from '../../common/dialect.ts';
import { envVar, int, intExpected, readEnv } from '../../config/env.ts';
import { loadStackConfig } from '../../stack/config.ts';
import {
  bootstrapPrimary,
  installApplyStamps,
  startReplication,
  waitForCatchUp,
} from '../../stack/replication.ts';

const dialect = dialectFor('mysql');

/** Read-only settings cannot be in the replica's startup options: the image's first-start init writes as root. */
const PERSISTED_AFTER_SETUP = /^(super_)?read_only=/;

/** The replica's server options (common/dialect.ts) that Compose gives mysqld at startup. */
export function replicaStartupOptions(): string[] {
  return dialect.replicaServerOptions.filter((o) => !PERSISTED_AFTER_SETUP.test(o));
}

/** The replica's options this step sets once replication runs (SET PERSIST: they hold across restarts). */
export function replicaPersistedOptions(): string[] {
  return dialect.replicaServerOptions.filter((o) => PERSISTED_AFTER_SETUP.test(o));
}

const host = (name: string, def: string, help: string) =>
  envVar(name, z.string().min(1).default(def), 'a host name', help);
const port = (name: string, def: number, help: string) =>
  envVar(name, int(1, 65535).default(def), intExpected(1, 65535), help);

/** This step's variables; Compose sets them all (compose.yaml). */
export const SETUP_VARS = {
  primaryHost: host('CQRS_SETUP_PRIMARY_HOST', 'mysql-primary', 'The primary, as this step reaches it'),
  primaryPort: port('CQRS_SETUP_PRIMARY_PORT', 3306, "The primary's port"),
  replicaHost: host('CQRS_SETUP_REPLICA_HOST', 'mysql-replica', 'The replica, as this step reaches it'),
  replicaPort: port('CQRS_SETUP_REPLICA_PORT', 3306, "The replica's port"),
  sourceHost: host('CQRS_SETUP_SOURCE_HOST', 'mysql-primary', 'The delay proxy, as the replica reaches it'),
  sourcePort: port('CQRS_SETUP_SOURCE_PORT', 3307, "The delay proxy's port"),
  rootPassword: envVar('CQRS_SETUP_ROOT_PASSWORD', z.string().min(1), 'a password', "Both servers' root", {
    secret: true,
  }),
  timeoutMs: envVar(
    'CQRS_SETUP_TIMEOUT_MS',
    int(1000, 600_000).default(60_000),
    intExpected(1000, 600_000),
    'How long to wait for a server, and for the replica to catch up',
  ),
} as const;

type Settings = ReturnType<typeof readEnv<typeof SETUP_VARS>>;

/** A root connection, retried until the deadline (a health check can pass a moment before TCP logins do). */
async function connect(s: Settings, at: { host: string; port: number }): Promise<Connection> {
  const deadline = Date.now() + s.timeoutMs;
  for (;;) {
    try {
      return await mysql.createConnection({
        ...at,
        user: 'root',
        password: s.rootPassword,
        multipleStatements: true,
      });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

async function main(): Promise<void> {
  const s = readEnv(SETUP_VARS, process.env);
  // The local stack's accounts and database; its host is where the replica finds its source (the proxy).
  const cfg = { ...loadStackConfig(), host: s.sourceHost };
  const primary = await connect(s, { host: s.primaryHost, port: s.primaryPort });
  const replica = await connect(s, { host: s.replicaHost, port: s.replicaPort });
  try {
    const applied = await bootstrapPrimary(primary, cfg, dialect);
    console.log(
      `primary: users and grants in place; migrations applied: ${applied.join(', ') || 'none pending'}`,
    );
    await startReplication(replica, cfg, dialect, s.sourcePort);
    await waitForCatchUp(primary, replica, dialect, s.timeoutMs);
    await installApplyStamps(replica, cfg, dialect);
    for (const option of replicaPersistedOptions()) {
      const [name, value] = option.split('=') as [string, string];
      await replica.query(`SET PERSIST ${name} = ${value}`);
    }
    console.log(
      `replica: replicating from ${s.sourceHost}:${s.sourcePort} (GTID auto-position), caught up, ` +
        `${replicaPersistedOptions().join(', ')}`,
    );
  } finally {
    await Promise.all([primary.end(), replica.end()]);
  }
}

if (process.argv[1] && /replica-setup\.(ts|mjs)$/.test(process.argv[1])) {
  main().catch((err: unknown) => {
    console.error(`replica setup: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
