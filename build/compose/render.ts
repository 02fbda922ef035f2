/**
 * The Docker Compose lab (compose.yaml at the repository root, and the Prometheus config it mounts), rendered
 * from the modules the local stack is made of, so the two cannot drift: the CQRS_* environment comes from
 * common/endpoints.ts's toEnv (the stack's env file), k6's output settings from common/k6-output.ts, the
 * servers' options from common/dialect.ts, the experiment from config/run.ts's defaults, Grafana's settings
 * from stack/grafana.ts, and users, grants and schema from the stack's own bootstrap (build/api/replica-setup.ts).
 * Pure and deterministic; `node build/node-cli.mjs build/compose/generate.ts` writes it, and
 * test/build/compose.test.ts holds the committed files to it byte for byte.
 */
import { stringify } from 'yaml';
import { dialectFor } from '../../common/dialect.ts';
import { type DbEndpoint, type StackEndpoints, toEnv } from '../../common/endpoints.ts';
import { STACK_DEFAULT_USERS } from '../../common/stack-credentials.ts';
import { httpUrl, redisUrl, STACK_DATABASE, STACK_DEFAULT_PORTS } from '../../common/stack-defaults.ts';
import { TOPOLOGY_ENV } from '../../common/topology.ts';
import { readEnv } from '../../config/env.ts';
import { EXPERIMENT_VARS } from '../../config/run.ts';
import {
  DASHBOARDS,
  DEFAULT_DASHBOARDS_DIR,
  GRAFANA_ENV,
  PROVISIONING_FILES,
} from '../../dashboards/src/render.ts';
import { CONFIG_SCHEMA } from '../../lib/config.ts';
import { loadStackConfig } from '../../stack/config.ts';
import { grafanaEnv } from '../../stack/grafana.ts';
import { parseLag } from '../../stack/lag.ts';
import { replicaStartupOptions } from '../api/replica-setup.ts';
import { IMAGE_PINS, PROMETHEUS_INGEST_FLAGS } from '../images.ts';

/** Every image the lab pulls or builds: the shared pin table (build/images.ts), the same pins k8s/ uses. */
export const IMAGES = {
  mysql: IMAGE_PINS.mysql,
  redis: IMAGE_PINS.redis,
  prometheus: IMAGE_PINS.prometheus,
  grafana: IMAGE_PINS.grafana,
  mysqldExporter: IMAGE_PINS.mysqldExporter,
  api: IMAGE_PINS.api,
  k6: IMAGE_PINS.k6Sql,
} as const;

/** The files this module renders, relative to the repository root. */
export const COMPOSE_FILE = 'compose.yaml';
export const PROMETHEUS_FILE = 'build/compose/prometheus.yml';

/** Ports inside the Compose network (each service has its own address, so the usual ones). */
export const PORTS = {
  mysql: 3306,
  /** The delay proxy shares the primary's network namespace (build/api/lag-proxy.ts). */
  delayProxy: 3307,
  delayProxyControl: 8081,
  redis: 6379,
  api: 8080,
  prometheus: 9090,
  grafana: 3000,
  exporter: 9104,
} as const;

/** Where the host reaches the lab: 127.0.0.1 only, on the local stack's default ports (one of the two runs). */
const PUBLISHED = STACK_DEFAULT_PORTS;
const loopback = (host: number, container: number) => `127.0.0.1:${host}:${container}`;

/**
 * Compose-only variables: interpolated from the shell that runs `docker compose` (with these defaults), or
 * read by the lab's own programs. Everything else is a name the local stack uses too.
 */
export const COMPOSE_VARS = {
  /** Root of both servers (a loopback lab, like the stack's documented passwords). */
  rootPassword: 'CQRS_COMPOSE_ROOT_PASSWORD',
  /** The uid/gid the k6 service writes ./reports as: yours, so the reports are yours. */
  uid: 'CQRS_COMPOSE_UID',
  gid: 'CQRS_COMPOSE_GID',
  /** build/xk6/experiment.sh: lag=delayMs pairs, and the delay proxy's control URL. */
  lags: 'CQRS_COMPOSE_LAGS',
  delayControlUrl: 'CQRS_DELAY_CONTROL_URL',
} as const;

const ROOT_PASSWORD = `\${${COMPOSE_VARS.rootPassword}:-root-secret}`;

const HOSTS = {
  primary: 'mysql-primary',
  replica: 'mysql-replica',
  redis: 'redis',
  api: 'api',
  prometheus: 'prometheus',
  grafana: 'grafana',
} as const;

const db = (host: string, role: keyof typeof STACK_DEFAULT_USERS): DbEndpoint => ({
  host,
  port: PORTS.mysql,
  database: STACK_DATABASE,
  ...STACK_DEFAULT_USERS[role],
});

