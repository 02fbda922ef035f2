/**
 * One MariaDB (or MySQL 8.x) server of the local pair: its my.cnf, first-time initialisation, start, readiness
 * by a real query over the socket, and a fast clean shutdown.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import mysql from 'mysql2/promise';
import { type Dialect, dialectFor } from '../common/dialect.ts';
import type { Binaries } from './binaries.ts';
import { StackError } from './errors.ts';
import { fileTail, isRunning, logTail, type ProcessRecord, startDaemon } from './processes.ts';

export type Role = 'primary' | 'replica';

export interface MysqldInstance {
  role: Role;
  serverId: number;
  port: number;
  dir: string;
  datadir: string;
  socket: string;
  cnf: string;
}

export function instanceFor(stateDir: string, role: Role, port: number): MysqldInstance {
  const dir = join(stateDir, role);
  return {
    role,
    serverId: role === 'primary' ? 1 : 2,
    port,
    dir,
    datadir: join(dir, 'data'),
    socket: join(dir, 'mysqld.sock'),
    cnf: join(dir, 'my.cnf'),
  };
}

function myCnf(inst: MysqldInstance, dialect: Dialect): string {
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
    `relay-log=relay-bin`,
    ...dialect.serverOptions,
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
  ];
  if (inst.role === 'replica') lines.push(...dialect.replicaServerOptions);
  if (process.getuid?.() === 0) lines.push('user=root');
  return `${lines.join('\n')}\n`;
}

/** Writes my.cnf and initialises the datadir the first time; an existing datadir is kept. */
export async function prepareInstance(
  inst: MysqldInstance,
  bins: Binaries,
): Promise<'initialised' | 'existing'> {
  const dialect = dialectFor(bins.flavor);
  mkdirSync(join(inst.dir, 'tmp'), { recursive: true });
  writeFileSync(inst.cnf, myCnf(inst, dialect));
  if (existsSync(join(inst.datadir, 'mysql'))) return 'existing';
  rmSync(inst.datadir, { recursive: true, force: true });
  const args =
    bins.flavor === 'mariadb'
      ? [`--defaults-file=${inst.cnf}`, '--auth-root-authentication-method=normal', '--skip-test-db']
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
  return 'initialised';
}

export function startInstance(inst: MysqldInstance, bins: Binaries, stateDir: string): ProcessRecord {
  return startDaemon({
    name: inst.role,
    command: bins.mysqld,
    args: [`--defaults-file=${inst.cnf}`],
    stateDir,
  });
}

export function adminConnection(inst: MysqldInstance): Promise<mysql.Connection> {
  return mysql.createConnection({ socketPath: inst.socket, user: 'root', multipleStatements: true });
}

/** Waits until the server answers a real query (ping answers even when access is denied). */
export async function waitForInstance(
  inst: MysqldInstance,
  rec: ProcessRecord,
  stateDir: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!isRunning(rec)) {
      const why = logTail(stateDir, inst.role) || errorLogTail(inst);
      throw new StackError(`${inst.role} mysqld exited during start-up (${why})`);
    }
    try {
      const conn = await adminConnection(inst);
      try {
        await conn.query('SELECT 1');
        return;
      } finally {
        await conn.end();
      }
    } catch {
      if (Date.now() > deadline) {
        throw new StackError(
          `${inst.role} mysqld did not answer queries within ${timeoutMs} ms (${errorLogTail(inst)})`,
        );
      }
      await sleep(25);
    }
  }
}

function errorLogTail(inst: MysqldInstance): string {
  return fileTail(join(inst.dir, 'error.log'), 2);
}
