/**
 * `stack:status`: which services run, whether replication runs, and the replica's lag measured now with the
 * scenarios' own heartbeat estimator, so the figure means what the k6 runs report.
 */
import type mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2/promise';
import {
  BEAT_STATEMENTS,
  HEARTBEAT_SQL,
  type HeartbeatBasis,
  sampleHeartbeatLag,
} from '../common/heartbeat.ts';
import { findBinaries } from './binaries.ts';
import type { StackConfig } from './config.ts';
import { DESYNCED, type NodeStatus, nodeStatus, SYNCED, unreachableNode } from './galera.ts';
import { runningTopology } from './lifecycle.ts';
import { adminConnection } from './mysqld.ts';
import { isRunning, readRegistry } from './processes.ts';
import { type ReplicaStatus, replicaStatus } from './replication.ts';
import { dependentServices, independentServices, makeContext, type ServiceName } from './services.ts';

export interface ServiceStatus {
  name: ServiceName;
  pid: number | null;
  running: boolean;
}

export interface StackStatus {
  /** What runs (else what CQRS_STACK_TOPOLOGY says would). */
  topology: StackConfig['topology'];
  services: ServiceStatus[];
  healthy: boolean;
  /** The cluster topology: each running node's view of the group, flow control included. */
  cluster?: NodeStatus[];
  replication?: ReplicaStatus;
  proxyDelayMs?: number;
  /**
   * Measured now with the scenarios' heartbeat estimator (common/heartbeat.ts): a beat written on the primary,
   * then the replica's lag once that beat has reached it (ms), or null if it did not within 5 s.
   */
  replicaLagMs?: number | null;
  replicaLagBasis?: HeartbeatBasis;
}

export async function stackStatus(given: StackConfig): Promise<StackStatus> {
  const bins = await findBinaries();
  const registry = readRegistry(given.stateDir);
  const cfg = { ...given, topology: runningTopology(registry, given.stateDir) ?? given.topology };
  const ctx = makeContext(cfg, bins);
  const names = [...independentServices(cfg), ...dependentServices(cfg)].map((s) => s.name);
  // Optional services: listed (and counted for health) while stack:up or stack:lag has them running.
  if (registry.grafana) names.push('grafana');
  if (isRunning(registry['reader-freeze'])) names.push('reader-freeze');
  const services = names.map((name) => {
    const rec = registry[name];
    return { name, pid: rec?.pid ?? null, running: isRunning(rec) };
  });
  const status: StackStatus = {
    topology: cfg.topology,
    services,
    healthy: services.every((s) => s.running),
  };
  const running = (name: ServiceName) => services.find((s) => s.name === name)?.running ?? false;
  if (cfg.topology === 'cluster') {
    status.cluster = [];
    const frozen = running('reader-freeze');
    for (const node of ctx.nodes) {
      const name = node.role as NodeStatus['name'];
      if (!running(name)) continue;
      // A joiner mid-transfer, or a node shutting down, runs without answering: not healthy, but no error.
      const conn = await adminConnection(node).catch(() => undefined);
      const answer = conn && (await nodeStatus(conn, name).catch(() => undefined));
      await conn?.end().catch(() => undefined);
      status.cluster.push(answer ?? unreachableNode(name));
    }
    // In step: Synced, or the reader desynced on purpose by stack:lag freeze.
    status.healthy &&= status.cluster.every(
      (n) =>
        n.ready &&
        n.clusterStatus === 'Primary' &&
        n.clusterSize === ctx.nodes.length &&
        (n.state === SYNCED || (frozen && n.name === 'node2' && n.state === DESYNCED)),
    );
  }
  if (!running(ctx.primary.role) || !running(ctx.replica.role)) return status;
  const primary = await adminConnection(ctx.primary);
  const replica = await adminConnection(ctx.replica);
  try {
    if (cfg.topology === 'async') {
      status.replication = await replicaStatus(replica, ctx.dialect);
      status.healthy &&= status.replication.ioRunning === 'Yes' && status.replication.sqlRunning === 'Yes';
      status.proxyDelayMs = await fetch(`${ctx.endpoints.delayProxyControlUrl}/delay`)
        .then((r) => r.json() as Promise<{ delayMs: number }>)
        .then((b) => b.delayMs)
        .catch(() => undefined);
    }
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
