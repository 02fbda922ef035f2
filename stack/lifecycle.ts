/**
 * Bringing the whole stack up and down, and single services for fault tests. Up reuses every service that
 * already runs and answers; a failed up stops whatever it started, so nothing is left half-started.
 */
import { chmodSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { findBinaries } from './binaries.ts';
import { portEnvName, type StackConfig } from './config.ts';
import { StackError } from './errors.ts';
import { findGrafana, grafanaService } from './grafana.ts';
import { adminConnection } from './mysqld.ts';
import { serverUser } from './os-user.ts';
import { isPortFree } from './ports.ts';
import { isRunning, readRegistry, stopProcess, updateRegistry } from './processes.ts';
import { bootstrapPrimary, installApplyStamps, startReplication, waitForCatchUp } from './replication.ts';
import { secretsFile } from './secrets.ts';
import {
  dependentServices,
  INDEPENDENT_SERVICES,
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
 * Brings the stack up, reusing every service that already runs and answers. On any failure, whatever this call
 * started is stopped again, so nothing is left half-started.
 */
export async function stackUp(cfg: StackConfig, log: Log = () => {}): Promise<UpResult> {
  const bins = await findBinaries();
  // Optional: absent, it is skipped with one line; a bad CQRS_GRAFANA_HOME fails here, before anything starts.
  const grafana = findGrafana(cfg);
  mkdirSync(cfg.stateDir, { recursive: true });
  // Refuse (or close) the state folder before makeContext writes the generated secrets into it.
  const runAs = serverUser(cfg.stateDir, cfg.serverOsUser);
  closeStateDir(cfg.stateDir, runAs.user.uid !== process.getuid?.());
  const ctx = makeContext(cfg, bins, log, runAs);
  if (ctx.runAs.warning) log(ctx.runAs.warning);
  const registry = readRegistry(cfg.stateDir);
  const dependents = dependentServices(cfg);
  // Grafana needs no database: it starts beside the servers, so its first-start migrations overlap theirs.
  const independent = [
    ...INDEPENDENT_SERVICES,
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
    if ('skipped' in grafana) log(grafana.skipped);
    await bringUpAll(independent);

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
