/**
 * The names, ports, images and accounts every manifest under k8s/ shares: one place, so the API, the schema Job,
 * the exporters, Prometheus and the TestRuns cannot disagree about where the cluster is or who logs in.
 */
import { ROUTER_SPLIT_PORT } from '../../common/mysql-strategies.ts';
import { STACK_DATABASE } from '../../common/stack-defaults.ts';

export const NAMESPACE = 'cqrs';
/** The InnoDBCluster: its Router Service has this name, its members `<name>-N` behind `<name>-instances`. */
export const CLUSTER = 'cqrs-db';
export const INSTANCES = 3;
export const DATABASE = STACK_DATABASE;
/** MySQL 8.4 LTS, the server common/dialect.ts's `mysql` flavour is written for (Compose runs it too). */
export const MYSQL_VERSION = '8.4.3';

const svc = (name: string) => `${name}.${NAMESPACE}.svc.cluster.local`;
export const ROUTER_HOST = svc(CLUSTER);
/** One member through the cluster's headless instances Service, for per-member probes. */
export const memberHost = (index: number) => `${CLUSTER}-${index}.${svc(`${CLUSTER}-instances`)}`;
export const MEMBER_PORT = 3306;

/** MySQL Router's classic-protocol ports (mysql.md): which one a connection uses decides where it lands. */
export const ROUTER_PORTS = { rw: 6446, ro: 6447, split: ROUTER_SPLIT_PORT } as const;

export const API_NAME = 'cqrs-api';
export const API_PORT = 8080;
export const API_URL = `http://${svc(API_NAME)}:${API_PORT}`;
export const REDIS_NAME = 'redis';
export const REDIS_PORT = 6379;
export const PROMETHEUS_NAME = 'prometheus';
export const PROMETHEUS_PORT = 9090;
export const PROMETHEUS_URL = `http://${svc(PROMETHEUS_NAME)}:${PROMETHEUS_PORT}`;
export const GRAFANA_NAME = 'grafana';
export const GRAFANA_PORT = 3000;
export const EXPORTER_NAME = 'mysqld-exporter';
export const EXPORTER_PORT = 9104;
/** Where Grafana finds dashboards/*.json (dashboards/provisioning/dashboards/cqrs.yaml reads it). */
export const DASHBOARDS_DIR = '/var/lib/grafana/dashboards/cqrs';

/**
 * Every image, pinned to a tag. The two project images are built from build/ (build/xk6/Dockerfile for the
 * runner, build/api/Dockerfile for the API) and tagged with the versions they contain.
 */
export const IMAGES = {
  /** k6 v2.2.0 + xk6-sql v1.2.1 (+ its MySQL driver, build/xk6/versions.env): the SQL scenarios' runner. */
  k6Sql: 'mysql-cqrs-k6/k6:2.2.0-sql1.2.1',
  /** The API scenarios import only k6's own modules: the stock image, same k6 version. */
  k6Stock: 'grafana/k6:2.2.0',
  /** The package.json version of this repository. */
  api: 'mysql-cqrs-k6/api:0.1.0',
  mysqlClient: `mysql:${MYSQL_VERSION}`,
  redis: 'redis:7.4.2-alpine',
  exporter: 'prom/mysqld-exporter:v0.16.0',
  prometheus: 'prom/prometheus:v2.55.1',
  grafana: 'grafana/grafana:11.4.0',
} as const;

/**
 * The application's accounts. Their passwords are keys of the `cqrs-db` Secret (never in a manifest); the
 * schema Job creates the accounts with the grants the local stack gives them (stack/replication.ts).
 */
export const ACCOUNTS = {
  writer: { user: 'cqrs_writer', passwordKey: 'CQRS_WRITER_PASSWORD' },
  reader: { user: 'cqrs_reader', passwordKey: 'CQRS_READER_PASSWORD' },
  monitor: { user: 'cqrs_monitor', passwordKey: 'CQRS_MONITOR_PASSWORD' },
  exporter: { user: 'cqrs_exporter', passwordKey: 'CQRS_EXPORTER_PASSWORD' },
} as const;
export type AccountRole = keyof typeof ACCOUNTS;

/** The Secrets kustomize generates from gitignored env files, and the keys each holds. */
export const SECRETS = {
  /** The InnoDBCluster's `secretName`: the operator's own layout (mysql.md). */
  root: { name: 'mysql-root', file: 'mysql-root.env', keys: ['rootUser', 'rootHost', 'rootPassword'] },
  db: {
    name: 'cqrs-db',
    file: 'cqrs-db.env',
    keys: [
      ...Object.values(ACCOUNTS).map((a) => a.passwordKey),
      'CQRS_REDIS_PASSWORD',
      'CQRS_GRAFANA_ADMIN_PASSWORD',
    ],
  },
} as const;

/** The shared, password-free k6 runner environment (envFrom in every TestRun). */
export const K6_ENV_CONFIGMAP = 'cqrs-k6-env';

/** `$(NAME)`: Kubernetes expands it from the container's other variables (envFrom included) at start. */
export const ref = (name: string) => `$(${name})`;

/** Go DSN (xk6-sql) of an account, its password a reference to the Secret's key. */
export function goDsnRef(role: AccountRole, host: string, port: number): string {
  const a = ACCOUNTS[role];
  return `${a.user}:${ref(a.passwordKey)}@tcp(${host}:${port})/${DATABASE}?interpolateParams=true`;
}

/** mysql:// URL (the API's mysql2) of an account, its password a reference to the Secret's key. */
export function mysqlUrlRef(role: AccountRole, host: string, port: number): string {
  const a = ACCOUNTS[role];
  return `mysql://${a.user}:${ref(a.passwordKey)}@${host}:${port}/${DATABASE}`;
}

/** The labels kustomize puts on everything, so `kubectl delete -l` finds it all. */
export const PART_OF = { 'app.kubernetes.io/part-of': 'mysql-cqrs-k6' } as const;
