/**
 * The local stack as a library: `stack/cli.ts`, `npm start`, the tests and the benchmarks all drive it through
 * these functions.
 */
import { chmodSync, mkdirSync, rmSync, statSync } from 'node:fs';
import type mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2/promise';
import {
  BEAT_STATEMENTS,
  HEARTBEAT_SQL,
  type HeartbeatBasis,
  sampleHeartbeatLag,
} from '../common/heartbeat.ts';
import { findBinaries } from './binaries.ts';
import { portEnvName, type StackConfig } from './config.ts';
import { StackError } from './errors.ts';
import { parseLag } from './lag.ts';
import { adminConnection } from './mysqld.ts';
import { serverUser } from './os-user.ts';
import { isPortFree } from './ports.ts';
import { isRunning, readRegistry, stopProcess, updateRegistry } from './processes.ts';
import {
  bootstrapPrimary,
  installApplyStamps,
  replicaStatus,
  startReplication,
  waitForCatchUp,
} from './replication.ts';
import {
  dependentServices,
  INDEPENDENT_SERVICES,
  makeContext,
  type ServiceDef,
  type ServiceName,
  type StackContext,
  writeEndpointFiles,
} from './services.ts';

export type { StackEndpoints } from '../common/endpoints.ts';
export { loadStackConfig, type StackConfig } from './config.ts';
export { StackError } from './errors.ts';

export type Log = (line: string) => void;

export interface UpResult {
  endpoints: StackContext['endpoints'];
  envFile: string;
  jsonFile: string;
  started: ServiceName[];
  reused: ServiceName[];
}

/**
 * The state folder holds the stack's credentials (0600 files) and the servers' folders. Only its owner lists
 * it; when the servers run as another OS user they need to pass through it, so it is 0711 then, else 0700.
 */
function closeStateDir(dir: string, traversable: boolean): void {
  const st = statSync(dir);
  if ((st.mode & 0o002) !== 0) {
    throw new StackError(
      `state folder ${dir} is writable by every user; set CQRS_STACK_DIR to a folder of your own`,
    );
  }
  chmodSync(dir, traversable ? 0o711 : 0o700);
}

async function checkPorts(ctx: StackContext, services: ServiceDef[]): Promise<void> {
  for (const s of services) {
    for (const p of s.ports) {
      const port = ctx.cfg.ports[p];
      if (!(await isPortFree(port, ctx.cfg.host))) {
        throw new StackError(
          `port ${port} (${s.name}) is already in use on ${ctx.cfg.host}; stop what holds it or set ${portEnvName(p)}`,
        );
      }
    }
  }
}

/**
 * Brings the stack up, reusing every service that already runs and answers. On any failure, whatever this call
 * started is stopped again, so nothing is left half-started.
 */
export async function stackUp(cfg: StackConfig, log: Log = () => {}): Promise<UpResult> {
  const bins = await findBinaries();
  mkdirSync(cfg.stateDir, { recursive: true });
  // Refuse (or close) the state folder before makeContext writes the generated secrets into it.
  const runAs = serverUser(cfg.stateDir, cfg.serverOsUser);
  closeStateDir(cfg.stateDir, runAs.user.uid !== process.getuid?.());
  const ctx = makeContext(cfg, bins, log, runAs);
  if (ctx.runAs.warning) log(ctx.runAs.warning);
  const registry = readRegistry(cfg.stateDir);
  const dependents = dependentServices(cfg);
  const toStart = [...INDEPENDENT_SERVICES, ...dependents].filter((s) => !isRunning(registry[s.name]));
  await checkPorts(ctx, toStart);

  const started: ServiceName[] = [];
  const reused: ServiceName[] = [];
  const t0 = performance.now();
  const bringUp = async (s: ServiceDef) => {
    const existing = registry[s.name];
    if (isRunning(existing)) {
      await s.ready(ctx, existing);
      reused.push(s.name);
      log(`  = ${s.name} already running (pid ${existing.pid})`);
      return;
    }
    const rec = await s.start(ctx);
    started.push(s.name);
    await s.ready(ctx, rec);
    log(`  ✓ ${s.name} ready (${Math.round(performance.now() - t0)} ms)`);
  };
  // Every service of a group starts, even when one fails, so all that started are known and stopped again.
  const bringUpAll = async (services: ServiceDef[]) => {
    const failed = (await Promise.allSettled(services.map(bringUp))).find(
      (r): r is PromiseRejectedResult => r.status === 'rejected',
    );
    if (failed) throw failed.reason;
  };

  try {
    log(
      `stack: ${bins.flavor} primary :${cfg.ports.primary}, replica :${cfg.ports.replica} (state ${cfg.stateDir})`,
    );
    await bringUpAll(INDEPENDENT_SERVICES);

    const primary = await adminConnection(ctx.primary);
    const replica = await adminConnection(ctx.replica);
    try {
      const applied = await bootstrapPrimary(primary, cfg, ctx.dialect);
      if (applied.length > 0) log(`  ✓ schema migrations applied: ${applied.join(', ')}`);
      await startReplication(replica, cfg, ctx.dialect, cfg.ports.delayProxy);
      await waitForCatchUp(primary, replica, ctx.dialect, cfg.readyTimeoutMs);
      await installApplyStamps(replica, cfg, ctx.dialect);
      log(`  ✓ replication running through the delay proxy (${Math.round(performance.now() - t0)} ms)`);
    } finally {
      await Promise.all([primary.end(), replica.end()]);
    }

    await bringUpAll(dependents);
    const files = writeEndpointFiles(ctx);
    log(`stack: up in ${Math.round(performance.now() - t0)} ms; endpoints in ${files.envFile}`);
    return { endpoints: ctx.endpoints, ...files, started, reused };
  } catch (err) {
    if (started.length > 0)
      log(`stack: start failed; stopping the ${started.length} service(s) this run started`);
    await stopServices(cfg, started);
    throw err;
  }
}

