/**
 * One MariaDB (or MySQL 8.x) server of the local pair: its my.cnf, first-time initialisation, start, readiness
 * by a real query over the socket, and a fast clean shutdown.
 *
 * What a local user can do with it: nothing as root. The server listens on 127.0.0.1 and on a socket in its
 * own 0700 folder; root authenticates by unix_socket only (the OS user must be root); it runs as the OS user
 * `mysql` when the stack runs as root (os-user.ts); and secure_file_priv confines INTO OUTFILE / LOAD_FILE to
 * an empty folder of the instance.
 */
import {
  chmodSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { type Dialect, dialectFor } from '../common/dialect.ts';
import type { Binaries } from './binaries.ts';
import { StackError } from './errors.ts';
import { type GaleraNode, galeraServerOptions } from './galera-options.ts';
import { currentUser, type OsUser, type ServerUser } from './os-user.ts';
import { fileTail, isRunning, logTail, type ProcessRecord, startDaemon } from './processes.ts';

/** The async pair's servers. */
export type Role = 'primary' | 'replica';
/** The cluster topology's servers (stack/galera.ts). */
export type NodeName = 'node1' | 'node2' | 'node3';
export type InstanceName = Role | NodeName;

export interface MysqldInstance {
  /** Also its service name and its folder under the state folder. */
  role: InstanceName;
  serverId: number;
  port: number;
  dir: string;
  datadir: string;
  socket: string;
  cnf: string;
  /** secure_file_priv: the only folder the server reads or writes files in for SQL (kept empty). */
  filesDir: string;
  /** Set for a node of the cluster topology. */
  galera?: GaleraNode;
}

export function instanceFor(
  stateDir: string,
  role: InstanceName,
  port: number,
  galera?: GaleraNode,
): MysqldInstance {
  const dir = join(stateDir, role);
  return {
    role,
    // A Galera cluster keeps one server id across its nodes (its GTIDs are the cluster's, not a node's).
    serverId: galera ? 1 : role === 'primary' ? 1 : 2,
    port,
    dir,
    datadir: join(dir, 'data'),
    socket: join(dir, 'mysqld.sock'),
    cnf: join(dir, 'my.cnf'),
    filesDir: join(dir, 'files'),
    ...(galera ? { galera } : {}),
  };
}

/**
 * The admin account: the OS user running the stack, authenticated by unix_socket, so only that OS user (root in
 * CI) gets in, and only through the socket. Needs no password to keep.
 */
export const adminUser = (): string => currentUser().name;

function myCnf(inst: MysqldInstance, dialect: Dialect, runAs: ServerUser): string {
  const lines = [
    '[mysqld]',
    `datadir=${inst.datadir}`,
    `tmpdir=${join(inst.dir, 'tmp')}`,
    `socket=${inst.socket}`,
    `pid-file=${join(inst.dir, 'mysqld.pid')}`,
    `log-error=${join(inst.dir, 'error.log')}`,
    `port=${inst.port}`,
    'bind-address=127.0.0.1',
    'skip-name-resolve',
    `server-id=${inst.serverId}`,
    'log-bin=binlog',
    'binlog_format=ROW',
    ...(inst.galera ? galeraServerOptions(inst.galera) : ['relay-log=relay-bin', ...dialect.serverOptions]),
    // Relaxed durability: a local lab, said so in reports. Keeps commits off fsync on a shared disk.
    'innodb_flush_log_at_trx_commit=2',
    'sync_binlog=0',
    'innodb_buffer_pool_size=128M',
    // Nothing to save or restore between runs: dumping the buffer pool only slows start and stop.
    'innodb_buffer_pool_dump_at_shutdown=OFF',
    'innodb_buffer_pool_load_at_startup=OFF',
    'performance_schema=OFF',
    'max_connections=500',
    'character-set-server=utf8mb4',
    `secure_file_priv=${inst.filesDir}`,
  ];
  if (inst.role === 'replica') lines.push(...dialect.replicaServerOptions);
  // The cluster's readers refuse client writes, as Group Replication's secondaries do in single-primary mode;
  // Galera's appliers are not held by read_only.
  if (inst.galera && inst.galera.index > 1) lines.push('read_only=ON', 'slave_run_triggers_for_rbr=YES');
  if (runAs.cnfUser) lines.push(`user=${runAs.cnfUser}`);
  return `${lines.join('\n')}\n`;
}

/** Hands the instance folder to the server's OS user (a no-op when it already owns it) and closes it to others. */
function ownInstance(inst: MysqldInstance, user: OsUser): boolean {
  chmodSync(inst.dir, 0o700);
  if (currentUser().uid !== 0) return false;
  let changed = false;
  const own = (path: string) => {
    const st = lstatSync(path);
    if (st.uid === user.uid && st.gid === user.gid) return;
    lchownSync(path, user.uid, user.gid);
    changed = true;
  };
  own(inst.dir);
  for (const entry of readdirSync(inst.dir, { recursive: true })) own(join(inst.dir, String(entry)));
  return changed;
}

/**
 * Writes my.cnf and initialises the datadir the first time; an existing datadir is kept, and one another OS
 * user owns (an earlier version's, root's) is handed to the server's ('migrated').
 */
export async function prepareInstance(
  inst: MysqldInstance,
  bins: Binaries,
  runAs: ServerUser,
): Promise<'initialised' | 'existing' | 'migrated'> {
  const dialect = dialectFor(bins.flavor);
  mkdirSync(join(inst.dir, 'tmp'), { recursive: true });
  mkdirSync(inst.filesDir, { recursive: true, mode: 0o700 });
  writeFileSync(inst.cnf, myCnf(inst, dialect, runAs));
  const existing = existsSync(join(inst.datadir, 'mysql'));
  const chowned = ownInstance(inst, runAs.user);
  if (existing) return chowned ? 'migrated' : 'existing';
  rmSync(inst.datadir, { recursive: true, force: true });
  // MariaDB: root (and the invoking user, when not root) authenticate by unix_socket only. MySQL: root@localhost
  // has no password, but with skip-name-resolve it matches socket logins only, and the socket's folder is 0700.
  const args =
    bins.flavor === 'mariadb'
      ? [
          `--defaults-file=${inst.cnf}`,
          '--auth-root-authentication-method=socket',
          `--auth-root-socket-user=${adminUser()}`,
          '--skip-test-db',
        ]
      : [`--defaults-file=${inst.cnf}`, '--initialize-insecure'];
  const res = await execa(bins.flavor === 'mariadb' ? (bins.installDb as string) : bins.mysqld, args, {
    reject: false,
    all: true,
  });
  if (res.exitCode !== 0) {
    rmSync(inst.datadir, { recursive: true, force: true });
    const why = (res.all ?? '').trim().split('\n').slice(-2).join(' | ');
    throw new StackError(
      `${inst.role}: initialising the datadir failed (${why}); check mariadb-server is installed`,
    );
  }
  // The initialiser, run as root, leaves files of its own (mysql_upgrade_info): the server's too, so the next
  // start finds nothing to hand over.
  ownInstance(inst, runAs.user);
  return 'initialised';
}

/** `extraArgs`: `--wsrep-new-cluster` for the node that bootstraps the cluster. */
export function startInstance(
  inst: MysqldInstance,
  bins: Binaries,
  stateDir: string,
  extraArgs: readonly string[] = [],
): ProcessRecord {
  return startDaemon({
    name: inst.role,
    command: bins.mysqld,
    args: [`--defaults-file=${inst.cnf}`, ...extraArgs],
    stateDir,
  });
}

export function adminConnection(inst: MysqldInstance, user = adminUser()): Promise<mysql.Connection> {
  return mysql.createConnection({ socketPath: inst.socket, user, multipleStatements: true });
}

const ACCESS_DENIED = new Set([1045, 1698]);

/**
 * An admin session. A datadir from an earlier version has only a passwordless root (no account for a non-root
 * invoking user yet): that root is tried next, so `secureAccounts` can migrate it.
 */
async function openAdmin(inst: MysqldInstance): Promise<mysql.Connection> {
  try {
    return await adminConnection(inst);
  } catch (err) {
    const errno = (err as { errno?: number }).errno ?? 0;
    if (adminUser() === 'root' || !ACCESS_DENIED.has(errno)) throw err;
    return adminConnection(inst, 'root');
  }
}

/**
 * Waits until the server answers a real query (ping answers even when access is denied), then makes sure only
 * the admin can act as root (MariaDB; see secureAccounts). Returns what that changed, for the log.
 */
export async function waitForInstance(
  inst: MysqldInstance,
  rec: ProcessRecord,
  stateDir: string,
  timeoutMs: number,
  flavor: Binaries['flavor'],
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isRunning(rec)) {
      const why = logTail(stateDir, inst.role) || errorLogTail(inst);
      throw new StackError(`${inst.role} mysqld exited during start-up (${why})`);
    }
    const conn = await openAdmin(inst).catch(() => undefined);
    if (conn) {
      try {
        const answered = await conn.query('SELECT 1').then(
          () => true,
          () => false,
        );
        if (answered) return flavor === 'mariadb' ? await secureAccounts(conn) : [];
      } finally {
        await conn.end().catch(() => undefined);
      }
    }
    if (Date.now() > deadline) {
      throw new StackError(
        `${inst.role} mysqld did not answer queries within ${timeoutMs} ms (${errorLogTail(inst)})`,
      );
    }
    await sleep(25);
  }
}

