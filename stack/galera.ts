/**
 * The cluster topology: three MariaDB Galera nodes on 127.0.0.1. Node 1 takes the writes (the writer
 * endpoint), node 2 the reads (the reader endpoint), node 3 makes the group a majority of three, as an
 * InnoDB Cluster has. Every node has its own SQL, group, IST and SST ports (config/stack.ts).
 *
 * Start-up without a full state transfer: a fresh cluster is seeded once (node 1 initialised, bootstrapped and
 * stopped cleanly, its datadir copied to nodes 2 and 3), so every node starts with the same saved state and a
 * joiner needs at most an incremental transfer (IST) of what happened since. Nodes are stopped node 3 first and
 * node 1 last, so node 1 holds the newest state and bootstraps the next start.
 */
import { cpSync, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2/promise';
import { syncBeforeSessionSql } from '../common/mysql-strategies.ts';
import type { StackPortName } from '../common/stack-defaults.ts';
import { type Binaries, which } from './binaries.ts';
import type { StackConfig } from './config.ts';
import { StackError } from './errors.ts';
import { GALERA_PROVIDER_PATHS } from './galera-options.ts';
import {
  adminConnection,
  instanceFor,
  type MysqldInstance,
  type NodeName,
  prepareInstance,
  startInstance,
  waitForInstance,
} from './mysqld.ts';
import type { ServerUser } from './os-user.ts';
import { isRunning, type ProcessRecord, stopProcess } from './processes.ts';

export const NODE_NAMES: readonly NodeName[] = ['node1', 'node2', 'node3'];

/** Each node's ports: node 1 and 2 serve SQL on the writer and reader ports, node 3 on its own. */
interface NodePorts {
  readonly sql: StackPortName;
  readonly group: StackPortName;
  readonly ist: StackPortName;
  readonly sst: StackPortName;
}

export const NODE_PORTS: { readonly [N in NodeName]: NodePorts } = {
  node1: { sql: 'primary', group: 'galeraGroup1', ist: 'galeraIst1', sst: 'galeraSst1' },
  node2: { sql: 'replica', group: 'galeraGroup2', ist: 'galeraIst2', sst: 'galeraSst2' },
  node3: { sql: 'node3', group: 'galeraGroup3', ist: 'galeraIst3', sst: 'galeraSst3' },
};

/** The Galera library, and the tools a state transfer runs; one line naming the package when one is missing. */
/** The installed Galera library, if any (the first of GALERA_PROVIDER_PATHS that exists). */
export const installedProvider = (): string | undefined => GALERA_PROVIDER_PATHS.find((p) => existsSync(p));

export function findGaleraProvider(path = process.env.PATH ?? ''): string {
  const provider = installedProvider();
  if (!provider) {
    throw new StackError(
      `the cluster topology needs Galera (${GALERA_PROVIDER_PATHS[0]} not found); install it with: apt-get install galera-4 rsync`,
    );
  }
  for (const [tool, pkg] of [
    ['rsync', 'rsync'],
    ['wsrep_sst_rsync', 'mariadb-server'],
  ] as const) {
    if (!which(tool, path)) {
      throw new StackError(
        `the cluster topology needs ${tool} for state transfers; install it with: apt-get install ${pkg}`,
      );
    }
  }
  return provider;
}

export function galeraNodes(cfg: StackConfig, provider: string): MysqldInstance[] {
  const clusterAddress = `gcomm://${NODE_NAMES.map((n) => `127.0.0.1:${cfg.ports[NODE_PORTS[n].group]}`).join(',')}`;
  return NODE_NAMES.map((name, i) => {
    const p = NODE_PORTS[name];
    return instanceFor(cfg.stateDir, name, cfg.ports[p.sql], {
      index: i + 1,
      groupPort: cfg.ports[p.group],
      istPort: cfg.ports[p.ist],
      sstPort: cfg.ports[p.sst],
      clusterAddress,
      provider,
    });
  });
}

/** wsrep_local_state_comment of a node in step with the group, and of one FLUSH TABLES WITH READ LOCK holds. */
export const SYNCED = 'Synced';
export const DESYNCED = 'Donor/Desynced';

export const isInitialised = (inst: MysqldInstance): boolean => existsSync(join(inst.datadir, 'mysql'));

const grastate = (inst: MysqldInstance) => join(inst.datadir, 'grastate.dat');

/**
 * Lets node 1 bootstrap a cluster none of whose nodes runs. Galera marks only the last node to leave as safe;
 * after a crash none is. Node 1 is the only node that takes writes, so after a process crash it lacks no
 * transaction another node has, and starting from it loses nothing. After an OS crash it may have lost its last
 * commits (the lab flushes the redo log once a second); the others then take a full state transfer from it.
 */
export function allowBootstrap(inst: MysqldInstance): void {
  const file = grastate(inst);
  if (!existsSync(file)) return;
  const text = readFileSync(file, 'utf8');
  if (/^safe_to_bootstrap:\s*1\s*$/m.test(text)) return;
  writeFileSync(file, text.replace(/^safe_to_bootstrap:.*$/m, 'safe_to_bootstrap: 1'));
}

/** Node-specific files a datadir copy must not take: the write-set cache and node 1's last group view. */
const NODE_OWN_FILES = new Set(['galera.cache', 'gvwstate.dat']);

/**
 * A fresh cluster: initialises node 1, bootstraps it once so it writes its saved state, stops it cleanly and
 * copies its datadir to the other nodes, which then join without a full state transfer. Returns false (and
 * does nothing) when any node already has a datadir.
 */
export async function seedFreshCluster(
  nodes: readonly MysqldInstance[],
  bins: Binaries,
  runAs: ServerUser,
  stateDir: string,
  timeoutMs: number,
): Promise<boolean> {
  const [first, ...others] = nodes as [MysqldInstance, ...MysqldInstance[]];
  if (nodes.some(isInitialised)) return false;
  await prepareInstance(first, bins, runAs);
  const rec = startInstance(first, bins, stateDir, ['--wsrep-new-cluster']);
  try {
    await waitForInstance(first, rec, stateDir, timeoutMs, bins.flavor);
    await waitForSynced(first, rec, timeoutMs);
  } finally {
    await stopProcess(rec, 60_000);
  }
  for (const node of others) {
    // Copied beside, then renamed into place: an interrupted copy never looks like an initialised datadir.
    const partial = `${node.datadir}.seeding`;
    rmSync(partial, { recursive: true, force: true });
    rmSync(node.datadir, { recursive: true, force: true });
    cpSync(first.datadir, partial, {
      recursive: true,
      filter: (src) => !NODE_OWN_FILES.has(basename(src)),
    });
    const file = join(partial, 'grastate.dat');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(/^safe_to_bootstrap:.*$/m, 'safe_to_bootstrap: 0'),
    );
    renameSync(partial, node.datadir);
    await prepareInstance(node, bins, runAs);
  }
  return true;
}

