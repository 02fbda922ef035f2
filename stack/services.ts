/**
 * The services of the local stack, each with how it starts and how readiness is proven. `stack:up` walks
 * them in dependency order; `stack:down` walks them backwards.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { type Dialect, dialectFor } from '../common/dialect.ts';
import { type StackEndpoints, stackEndpoints, toEnv } from '../common/endpoints.ts';
import type { StackPortName } from '../common/stack-defaults.ts';
import type { Binaries } from './binaries.ts';
import { PROJECT_ROOT, type StackConfig } from './config.ts';
import { StackError } from './errors.ts';
import {
  instanceFor,
  type MysqldInstance,
  prepareInstance,
  startInstance,
  waitForInstance,
} from './mysqld.ts';
import { type ServerUser, serverUser } from './os-user.ts';
import { type ProcessRecord, processUid, startDaemon } from './processes.ts';
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
  | 'grafana';

export interface StackContext {
  cfg: StackConfig;
  bins: Binaries;
  dialect: Dialect;
  primary: MysqldInstance;
  replica: MysqldInstance;
  endpoints: StackEndpoints;
  /** The OS user the database servers run as (os-user.ts). */
  runAs: ServerUser;
  secrets: StackSecrets;
  /** Progress and warnings, one line each (stackUp's log). */
  log: (line: string) => void;
}

export interface ServiceDef {
  name: ServiceName;
  ports: StackPortName[];
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
  const primary = instanceFor(cfg.stateDir, 'primary', cfg.ports.primary);
  const replica = instanceFor(cfg.stateDir, 'replica', cfg.ports.replica);
  return {
    cfg,
    bins,
    dialect: dialectFor(bins.flavor),
    primary,
    replica,
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

/** Services that need no database users; started in parallel with the servers. */
export const INDEPENDENT_SERVICES: ServiceDef[] = [
  mysqldService('primary'),
  mysqldService('replica'),
  {
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
  },
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