/** The lab's endpoints, in the local stack's own shape, as the containers reach them. */
export function composeEndpoints(): StackEndpoints {
  const prometheusUrl = httpUrl(PORTS.prometheus, HOSTS.prometheus);
  return {
    flavor: 'mysql',
    // A primary and its asynchronous replica: the strategies of a synchronous cluster (sync-before) are refused.
    topology: 'async',
    writer: db(HOSTS.primary, 'writer'),
    reader: db(HOSTS.replica, 'reader'),
    replicaMonitor: db(HOSTS.replica, 'monitor'),
    // Admin goes through the replica-setup step's root login; no socket is shared between containers.
    primaryAdminSocket: '',
    replicaAdminSocket: '',
    // Redis is reachable only inside the Compose network, so it needs no password there.
    redisUrl: redisUrl(PORTS.redis, undefined, HOSTS.redis),
    apiUrl: httpUrl(PORTS.api, HOSTS.api),
    prometheusUrl,
    remoteWriteUrl: `${prometheusUrl}/api/v1/write`,
    grafanaUrl: httpUrl(PORTS.grafana, HOSTS.grafana),
    delayProxyControlUrl: httpUrl(PORTS.delayProxyControl, HOSTS.primary),
  };
}

/** The variables of the stack's env file (toEnv), as the lab's containers need them. */
export function composeEnv(): Record<string, string> {
  return toEnv(composeEndpoints());
}

/** npm start's default experiment (config/run.ts): its lags as `lag=delayMs` pairs, and each run's length. */
export function defaultExperiment(): { lags: string; duration: string } {
  const { lags, duration } = readEnv({ lags: EXPERIMENT_VARS.lags, duration: EXPERIMENT_VARS.duration }, {});
  const pairs = lags.map((lag) => {
    const cmd = parseLag(lag);
    if (cmd.kind !== 'proxy') throw new Error(`lag ${lag} is not a delay-proxy lag`);
    return `${lag}=${cmd.delayMs}`;
  });
  return { lags: pairs.join(' '), duration };
}

const pick = (env: Record<string, string>, names: readonly string[]) =>
  Object.fromEntries(names.map((n) => [n, env[n] as string]));

const mysql = dialectFor('mysql');

/**
 * mysqld's options on the command line (the image's own my.cnf stays as it is): GTID replication from the
 * dialect, the local stack's relaxed durability (a lab; reports say so), a server id each.
 */
function mysqldCommand(serverId: number, extra: readonly string[]): string[] {
  const relaxed = ['innodb_flush_log_at_trx_commit=2', 'sync_binlog=0', 'innodb_buffer_pool_size=128M'];
  return [
    'mysqld',
    `--server-id=${serverId}`,
    ...[...mysql.serverOptions, ...relaxed, ...extra].map((o) => `--${o}`),
  ];
}

/** Healthy once root can run a query over TCP (the image's first-start init only listens on a socket). */
const mysqlHealthcheck = {
  test: ['CMD-SHELL', `MYSQL_PWD="$$MYSQL_ROOT_PASSWORD" mysql -h127.0.0.1 -uroot -e 'SELECT 1' >/dev/null`],
  interval: '2s',
  timeout: '5s',
  retries: 60,
  start_period: '30s',
};

const nodeHealthcheck = (url?: string) => ({
  test: ['CMD', 'node', '/app/bin/build/api/healthcheck.mjs', ...(url ? [url] : [])],
  interval: '2s',
  timeout: '3s',
  retries: 30,
});

const apiBuild = { context: '.', dockerfile: 'build/api/Dockerfile' };
const k6Build = { context: '.', dockerfile: 'build/xk6/Dockerfile' };
const healthy = { condition: 'service_healthy' } as const;
const completed = { condition: 'service_completed_successfully' } as const;

function exporter(role: 'primary' | 'replica') {
  const host = role === 'primary' ? HOSTS.primary : HOSTS.replica;
  return {
    image: IMAGES.mysqldExporter,
    command: [
      `--mysqld.address=${host}:${PORTS.mysql}`,
      `--mysqld.username=${STACK_DEFAULT_USERS.exporter.user}`,
      `--web.listen-address=:${PORTS.exporter}`,
      // The local stack's collectors (stack/prometheus.ts prepareExporter).
      '--collect.slave_status',
      '--collect.heartbeat',
      `--collect.heartbeat.database=${STACK_DATABASE}`,
      '--collect.heartbeat.table=heartbeat',
    ],
    environment: { MYSQLD_EXPORTER_PASSWORD: STACK_DEFAULT_USERS.exporter.password },
    depends_on: { 'replica-setup': completed },
  };
}