const statusOf = async (conn: mysql.Connection): Promise<Record<string, string>> => {
  const [rows] = await conn.query<RowDataPacket[]>("SHOW GLOBAL STATUS LIKE 'wsrep\\_%'");
  return Object.fromEntries(rows.map((r) => [String(r.Variable_name), String(r.Value)]));
};

/** Waits until the node has joined the primary component and applied its way to Synced. */
export async function waitForSynced(
  inst: MysqldInstance,
  rec: ProcessRecord,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not answering';
  for (;;) {
    if (!isRunning(rec)) throw new StackError(`${inst.role} exited while joining the cluster (${last})`);
    const conn = await adminConnection(inst).catch(() => undefined);
    if (conn) {
      try {
        const s = await statusOf(conn);
        last = `${s.wsrep_local_state_comment ?? '?'}, cluster ${s.wsrep_cluster_status ?? '?'}`;
        if (s.wsrep_ready === 'ON' && s.wsrep_local_state_comment === SYNCED) return;
      } catch {
        // Not answering yet (a joiner listens only once its state transfer is done).
      } finally {
        await conn.end().catch(() => undefined);
      }
    }
    if (Date.now() > deadline) {
      throw new StackError(`${inst.role} did not become ${SYNCED} within ${timeoutMs} ms (${last})`);
    }
    await sleep(25);
  }
}

export interface NodeStatus {
  name: NodeName;
  /** wsrep_local_state_comment: Synced, Joining, Donor/Desynced, … */
  state: string;
  /** wsrep_cluster_status: Primary, or non-Primary when it lost quorum. */
  clusterStatus: string;
  clusterSize: number;
  ready: boolean;
  /** Write sets received and not yet applied (wsrep_local_recv_queue): the node's backlog now. */
  recvQueue: number;
  /** Share of time since the last FLUSH STATUS the node was paused by flow control (0..1). */
  flowControlPaused: number;
  /** Pause requests this node sent (it could not keep up), and received from others. */
  flowControlSent: number;
  flowControlRecv: number;
}

/** A node whose process runs but does not answer (a joiner mid-transfer, a node shutting down). */
export function unreachableNode(name: NodeName): NodeStatus {
  return {
    name,
    state: 'not answering',
    clusterStatus: 'unknown',
    clusterSize: 0,
    ready: false,
    recvQueue: 0,
    flowControlPaused: 0,
    flowControlSent: 0,
    flowControlRecv: 0,
  };
}

export async function nodeStatus(conn: mysql.Connection, name: NodeName): Promise<NodeStatus> {
  const s = await statusOf(conn);
  const n = (k: string) => Number(s[k] ?? 0);
  return {
    name,
    state: s.wsrep_local_state_comment ?? 'unknown',
    clusterStatus: s.wsrep_cluster_status ?? 'unknown',
    clusterSize: n('wsrep_cluster_size'),
    ready: s.wsrep_ready === 'ON',
    recvQueue: n('wsrep_local_recv_queue'),
    flowControlPaused: n('wsrep_flow_control_paused'),
    flowControlSent: n('wsrep_flow_control_sent'),
    flowControlRecv: n('wsrep_flow_control_recv'),
  };
}

/**
 * Waits on each node until it has applied everything committed in the cluster so far: one causal read
 * (wsrep_sync_wait) per node. Used after users and schema went in on node 1.
 */
export async function waitForClusterApplied(conns: readonly mysql.Connection[]): Promise<void> {
  for (const conn of conns) {
    for (const sql of syncBeforeSessionSql('mariadb')) await conn.query(sql);
    await conn.query('SELECT COUNT(*) FROM mysql.user');
    await conn.query('SET SESSION wsrep_sync_wait = DEFAULT');
  }
}
