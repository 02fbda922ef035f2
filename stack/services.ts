/**
 * The services of the local stack, each with how it starts and how readiness is proven. `stack:up` walks
 * them in dependency order; `stack:down` walks them backwards.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import { type Dialect, dialectFor } from '../common/dialect.ts';
import { type StackEndpoints, stackEndpoints, toEnv } from '../common/endpoints.ts';
import type { StackPortName } from '../common/stack-defaults.ts';
import type { Binaries } from './binaries.ts';
import { PROJECT_ROOT, type StackConfig } from './config.ts';
import { StackError } from './errors.ts';
import {
  allowBootstrap,
  DESYNCED,
  galeraNodes,
  installedProvider,
  NODE_NAMES,
  NODE_PORTS,
  seedFreshCluster,
  waitForSynced,
} from './galera.ts';
import { GALERA_PROVIDER_PATHS } from './galera-options.ts';
import {
  adminConnection,
  adminUser,
  instanceFor,
  type MysqldInstance,
  type NodeName,
  prepareInstance,
  startInstance,
  waitForInstance,
} from './mysqld.ts';
import { type ServerUser, serverUser } from './os-user.ts';
import { isRunning, type ProcessRecord, processUid, readRegistry, startDaemon } from './processes.ts';
import { prepareExporter, preparePrometheus } from './prometheus.ts';
import { httpReady, pollUntil } from './readiness.ts';
import { type StackSecrets, secretsFile, stackSecrets } from './secrets.ts';

export type ServiceName =
  | 'primary'
  | 'replica'
  | 'delay-proxy'
  | 'redis'
  | 'prometheus'
  | 'exporter-primary'
  | 'exporter-replica'
  | 'api'
  | 'grafana'
  | NodeName
  | 'reader-freeze';

export interface StackContext {
  cfg: StackConfig;
  bins: Binaries;
  dialect: Dialect;
  /** The writer's server: the async primary, or the cluster's node 1. */
  primary: MysqldInstance;
  /** The reader's server: the async replica, or the cluster's node 2. */
  replica: MysqldInstance;
  /** The cluster's three nodes (primary and replica among them); empty on the async topology. */
  nodes: MysqldInstance[];
  endpoints: StackEndpoints;
  /** The OS user the database servers run as (os-user.ts). */
  runAs: ServerUser;
  secrets: StackSecrets;
  /** Progress and warnings, one line each (stackUp's log). */
  log: (line: string) => void;
}

export interface ServiceDef {
  name: ServiceName;
  ports: readonly StackPortName[];
  /** Starts only once this one is ready (a Galera joiner needs a running cluster to join). */
  after?: ServiceName;
  start(ctx: StackContext): Promise<ProcessRecord>;
  ready(ctx: StackContext, rec: ProcessRecord): Promise<void>;
}

export const API_ENTRY = join(PROJECT_ROOT, 'api', 'server.ts');
const DELAY_PROXY_ENTRY = join(PROJECT_ROOT, 'stack', 'delay-proxy.ts');
/**
 * The Node services run from their bundle, as the CLI does (build/node-cli.mjs): no tsx start-up, and a bundle
 * whose sources changed is rebuilt before it runs. Their argv still names the .ts entry, which `exe` matches.
 */
export const NODE_LAUNCHER = join(PROJECT_ROOT, 'build', 'node-cli.mjs');

export function makeContext(
  cfg: StackConfig,
  bins: Binaries,
  log: (line: string) => void = () => {},
  /** Who runs the servers; stackUp works it out first, to close the state folder before secrets go in. */
  runAs: ServerUser = serverUser(cfg.stateDir, cfg.serverOsUser),
): StackContext {
  const secrets = stackSecrets(cfg.stateDir);
  // stackUp checks the provider first (findGaleraProvider); status and lag only need the folders and ports.
  const nodes =
    cfg.topology === 'cluster' ? galeraNodes(cfg, installedProvider() ?? GALERA_PROVIDER_PATHS[0]) : [];
  const [primary, replica] =
    cfg.topology === 'cluster'
      ? (nodes as [MysqldInstance, MysqldInstance])
      : [
          instanceFor(cfg.stateDir, 'primary', cfg.ports.primary),
          instanceFor(cfg.stateDir, 'replica', cfg.ports.replica),
        ];
  return {
    cfg,
    bins,
    dialect: dialectFor(bins.flavor),
    primary,
    replica,
    nodes,
    endpoints: stackEndpoints({
      ...cfg,
      flavor: bins.flavor,
      redisPassword: secrets.redisPassword,
      sockets: { primary: primary.socket, replica: replica.socket },
    }),
    runAs,
    secrets,
    log,
  };
}