/**
 * Leaves no MariaDB account that acts as root for anyone but the admin OS user. An earlier version initialised
 * with `--auth-root-authentication-method=normal`: root@localhost, root@127.0.0.1, root@::1 and root@<host>
 * without a password. Those at other hosts (and any anonymous account) are dropped, root@localhost moves to
 * unix_socket, and a non-root admin gets its own unix_socket account. A fresh datadir needs none of it (two
 * reads). Outside the binlog: each server fixes its own accounts, and the replica keeps the primary's GTIDs.
 */
export async function secureAccounts(conn: mysql.Connection, admin = adminUser()): Promise<string[]> {
  const [loose] = await conn.query<RowDataPacket[]>(
    "SELECT User AS user, Host AS host FROM mysql.user WHERE (User = 'root' AND Host <> 'localhost') OR User = ''",
  );
  const rootSql = await conn.query<RowDataPacket[]>("SHOW CREATE USER 'root'@'localhost'").then(
    ([rows]) => String(Object.values(rows[0] ?? {})[0] ?? ''),
    () => 'unix_socket', // no root@localhost at all: nothing to secure
  );
  const rootBySocket = /unix_socket/i.test(rootSql);
  const [own] =
    admin === 'root'
      ? [[{}]]
      : await conn.query<RowDataPacket[]>("SELECT 1 FROM mysql.user WHERE User = ? AND Host = 'localhost'", [
          admin,
        ]);
  const adminMissing = own.length === 0;
  if (loose.length === 0 && rootBySocket && !adminMissing) return [];

  const changes: string[] = [];
  await conn.query('SET SESSION sql_log_bin = 0');
  try {
    for (const r of loose) await conn.query('DROP USER ?@?', [r.user, r.host]);
    if (loose.length > 0) changes.push(`dropped ${loose.map((r) => `'${r.user}'@'${r.host}'`).join(', ')}`);
    if (adminMissing) {
      await conn.query("CREATE USER ?@'localhost' IDENTIFIED VIA unix_socket", [admin]);
      await conn.query("GRANT ALL PRIVILEGES ON *.* TO ?@'localhost' WITH GRANT OPTION", [admin]);
      changes.push(`added admin '${admin}'@'localhost' (unix_socket)`);
    }
    if (!rootBySocket) {
      await conn.query("ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket");
      changes.push("'root'@'localhost' now authenticates by unix_socket only");
    }
  } finally {
    await conn.query('SET SESSION sql_log_bin = 1');
  }
  return changes;
}

function errorLogTail(inst: MysqldInstance): string {
  return fileTail(join(inst.dir, 'error.log'), 2);
}