/** Stop order: clients of the databases first, then the replica before the primary it replicates from. */
const STOP_ORDER: ServiceName[] = [
  'api',
  'exporter-primary',
  'exporter-replica',
  'prometheus',
  'redis',
  'replica',
  'delay-proxy',
  'primary',
];

async function stopServices(cfg: StackConfig, names: ServiceName[]): Promise<ServiceName[]> {
  const registry = readRegistry(cfg.stateDir);
  const stopped: ServiceName[] = [];
  for (const name of STOP_ORDER.filter((n) => names.includes(n))) {
    const rec = registry[name];
    if (isRunning(rec)) {
      // mysqld shuts down cleanly on SIGTERM (InnoDB flushes, binlog closes); the grace is generous on purpose.
      await stopProcess(rec, name === 'primary' || name === 'replica' ? 60_000 : 10_000);
      stopped.push(name);
    }
    if (rec) {
      updateRegistry(cfg.stateDir, (r) => {
        delete r[name];
      });
    }
  }
  return stopped;
}

export async function stackDown(cfg: StackConfig, opts: { purge?: boolean } = {}, log: Log = () => {}) {
  const t0 = performance.now();
  const stopped = await stopServices(cfg, STOP_ORDER);
  log(
    `stack: stopped ${stopped.length ? stopped.join(', ') : 'nothing (not running)'} in ${Math.round(performance.now() - t0)} ms`,
  );
  if (opts.purge) {
    rmSync(cfg.stateDir, { recursive: true, force: true });
    log(`stack: purged ${cfg.stateDir}`);
  }
  return stopped;
}

/** Stops or starts one service of a running stack (fault tests: replica down, Redis down, API restart). */
export async function stopService(cfg: StackConfig, name: ServiceName): Promise<void> {
  await stopServices(cfg, [name]);
}

export async function startService(cfg: StackConfig, name: ServiceName): Promise<void> {
  await stackUp(cfg);
  if (!isRunning(readRegistry(cfg.stateDir)[name])) throw new StackError(`${name} did not start`);
}

export interface ServiceStatus {
  name: ServiceName;
  pid: number | null;
  running: boolean;
}

export interface StackStatus {
  services: ServiceStatus[];
  healthy: boolean;
  replication?: Awaited<ReturnType<typeof replicaStatus>>;
  proxyDelayMs?: number;
  /**
   * Measured now with the scenarios' heartbeat estimator (common/heartbeat.ts): a beat written on the primary,
   * then the replica's lag once that beat has reached it (ms), or null if it did not within 5 s.
   */
  replicaLagMs?: number | null;
  replicaLagBasis?: HeartbeatBasis;
}