const ready = (ctx: StackContext, name: string, rec: ProcessRecord) => ({
  name,
  rec,
  stateDir: ctx.cfg.stateDir,
  timeoutMs: ctx.cfg.readyTimeoutMs,
});

function mysqldService(role: 'primary' | 'replica'): ServiceDef {
  return {
    name: role,
    ports: [role],
    async start(ctx) {
      const inst = ctx[role];
      if ((await prepareInstance(inst, ctx.bins, ctx.runAs)) === 'migrated') {
        ctx.log(`  ~ ${role}: datadir handed to OS user ${ctx.runAs.user.name} (it was another user's)`);
      }
      return startInstance(inst, ctx.bins, ctx.cfg.stateDir);
    },
    async ready(ctx, rec) {
      const changes = await waitForInstance(
        ctx[role],
        rec,
        ctx.cfg.stateDir,
        ctx.cfg.readyTimeoutMs,
        ctx.bins.flavor,
      );
      for (const change of changes) ctx.log(`  ~ ${role}: ${change}`);
      // A server an earlier version started stays root's until it restarts; say so rather than hide it.
      if (processUid(rec.pid) === 0 && ctx.runAs.user.uid !== 0) {
        ctx.log(
          `warning: ${role} (pid ${rec.pid}) runs as root, started by an earlier version; restart it: npm run stack:down && npm run stack:up`,
        );
      }
    },
  };
}

function exporterService(role: 'primary' | 'replica'): ServiceDef {
  const name = `exporter-${role}` as const;
  const port = role === 'primary' ? 'exporterPrimary' : 'exporterReplica';
  return {
    name,
    ports: [port],
    start: async (ctx) =>
      startDaemon({
        name,
        command: ctx.bins.exporter,
        args: prepareExporter(ctx.cfg, role),
        stateDir: ctx.cfg.stateDir,
      }),
    // mysql_up 1 proves the exporter reaches its server with the exporter account, not just that it listens.
    ready: (ctx, rec) =>
      httpReady(ready(ctx, name, rec), `http://${ctx.cfg.host}:${ctx.cfg.ports[port]}/metrics`, (body) =>
        /^mysql_up 1$/m.test(body),
      ),
  };
}

/**
 * A node of the cluster topology. Node 1 seeds a fresh cluster (galera.ts) and bootstraps it when no other node
 * runs; node 2 joins once node 1 is Synced, node 3 once node 2 is, so each joiner has a free donor.
 */
function galeraService(index: number): ServiceDef {
  const name = NODE_NAMES[index] as NodeName;
  return {
    name,
    ports: Object.values(NODE_PORTS[name]),
    ...(index > 0 ? { after: NODE_NAMES[index - 1] as NodeName } : {}),
    async start(ctx) {
      const inst = ctx.nodes[index] as MysqldInstance;
      const registry = readRegistry(ctx.cfg.stateDir);
      const othersRunning = NODE_NAMES.some((n) => n !== name && isRunning(registry[n]));
      const seeded =
        index === 0 &&
        (await seedFreshCluster(ctx.nodes, ctx.bins, ctx.runAs, ctx.cfg.stateDir, ctx.cfg.readyTimeoutMs));
      if (seeded) {
        ctx.log('  ~ cluster: seeded node2 and node3 from node1 (they join without a full state transfer)');
      }
      if ((await prepareInstance(inst, ctx.bins, ctx.runAs)) === 'migrated') {
        ctx.log(`  ~ ${name}: datadir handed to OS user ${ctx.runAs.user.name} (it was another user's)`);
      }
      if (index === 0 && !othersRunning) {
        allowBootstrap(inst);
        return startInstance(inst, ctx.bins, ctx.cfg.stateDir, ['--wsrep-new-cluster']);
      }
      return startInstance(inst, ctx.bins, ctx.cfg.stateDir);
    },
    async ready(ctx, rec) {
      const inst = ctx.nodes[index] as MysqldInstance;
      // Synced first: a joiner answers SELECT 1 before it may read tables (secureAccounts reads mysql.user).
      await waitForSynced(inst, rec, ctx.cfg.readyTimeoutMs);
      const changes = await waitForInstance(
        inst,
        rec,
        ctx.cfg.stateDir,
        ctx.cfg.readyTimeoutMs,
        ctx.bins.flavor,
      );
      for (const change of changes) ctx.log(`  ~ ${name}: ${change}`);
    },
  };
}