/** Prometheus's config: the local stack's jobs and labels (stack/prometheus.ts), at the lab's addresses. */
export function prometheusConfig(): unknown {
  const at = (host: string, port: number) => `${host}:${port}`;
  return {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    scrape_configs: [
      {
        job_name: 'mysqld',
        static_configs: [
          { targets: [at('exporter-primary', PORTS.exporter)], labels: { role: 'primary' } },
          { targets: [at('exporter-replica', PORTS.exporter)], labels: { role: 'replica' } },
        ],
      },
      { job_name: 'cqrs-api', static_configs: [{ targets: [at(HOSTS.api, PORTS.api)] }] },
      { job_name: 'prometheus', static_configs: [{ targets: [at('localhost', PORTS.prometheus)] }] },
    ],
  };
}

/**
 * No login at all: anonymous Viewer (the local stack's setting) is the only way in. Without these the image's
 * default admin/admin account would sit behind the login form and basic auth of every API call.
 */
export const GRAFANA_NO_LOGIN = {
  GF_AUTH_DISABLE_LOGIN_FORM: 'true',
  GF_AUTH_BASIC_ENABLED: 'false',
} as const;

/** Grafana's settings as the local stack sets them, with the image's own paths and the container's address. */
function grafanaEnvironment(prometheusUrl: string): Record<string, string> {
  const local = grafanaEnv(loadStackConfig({}, {}), prometheusUrl);
  const kept = Object.entries(local).filter(
    ([k]) => !k.startsWith('GF_PATHS_') && !k.startsWith('GF_SERVER_'),
  );
  return {
    ...Object.fromEntries(kept),
    GF_SERVER_HTTP_PORT: String(PORTS.grafana),
    [GRAFANA_ENV.prometheusUrl]: prometheusUrl,
    [GRAFANA_ENV.dashboardsDir]: DEFAULT_DASHBOARDS_DIR,
    ...GRAFANA_NO_LOGIN,
  };
}