export async function stackStatus(cfg: StackConfig): Promise<StackStatus> {
  const bins = await findBinaries();
  const ctx = makeContext(cfg, bins);
  const registry = readRegistry(cfg.stateDir);
  const names = [...INDEPENDENT_SERVICES, ...dependentServices(cfg)].map((s) => s.name);
  const services = names.map((name) => {
    const rec = registry[name];
    return { name, pid: rec?.pid ?? null, running: isRunning(rec) };
  });
  const status: StackStatus = { services, healthy: services.every((s) => s.running) };
  if (
    !services.find((s) => s.name === 'primary')?.running ||
    !services.find((s) => s.name === 'replica')?.running
  ) {
    return status;
  }
  const primary = await adminConnection(ctx.primary);
  const replica = await adminConnection(ctx.replica);
  try {
    status.replication = await replicaStatus(replica, ctx.dialect);
    status.healthy &&= status.replication.ioRunning === 'Yes' && status.replication.sqlRunning === 'Yes';
    status.proxyDelayMs = await fetch(`${ctx.endpoints.delayProxyControlUrl}/delay`)
      .then((r) => r.json() as Promise<{ delayMs: number }>)
      .then((b) => b.delayMs)
      .catch(() => undefined);
    const lag = await probeLag(primary, replica, cfg.database, 5000);
    status.replicaLagMs = lag && Math.round(lag.lagMs * 1000) / 1000;
    if (lag) status.replicaLagBasis = lag.basis;
  } finally {
    await Promise.all([primary.end(), replica.end()]);
  }
  return status;
}

/**
 * Writes one heartbeat on the primary, then samples the replica as the scenarios' sampler does (its newest beat
 * and apply stamp, and the oldest beat it lacks) until a beat at least as new as this one is there; null if
 * none is within `timeoutMs` (a frozen or broken replica).
 */
async function probeLag(
  primary: mysql.Connection,
  replica: mysql.Connection,
  db: string,
  timeoutMs: number,
): Promise<{ lagMs: number; basis: HeartbeatBasis } | null> {
  for (const conn of [primary, replica]) await conn.query(`USE \`${db}\``);
  const [now] = await primary.query<RowDataPacket[]>(HEARTBEAT_SQL.now);
  const fromUs = Number(now[0]?.now_us);
  for (const sql of BEAT_STATEMENTS) await primary.query(sql);
  const rows = (conn: mysql.Connection) => async (sql: string, args?: (string | number)[]) =>
    (await conn.query<RowDataPacket[]>(sql, args))[0];
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const { estimate } = await sampleHeartbeatLag(rows(replica), rows(primary), fromUs);
    if (estimate) return { lagMs: estimate.lagUs / 1000, basis: estimate.basis };
    await new Promise((r) => setTimeout(r, 1));
  }
  return null;
}

/** Applies a `stack:lag` value to the running stack; returns a one-line description of what changed. */
export async function setLag(cfg: StackConfig, raw: string): Promise<string> {
  const cmd = parseLag(raw);
  const bins = await findBinaries();
  const ctx = makeContext(cfg, bins);
  if (cmd.kind === 'proxy') {
    const res = await fetch(`${ctx.endpoints.delayProxyControlUrl}/delay`, {
      method: 'PUT',
      body: JSON.stringify({ delayMs: cmd.delayMs }),
    }).catch(() => {
      throw new StackError('the delay proxy is not running; run npm run stack:up first');
    });
    if (!res.ok) throw new StackError(`the delay proxy refused the delay: ${await res.text()}`);
    return `replication delay set to ${cmd.delayMs} ms (delay proxy)`;
  }
  if (!isRunning(readRegistry(cfg.stateDir).replica)) {
    throw new StackError('the replica is not running; run npm run stack:up first');
  }
  const replica = await adminConnection(ctx.replica);
  try {
    if (cmd.kind === 'freeze') {
      await replica.query(ctx.dialect.stopSqlThread);
      return 'replica SQL thread stopped: reads on the replica are frozen';
    }
    if (cmd.kind === 'thaw') {
      await replica.query(ctx.dialect.startSqlThread);
      return 'replica SQL thread started: the replica catches up';
    }
    await replica.query(ctx.dialect.stopReplica);
    await replica.query(ctx.dialect.setApplyDelay(cmd.seconds));
    await replica.query(ctx.dialect.startReplica);
    return `replica apply delay set to ${cmd.seconds} s (${ctx.dialect.flavor === 'mariadb' ? 'MASTER_DELAY' : 'SOURCE_DELAY'})`;
  } finally {
    await replica.end();
  }
}