const delayProxyService: ServiceDef = {
  name: 'delay-proxy',
  ports: ['delayProxy', 'delayProxyControl'],
  start: async (ctx) =>
    startDaemon({
      name: 'delay-proxy',
      command: process.execPath,
      args: [
        NODE_LAUNCHER,
        DELAY_PROXY_ENTRY,
        String(ctx.cfg.ports.delayProxy),
        String(ctx.cfg.ports.primary),
        String(ctx.cfg.ports.delayProxyControl),
      ],
      stateDir: ctx.cfg.stateDir,
      cwd: PROJECT_ROOT,
      exe: 'stack/delay-proxy.ts',
    }),
  ready: (ctx, rec) =>
    httpReady(ready(ctx, 'delay-proxy', rec), `${ctx.endpoints.delayProxyControlUrl}/delay`),
};

/** Services that need no database users and are the same on both topologies. */
const SHARED_SERVICES: ServiceDef[] = [
  {
    name: 'redis',
    ports: ['redis'],
    start: async (ctx) =>
      startDaemon({
        name: 'redis',
        command: ctx.bins.redis,
        args: [writeRedisConf(ctx)],
        stateDir: ctx.cfg.stateDir,
      }),
    ready: (ctx, rec) =>
      pollUntil(
        ready(ctx, 'redis', rec),
        async () => {
          // Unauthenticated first: a Redis that answers it has no password (an earlier version started it),
          // and waiting will not change that. ioredis would only warn and carry on.
          const open = await redisReply(ctx.cfg.host, ctx.cfg.ports.redis, 'PING');
          if (open.startsWith('+PONG')) {
            throw new StackError(
              `redis (pid ${rec.pid}) answers without a password, started by an earlier version; restart it: npm run stack:down && npm run stack:up`,
            );
          }
          if (!open.startsWith('-NOAUTH')) return false;
          const client = new Redis(ctx.endpoints.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0 });
          client.on('error', () => {});
          try {
            await client.connect();
            return (await client.ping()) === 'PONG';
          } catch (err) {
            if (/WRONGPASS/.test(String(err))) {
              throw new StackError(
                `redis (pid ${rec.pid}) has another password than ${secretsFile(ctx.cfg.stateDir)}; restart it: npm run stack:down && npm run stack:up`,
              );
            }
            return false;
          } finally {
            client.disconnect();
          }
        },
        'PING',
      ),
  },
  {
    name: 'prometheus',
    ports: ['prometheus'],
    start: async (ctx) =>
      startDaemon({
        name: 'prometheus',
        command: ctx.bins.prometheus,
        args: await preparePrometheus(ctx.cfg, ctx.bins),
        stateDir: ctx.cfg.stateDir,
      }),
    ready: (ctx, rec) => httpReady(ready(ctx, 'prometheus', rec), `${ctx.endpoints.prometheusUrl}/-/ready`),
  },
];

/**
 * Services that need no database users; started in parallel with the servers (a Galera joiner waits for the
 * node before it). The async pair replicates through the delay proxy; the cluster needs none.
 */
export function independentServices(cfg: Pick<StackConfig, 'topology'>): ServiceDef[] {
  const servers =
    cfg.topology === 'cluster'
      ? NODE_NAMES.map((_, i) => galeraService(i))
      : [mysqldService('primary'), mysqldService('replica'), delayProxyService];
  return [...servers, ...SHARED_SERVICES];
}

