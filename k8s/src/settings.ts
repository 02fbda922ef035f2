/**
 * The names, ports, images and accounts every manifest under k8s/ shares: one place, so the API, the schema Job,
 * the exporters, Prometheus and the TestRuns cannot disagree about where the cluster is or who logs in.
 */
import type { IEnvVar } from 'kubernetes-models/v1';
import { IMAGE_PINS, MYSQL_VERSION as PINNED_MYSQL } from '../../build/images.ts';
import type { Flavor } from '../../common/dialect.ts';
import { ROUTER_SPLIT_PORT } from '../../common/mysql-strategies.ts';
import { STACK_DATABASE } from '../../common/stack-defaults.ts';
import type { Topology } from '../../common/topology.ts';

export const NAMESPACE = 'cqrs';
/** The InnoDBCluster: its Router Service has this name, its members `<name>-N` behind `<name>-instances`. */
export const CLUSTER = 'cqrs-db';
export const INSTANCES = 3;
export const DATABASE = STACK_DATABASE;
/** MySQL 8.4 LTS, the server common/dialect.ts's `mysql` flavour is written for: build/images.ts's pin, as Compose. */
export const MYSQL_VERSION = PINNED_MYSQL;

/**
 * What the API and every TestRun are told the servers are (CQRS_FLAVOR, CQRS_TOPOLOGY): the InnoDB Cluster is
 * MySQL Group Replication, so the strategies of a synchronous cluster (sync-before) run and those it cannot serve
 * are refused (common/strategies.ts). The read-replicas overlay says `async` instead (READ_REPLICAS_TOPOLOGY).
 */
export const SERVERS = { flavor: 'mysql', topology: 'cluster' } as const satisfies {
  flavor: Flavor;
  topology: Topology;
};
/** Router's RO port reaches asynchronous replicas in the read-replicas overlay. */
export const READ_REPLICAS_TOPOLOGY: Topology = 'async';

const svc = (name: string) => `${name}.${NAMESPACE}.svc.cluster.local`;
export const ROUTER_HOST = svc(CLUSTER);
/** One member through the cluster's headless instances Service, for per-member probes. */
export const memberHost = (index: number) => `${CLUSTER}-${index}.${svc(`${CLUSTER}-instances`)}`;
export const MEMBER_PORT = 3306;

/**
 * The read-replicas overlay's asynchronous replicas. The operator (mysqloperator's ReadReplicaSpec) names
 * their StatefulSet `<cluster>-<name>` with serviceName `<cluster>-<name>-instances`, so replica N is
 * `<cluster>-<name>-N` behind that headless Service; assumed from the operator's source, not seen in a cluster.
 */
export const READ_REPLICAS = { name: 'async', baseServerId: 2000, instances: 2 } as const;
export const readReplicaHost = (index: number) =>
  `${CLUSTER}-${READ_REPLICAS.name}-${index}.${svc(`${CLUSTER}-${READ_REPLICAS.name}-instances`)}`;

/** MySQL Router's classic-protocol ports (mysql.md): which one a connection uses decides where it lands. */
export const ROUTER_PORTS = { rw: 6446, ro: 6447, split: ROUTER_SPLIT_PORT } as const;

export const API_NAME = 'cqrs-api';
/** The API Deployment's one container (the read-replicas overlay patches its env by this name). */
export const API_CONTAINER = 'api';
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
 * Every image, pinned to a tag: build/images.ts's table, which the Compose lab reads too. The two project
 * images are built from build/ (build/xk6/Dockerfile for the runner, build/api/Dockerfile for the API).
 */
export const IMAGES = {
  k6Sql: IMAGE_PINS.k6Sql,
  k6Stock: IMAGE_PINS.k6Stock,
  api: IMAGE_PINS.api,
  mysqlClient: IMAGE_PINS.mysql,
  redis: IMAGE_PINS.redis,
  exporter: IMAGE_PINS.mysqldExporter,
  prometheus: IMAGE_PINS.prometheus,
  grafana: IMAGE_PINS.grafana,
} as const;

/**
 * The image k6-operator v1.6.0 gives the starter Job when `spec.starter.image` is unset
 * (pkg/resources/jobs/starter.go). No pinned tag of it is verified here, so the TestRuns leave the operator's
 * default in place: the one `latest` the manifests accept (k8s/README.md: known limitations).
 */
export const OPERATOR_DEFAULT_STARTER_IMAGE = 'ghcr.io/grafana/k6-operator:latest-starter';

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

/** `$(NAME)`: Kubernetes expands it from the container's variables defined before it, at start. */
export const ref = (name: string) => `$(${name})`;

/**
 * The `cqrs-db` keys a container's variables refer to as `$(KEY)`, each as its own secretKeyRef variable: a
 * container sees exactly the passwords it uses, never the whole Secret (no envFrom secretRef). They come
 * first, because Kubernetes expands `$(KEY)` only from variables defined earlier.
 */
export function secretKeyEnv(values: readonly string[]): IEnvVar[] {
  const used = SECRETS.db.keys.filter((k) => values.some((v) => v.includes(ref(k))));
  return used.map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: SECRETS.db.name, key } } }));
}

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