export function composeConfig(): Record<string, unknown> {
  const env = composeEnv();
  const experiment = defaultExperiment();
  const apiEnv = {
    ...pick(env, ['CQRS_FLAVOR', TOPOLOGY_ENV, 'CQRS_WRITER_URL', 'CQRS_READER_URL', 'CQRS_REDIS_URL']),
    CQRS_API_HOST: '0.0.0.0',
    CQRS_API_PORT: String(PORTS.api),
  };
  const k6Env = {
    // The stack's env file, remote-write settings (common/k6-output.ts remoteWriteEnv) included, plus what npm
    // start hands each run (run/experiment.ts).
    ...env,
    CQRS_DURATION: experiment.duration,
    CQRS_REPORT_DIR: 'reports',
    CQRS_SQL_STRATEGY: CONFIG_SCHEMA.sqlStrategy.default,
    [COMPOSE_VARS.lags]: experiment.lags,
    [COMPOSE_VARS.delayControlUrl]: composeEndpoints().delayProxyControlUrl,
  };
  const provisioning = Object.values(PROVISIONING_FILES).map((f) => `./dashboards/${f}:/etc/grafana/${f}:ro`);
  const dashboards = Object.keys(DASHBOARDS).map(
    (f) => `./dashboards/${f}:${DEFAULT_DASHBOARDS_DIR}/${f}:ro`,
  );
  return {
    name: 'mysql-cqrs-k6',
    services: {
      'mysql-primary': {
        image: IMAGES.mysql,
        command: mysqldCommand(1, []),
        environment: { MYSQL_ROOT_PASSWORD: ROOT_PASSWORD, MYSQL_INITDB_SKIP_TZINFO: '1' },
        healthcheck: mysqlHealthcheck,
        // The delay proxy lives in this service's network namespace: its ports are published here.
        ports: [
          loopback(PUBLISHED.primary, PORTS.mysql),
          loopback(PUBLISHED.delayProxyControl, PORTS.delayProxyControl),
        ],
      },
      'mysql-replica': {
        image: IMAGES.mysql,
        command: mysqldCommand(2, replicaStartupOptions()),
        environment: { MYSQL_ROOT_PASSWORD: ROOT_PASSWORD, MYSQL_INITDB_SKIP_TZINFO: '1' },
        healthcheck: mysqlHealthcheck,
        ports: [loopback(PUBLISHED.replica, PORTS.mysql)],
      },
      'delay-proxy': {
        image: IMAGES.api,
        build: apiBuild,
        network_mode: `service:${HOSTS.primary}`,
        command: [
          'node',
          '/app/bin/build/api/lag-proxy.mjs',
          String(PORTS.delayProxy),
          String(PORTS.mysql),
          String(PORTS.delayProxyControl),
        ],
        healthcheck: nodeHealthcheck(`http://127.0.0.1:${PORTS.delayProxyControl}/delay`),
        depends_on: { 'mysql-primary': healthy },
      },
      'replica-setup': {
        image: IMAGES.api,
        build: apiBuild,
        command: ['node', '/app/bin/build/api/replica-setup.mjs'],
        environment: {
          CQRS_SETUP_PRIMARY_HOST: HOSTS.primary,
          CQRS_SETUP_PRIMARY_PORT: String(PORTS.mysql),
          CQRS_SETUP_REPLICA_HOST: HOSTS.replica,
          CQRS_SETUP_REPLICA_PORT: String(PORTS.mysql),
          CQRS_SETUP_SOURCE_HOST: HOSTS.primary,
          CQRS_SETUP_SOURCE_PORT: String(PORTS.delayProxy),
          CQRS_SETUP_ROOT_PASSWORD: ROOT_PASSWORD,
        },
        volumes: ['./db/migrations:/app/db/migrations:ro'],
        healthcheck: { disable: true },
        restart: 'no',
        depends_on: { 'mysql-primary': healthy, 'mysql-replica': healthy, 'delay-proxy': healthy },
      },
      redis: {
        image: IMAGES.redis,
        command: ['redis-server', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
        healthcheck: { test: ['CMD', 'redis-cli', 'ping'], interval: '2s', timeout: '3s', retries: 30 },
      },
      api: {
        image: IMAGES.api,
        build: apiBuild,
        environment: apiEnv,
        healthcheck: nodeHealthcheck(),
        ports: [loopback(PUBLISHED.api, PORTS.api)],
        depends_on: { 'replica-setup': completed, redis: healthy },
      },
      'exporter-primary': exporter('primary'),
      'exporter-replica': exporter('replica'),
      prometheus: {
        image: IMAGES.prometheus,
        command: [
          '--config.file=/etc/prometheus/prometheus.yml',
          '--storage.tsdb.path=/prometheus',
          `--web.listen-address=0.0.0.0:${PORTS.prometheus}`,
          ...PROMETHEUS_INGEST_FLAGS,
          '--storage.tsdb.retention.time=7d',
        ],
        volumes: [`./${PROMETHEUS_FILE}:/etc/prometheus/prometheus.yml:ro`],
        healthcheck: {
          test: ['CMD', 'wget', '-qO-', `http://127.0.0.1:${PORTS.prometheus}/-/ready`],
          interval: '2s',
          timeout: '3s',
          retries: 30,
        },
        ports: [loopback(PUBLISHED.prometheus, PORTS.prometheus)],
      },
      grafana: {
        image: IMAGES.grafana,
        environment: grafanaEnvironment(composeEndpoints().prometheusUrl),
        volumes: [...provisioning, ...dashboards],
        ports: [loopback(PUBLISHED.grafana, PORTS.grafana)],
        depends_on: { prometheus: healthy },
      },
      k6: {
        image: IMAGES.k6,
        build: k6Build,
        entrypoint: ['/usr/local/bin/cqrs-experiment'],
        user: `\${${COMPOSE_VARS.uid}:-1000}:\${${COMPOSE_VARS.gid}:-1000}`,
        working_dir: '/work',
        environment: k6Env,
        volumes: ['./reports:/work/reports'],
        restart: 'no',
        depends_on: {
          'replica-setup': completed,
          'delay-proxy': healthy,
          api: healthy,
          prometheus: healthy,
        },
      },
    },
  };
}

const HEADER = [
  '# Generated by `node build/node-cli.mjs build/compose/generate.ts` (build/compose/render.ts): do not edit.',
  '# The Docker Compose lab: MySQL 8.4 primary + GTID replica through the delay proxy, the CQRS API, Redis,',
  '# Prometheus (remote-write receiver, native histograms), the mysqld exporters, Grafana with the provisioned',
  "# dashboards, and k6 running npm start's default experiment once into ./reports/<test id>/:",
  '#   mkdir -p reports && CQRS_COMPOSE_UID=$(id -u) CQRS_COMPOSE_GID=$(id -g) docker compose up --build',
  '# Grafana http://127.0.0.1:23000, Prometheus http://127.0.0.1:29090, API http://127.0.0.1:28080 (loopback only).',
  '# Grafana has no login: anonymous Viewer only, the login form and basic auth are off (no admin/admin account to use).',
  '# Lag by hand: curl -X PUT -d \'{"delayMs": 50}\' http://127.0.0.1:23309/delay. Tear down: docker compose down -v',
  '',
].join('\n');

// YAML 1.1's schema quotes no, yes, on and off, which a YAML 1.1 reader would take for booleans.
const yaml = (value: unknown) =>
  stringify(value, { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false });

/** Every file this module writes, by path relative to the repository root. */
export function renderCompose(): Map<string, string> {
  return new Map([
    [COMPOSE_FILE, `${HEADER}${yaml(composeConfig())}`],
    [
      PROMETHEUS_FILE,
      `# Generated by build/compose/render.ts: do not edit. Prometheus of the Compose lab.\n${yaml(prometheusConfig())}`,
    ],
  ]);
}