/** Services that log in to the databases, so they start once users and schema exist. */
export function dependentServices(cfg: StackConfig): ServiceDef[] {
  const services = [exporterService('primary'), exporterService('replica')];
  if (cfg.withApi && existsSync(API_ENTRY)) {
    services.push({
      name: 'api',
      ports: ['api'],
      start: async (ctx) =>
        startDaemon({
          name: 'api',
          command: process.execPath,
          args: [NODE_LAUNCHER, API_ENTRY],
          env: {
            ...process.env,
            ...toEnv(ctx.endpoints),
            CQRS_API_HOST: ctx.cfg.host,
            CQRS_API_PORT: String(ctx.cfg.ports.api),
          },
          stateDir: ctx.cfg.stateDir,
          cwd: PROJECT_ROOT,
          exe: 'api/server.ts',
        }),
      ready: (ctx, rec) => httpReady(ready(ctx, 'api', rec), `${ctx.endpoints.apiUrl}/healthz`),
    });
  }
  return services;
}

const READER_FREEZE_ENTRY = join(PROJECT_ROOT, 'stack', 'reader-freeze.ts');

/** `stack:lag freeze` on the cluster: a process holding the reader node's applier (reader-freeze.ts). */
export function startFreeze(ctx: StackContext): ProcessRecord {
  return startDaemon({
    name: 'reader-freeze',
    command: process.execPath,
    args: [NODE_LAUNCHER, READER_FREEZE_ENTRY, ctx.replica.socket, adminUser()],
    stateDir: ctx.cfg.stateDir,
    cwd: PROJECT_ROOT,
    exe: 'stack/reader-freeze.ts',
  });
}

/** Frozen once node 2 reports itself desynced (FTWRL desyncs a Galera node and pauses its applier). */
export function readyFreeze(ctx: StackContext, rec: ProcessRecord): Promise<void> {
  return pollUntil(
    ready(ctx, 'reader-freeze', rec),
    async () => {
      const conn = await adminConnection(ctx.replica);
      try {
        const [rows] = await conn.query<RowDataPacket[]>(
          "SHOW GLOBAL STATUS LIKE 'wsrep_local_state_comment'",
        );
        return String(rows[0]?.Value ?? '') === DESYNCED;
      } finally {
        await conn.end();
      }
    },
    'node2 desynced',
  );
}

/** One raw RESP command; the first reply line ('' when nothing answers within a second). */
export function redisReply(host: string, port: number, command: string): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, host);
    let reply = '';
    const done = () => {
      sock.destroy();
      resolve(reply.split('\r\n')[0] ?? '');
    };
    sock.setTimeout(1000, done);
    sock.on('error', done);
    sock.on('connect', () => sock.write(`${command}\r\n`));
    sock.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done();
    });
  });
}

/**
 * redis.conf (0600, in a 0700 folder): the password stays out of argv, which every local user can read in
 * /proc. No persistence: the cache is disposable by design. Redis 7 refuses CONFIG SET of `dir` and
 * `dbfilename` by default (enable-protected-configs), so even a client with the password cannot make it write
 * files elsewhere.
 */
function writeRedisConf(ctx: StackContext): string {
  const dir = join(ctx.cfg.stateDir, 'redis');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = join(dir, 'redis.conf');
  const lines = [
    `bind ${ctx.cfg.host}`,
    `port ${ctx.cfg.ports.redis}`,
    `requirepass ${ctx.secrets.redisPassword}`,
    'save ""',
    'appendonly no',
    `dir ${dir}`,
  ];
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** Single-quoted for POSIX shells: DSNs contain `(` and `)`. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `<state>/stack.env` (for k6 `-e`/shell `set -a`) and its JSON twin `<state>/stack.json` (for Node). */
export function writeEndpointFiles(ctx: StackContext): { envFile: string; jsonFile: string } {
  const envFile = join(ctx.cfg.stateDir, 'stack.env');
  const jsonFile = join(ctx.cfg.stateDir, 'stack.json');
  const env = toEnv(ctx.endpoints);
  writeFileSync(
    envFile,
    `# Written by stack:up. Load with: set -a; . ${envFile}; set +a\n${Object.entries(env)
      .map(([k, v]) => `${k}=${shellQuote(v)}`)
      .join('\n')}\n`,
    { mode: 0o600 },
  );
  writeFileSync(jsonFile, `${JSON.stringify({ ...ctx.endpoints, env }, null, 2)}\n`, { mode: 0o600 });
  return { envFile, jsonFile };
}
