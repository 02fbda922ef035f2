/**
 * Bringing the whole stack up and down, and single services for fault tests. Up reuses every service that
 * already runs and answers; a failed up stops whatever it started, so nothing is left half-started.
 */
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { findBinaries } from './binaries.ts';
import { portEnvName, type StackConfig } from './config.ts';
import { StackError } from './errors.ts';
import { findGaleraProvider, NODE_NAMES, waitForClusterApplied } from './galera.ts';
import { findGrafana, grafanaService } from './grafana.ts';
import { adminConnection } from './mysqld.ts';
import { serverUser } from './os-user.ts';
import { isPortFree } from './ports.ts';
import { isRunning, type Registry, readRegistry, stopProcess, updateRegistry } from './processes.ts';
import { bootstrapPrimary, installApplyStamps, startReplication, waitForCatchUp } from './replication.ts';
import { secretsFile } from './secrets.ts';
import {
  dependentServices,
  independentServices,
  makeContext,
  type ServiceDef,
  type ServiceName,
  type StackContext,
  writeEndpointFiles,
} from './services.ts';

export type Log = (line: string) => void;

export interface UpResult {
  endpoints: StackContext['endpoints'];
  envFile: string;
  jsonFile: string;
  started: ServiceName[];
  reused: ServiceName[];
  /** Set when Grafana runs (started or reused); absent when it is not installed. */
  grafanaUrl?: string;
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
 * The topology whose services run in this state folder now, if any runs: told by its servers, else (only
 * clients of them left, such as an API started for the other topology) by what the last stack:up wrote.
 */
export function runningTopology(registry: Registry, stateDir?: string): StackConfig['topology'] | undefined {
  if (NODE_NAMES.some((n) => isRunning(registry[n]))) return 'cluster';
  if (isRunning(registry.primary) || isRunning(registry.replica)) return 'async';
  if (!stateDir || !Object.values(registry).some(isRunning)) return undefined;
  try {
    const recorded = (JSON.parse(readFileSync(join(stateDir, 'stack.json'), 'utf8')) as { topology?: string })
      .topology;
    return recorded === 'cluster' ? 'cluster' : 'async';
  } catch {
    return 'async'; // written before topologies existed
  }
}

/** One stack per state folder: the other topology's servers must be stopped first (their ports are shared). */
function refuseOtherTopology(cfg: StackConfig, registry: Registry): void {
  const running = runningTopology(registry, cfg.stateDir);
  if (running && running !== cfg.topology) {
    throw new StackError(
      `the stack in ${cfg.stateDir} runs the ${running} topology; stop it first (npm run stack:down), then start the ${cfg.topology} one`,
    );
  }
}

/**
 * Brings the stack up, reusing every service that already runs and answers. On any failure, whatever this call
 * started is stopped again, so nothing is left half-started.
 */
export async function stackUp(cfg: StackConfig, log: Log = () => {}): Promise<UpResult> {
  const bins = await findBinaries();
  if (cfg.topology === 'cluster') {
    if (bins.flavor !== 'mariadb') {
      throw new StackError(
        `the cluster topology needs MariaDB with Galera; the mysqld on PATH is MySQL (${bins.mysqld}); install mariadb-server galera-4 rsync, or use --topology async`,
      );
    }
    findGaleraProvider();
  }
  // Optional: absent, it is skipped with one line; a bad CQRS_GRAFANA_HOME fails here, before anything starts.
  const grafana = findGrafana(cfg);
  mkdirSync(cfg.stateDir, { recursive: true });
  // Refuse (or close) the state folder before makeContext writes the generated secrets into it.
  const runAs = serverUser(cfg.stateDir, cfg.serverOsUser);
  closeStateDir(cfg.stateDir, runAs.user.uid !== process.getuid?.());
  // rsync state transfers (and so every Galera join) fail when the servers run as root: refuse, saying why.
  if (cfg.topology === 'cluster' && runAs.user.uid === 0) {
    throw new StackError(
      `the cluster topology needs the database servers to run as a non-root OS user (rsync state transfers fail as root); ${(runAs.warning ?? '').replace(/^warning: /, '')}`,
    );
  }
  const ctx = makeContext(cfg, bins, log, runAs);
  if (ctx.runAs.warning) log(ctx.runAs.warning);
  const registry = readRegistry(cfg.stateDir);
  refuseOtherTopology(cfg, registry);
  // Setting up writes users and schema, which a Galera cluster applies everywhere before it commits: a frozen
  // reader would hold it until the lock wait times out.
  if (isRunning(registry['reader-freeze'])) {
    throw new StackError('node2 is frozen (stack:lag freeze); thaw it first: npm run stack:lag -- thaw');
  }
  const dependents = dependentServices(cfg);
  // Grafana needs no database: it starts beside the servers, so its first-start migrations overlap theirs.
  const independent = [
    ...independentServices(cfg),
    ...('install' in grafana ? [grafanaService(grafana.install)] : []),
  ];
  const toStart = [...independent, ...dependents].filter((s) => !isRunning(registry[s.name]));
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
  // Every service of a group starts, even when one fails, so all that started are known and stopped again. A
  // service with `after` starts once that one is ready, and not at all if it failed.
  const bringUpAll = async (services: ServiceDef[]) => {
    const pending = new Map<ServiceName, Promise<void>>();
    for (const s of services) {
      const before = s.after ? pending.get(s.after) : undefined;
      pending.set(s.name, before ? before.then(() => bringUp(s)) : bringUp(s));
    }
    const failed = (await Promise.allSettled(pending.values())).find(
      (r): r is PromiseRejectedResult => r.status === 'rejected',
    );
    if (failed) throw failed.reason;
  };

  try {
    log(
      cfg.topology === 'cluster'
        ? `stack: ${bins.flavor} Galera cluster, writer node1 :${cfg.ports.primary}, reader node2 :${cfg.ports.replica}, node3 :${cfg.ports.node3} (state ${cfg.stateDir})`
        : `stack: ${bins.flavor} primary :${cfg.ports.primary}, replica :${cfg.ports.replica} (state ${cfg.stateDir})`,
    );
    if ('skipped' in grafana) log(grafana.skipped);
    await bringUpAll(independent);
    await (cfg.topology === 'cluster' ? setUpCluster(ctx) : setUpReplication(ctx));
    log(
      cfg.topology === 'cluster'
        ? `  ✓ cluster of 3 Synced, users and schema on every node (${Math.round(performance.now() - t0)} ms)`
        : `  ✓ replication running through the delay proxy (${Math.round(performance.now() - t0)} ms)`,
    );

    await bringUpAll(dependents);
    const files = writeEndpointFiles(ctx);
    log(`stack: up in ${Math.round(performance.now() - t0)} ms; endpoints in ${files.envFile}`);
    if (!('install' in grafana)) return { endpoints: ctx.endpoints, ...files, started, reused };
    const grafanaUrl = ctx.endpoints.grafanaUrl;
    log(
      `grafana: ${grafanaUrl} (anonymous read-only; dashboards in the CQRS folder; admin password in ${secretsFile(cfg.stateDir)})`,
    );
    return { endpoints: ctx.endpoints, ...files, started, reused, grafanaUrl };
  } catch (err) {
    if (started.length > 0)
      log(`stack: start failed; stopping the ${started.length} service(s) this run started`);
    await stopServices(cfg, started);
    throw err;
  }
}

/** Users and schema on the primary, then GTID replication through the delay proxy, caught up. */
async function setUpReplication(ctx: StackContext): Promise<void> {
  const { cfg, dialect } = ctx;
  const primary = await adminConnection(ctx.primary);
  const replica = await adminConnection(ctx.replica);
  try {
    const applied = await bootstrapPrimary(primary, cfg, dialect);
    if (applied.length > 0) ctx.log(`  ✓ schema migrations applied: ${applied.join(', ')}`);
    await startReplication(replica, cfg, dialect, cfg.ports.delayProxy);
    await waitForCatchUp(primary, replica, dialect, cfg.readyTimeoutMs);
    await installApplyStamps(replica, cfg, dialect);
  } finally {
    await Promise.all([primary.end(), replica.end()]);
  }
}

/**
 * Users and schema on node 1, which Galera applies on every node before they commit there; then a causal read
 * on the others proves they have it, and the reader node gets its apply stamps (kept local: wsrep_on=OFF).
 */
async function setUpCluster(ctx: StackContext): Promise<void> {
  const { cfg, dialect } = ctx;
  const [writer, ...others] = await Promise.all(ctx.nodes.map((n) => adminConnection(n)));
  try {
    const applied = await bootstrapPrimary(
      writer as Awaited<ReturnType<typeof adminConnection>>,
      cfg,
      dialect,
    );
    if (applied.length > 0) ctx.log(`  ✓ schema migrations applied: ${applied.join(', ')}`);
    await waitForClusterApplied(others);
    const reader = others[0] as Awaited<ReturnType<typeof adminConnection>>;
    await reader.query('SET SESSION wsrep_on = OFF');
    try {
      await installApplyStamps(reader, cfg, dialect);
    } finally {
      await reader.query('SET SESSION wsrep_on = ON');
    }
  } finally {
    await Promise.all([writer, ...others].map((c) => c?.end()));
  }
}

/**
 * Stop order: Grafana (a client of Prometheus) and the other clients of the databases first, then the replica
 * before the primary it replicates from.
 */
export const STOP_ORDER: ServiceName[] = [
  'grafana',
  'api',
  'exporter-primary',
  'exporter-replica',
  'prometheus',
  'redis',
  'reader-freeze',
  'replica',
  'delay-proxy',
  'primary',
  // Node 1 last: the last node to leave is the one Galera marks safe to bootstrap the next start.
  'node3',
  'node2',
  'node1',
];

const SERVERS = new Set<ServiceName>(['primary', 'replica', ...NODE_NAMES]);

async function stopServices(cfg: StackConfig, names: ServiceName[]): Promise<ServiceName[]> {
  const registry = readRegistry(cfg.stateDir);
  const stopped: ServiceName[] = [];
  for (const name of STOP_ORDER.filter((n) => names.includes(n))) {
    const rec = registry[name];
    if (isRunning(rec)) {
      // mysqld shuts down cleanly on SIGTERM (InnoDB flushes, binlog closes); the grace is generous on purpose.
      await stopProcess(rec, SERVERS.has(name) ? 60_000 : 10_000);
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
