/**
 * The `k8s/platform` base: the database, its schema and accounts, the API with Redis, and the metrics path
 * (exporters, Prometheus, Grafana). Each entry is one file's objects with the comment the file opens with.
 */
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IJob } from 'kubernetes-models/batch/v1';
import type { IRole, IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import type { IConfigMap, IContainer, INamespace, IService, IServiceAccount } from 'kubernetes-models/v1';
import { PROMETHEUS_INGEST_FLAGS } from '../../build/images.ts';
import { remoteWriteEnv } from '../../common/k6-output.ts';
import { TOPOLOGY_ENV } from '../../common/topology.ts';
import { DASHBOARDS, DEFAULT_DASHBOARDS_DIR, GRAFANA_ENV } from '../../dashboards/src/render.ts';
import { containerSecurity, podSecurity, resources, scratch } from './pods.ts';
import { applySchemaScript, MIGRATIONS_MOUNT, migrationSources, schemaJobName } from './schema.ts';
import {
  ACCOUNTS,
  API_CONTAINER,
  API_NAME,
  API_PORT,
  API_URL,
  CLUSTER,
  DASHBOARDS_DIR,
  DATABASE,
  EXPORTER_NAME,
  EXPORTER_PORT,
  GRAFANA_NAME,
  GRAFANA_PORT,
  IMAGES,
  INSTANCES,
  K6_ENV_CONFIGMAP,
  MEMBER_PORT,
  MYSQL_VERSION,
  memberHost,
  mysqlUrlRef,
  NAMESPACE,
  PROMETHEUS_NAME,
  PROMETHEUS_PORT,
  PROMETHEUS_URL,
  REDIS_NAME,
  REDIS_PORT,
  ROUTER_HOST,
  ROUTER_PORTS,
  ref,
  SECRETS,
  SERVERS,
  secretKeyEnv,
} from './settings.ts';

/** One generated YAML file: its objects, and what the comment it opens with says it creates and needs. */
export interface ManifestFile {
  readonly creates: string;
  readonly needs: string;
  readonly objects: readonly object[];
}

if (DEFAULT_DASHBOARDS_DIR !== DASHBOARDS_DIR)
  throw new Error('dashboards dir disagrees with dashboards/src');

/** Generated ConfigMaps (kustomize), by name; the kustomization lists their sources. */
export const CONFIGMAPS = {
  schema: 'cqrs-schema',
  migrations: 'cqrs-migrations',
  prometheus: 'prometheus-config',
  grafanaDatasources: 'grafana-datasources',
  grafanaProviders: 'grafana-dashboard-providers',
  grafanaDashboards: 'grafana-dashboards',
} as const;

const labels = (app: string) => ({ 'app.kubernetes.io/name': app });

const namespace: INamespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } };

/** mysql.oracle.com/v2 InnoDBCluster: validated against the operator's CRD in test/k8s, not typed here. */
export const innoDbCluster = {
  apiVersion: 'mysql.oracle.com/v2',
  kind: 'InnoDBCluster',
  metadata: { name: CLUSTER },
  spec: {
    secretName: SECRETS.root.name,
    // Test clusters: the operator makes its own CA and certificates (no TLS secrets to provide).
    tlsUseSelfSigned: true,
    version: MYSQL_VERSION,
    instances: INSTANCES,
    router: {
      instances: 1,
      // 6447 reaches the Group Replication secondaries (the read-replicas overlay changes this).
      routingOptions: { read_only_targets: 'secondaries' },
    },
    // Room for the binlog of a load run; the default storage class.
    datadirVolumeClaimTemplate: {
      accessModes: ['ReadWriteOnce'],
      resources: { requests: { storage: '5Gi' } },
    },
    // The local stack's relaxed durability would hide nothing here: Group Replication certifies every write.
    mycnf: '[mysqld]\nmax_connections=500\n',
  },
};

/** The label every schema Job carries, whatever its name: `kubectl wait job -l` finds the current one by it. */
export const SCHEMA_JOB_LABELS = labels('cqrs-schema');

export function schemaJob(migrations = migrationSources()): IJob {
  const keys = Object.values(ACCOUNTS).map((a) => a.passwordKey);
  const template: NonNullable<IJob['spec']>['template'] = {
    metadata: { labels: SCHEMA_JOB_LABELS },
    spec: {
      restartPolicy: 'OnFailure',
      securityContext: podSecurity(999),
      containers: [
        {
          name: 'apply-schema',
          image: IMAGES.mysqlClient,
          command: ['/bin/bash', '/scripts/apply-schema.sh'],
          env: [
            ...['rootUser', 'rootPassword'].map((key) => ({
              name: key,
              valueFrom: { secretKeyRef: { name: SECRETS.root.name, key } },
            })),
            ...keys.map((key) => ({
              name: key,
              valueFrom: { secretKeyRef: { name: SECRETS.db.name, key } },
            })),
          ],
          resources: resources('100m', '128Mi', '500m', '256Mi'),
          securityContext: containerSecurity(999),
          volumeMounts: [
            { name: 'scripts', mountPath: '/scripts', readOnly: true },
            { name: 'migrations', mountPath: MIGRATIONS_MOUNT, readOnly: true },
            { name: 'tmp', mountPath: '/tmp' },
          ],
        },
      ],
      volumes: [
        { name: 'scripts', configMap: { name: CONFIGMAPS.schema } },
        { name: 'migrations', configMap: { name: CONFIGMAPS.migrations } },
        scratch('tmp', '1Mi'),
      ],
    },
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: schemaJobName(migrations, applySchemaScript(), template),
      labels: { ...SCHEMA_JOB_LABELS },
    },
    spec: { backoffLimit: 6, ttlSecondsAfterFinished: 86_400, template },
  };
}

function service(name: string, port: number, annotations?: Record<string, string>): IService {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels: labels(name), ...(annotations ? { annotations } : {}) },
    spec: { selector: labels(name), ports: [{ name: 'http', port, targetPort: port }] },
  };
}

function deployment(name: string, uid: number, containers: IContainer[], extra: object = {}): IDeployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: labels(name) },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels(name) },
      template: {
        metadata: { labels: labels(name) },
        spec: {
          securityContext: podSecurity(uid),
          automountServiceAccountToken: false,
          containers,
          ...extra,
        },
      },
    },
  };
}

const httpProbe = (path: string, port: number, periodSeconds = 10) => ({
  httpGet: { path, port },
  periodSeconds,
  timeoutSeconds: 3,
  failureThreshold: 3,
});

/**
 * The exporter in multi-target mode: one process, and Prometheus asks it for each member
 * (`/probe?target=<member>:3306`), so every Group Replication member has its own series under its own name.
 */
function exporter(): object[] {
  const { user, passwordKey } = ACCOUNTS.exporter;
  const container: IContainer = {
    name: 'exporter',
    image: IMAGES.exporter,
    // The password reaches the exporter's my.cnf in memory, never argv.
    command: ['/bin/sh', '-c'],
    args: [
      `printf '[client]\\nuser=%s\\npassword=%s\\n' '${user}' "$${passwordKey}" > /tmp/my.cnf && ` +
        'exec /bin/mysqld_exporter --config.my-cnf=/tmp/my.cnf ' +
        `--web.listen-address=:${EXPORTER_PORT} --collect.slave_status --collect.heartbeat ` +
        `--collect.heartbeat.database=${DATABASE} --collect.heartbeat.table=heartbeat`,
    ],
    env: [{ name: passwordKey, valueFrom: { secretKeyRef: { name: SECRETS.db.name, key: passwordKey } } }],
    ports: [{ name: 'http', containerPort: EXPORTER_PORT }],
    readinessProbe: httpProbe('/', EXPORTER_PORT),
    livenessProbe: httpProbe('/', EXPORTER_PORT, 30),
    resources: resources('50m', '64Mi', '200m', '128Mi'),
    securityContext: containerSecurity(65534),
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  };
  return [
    deployment(EXPORTER_NAME, 65534, [container], { volumes: [scratch('tmp', '1Mi')] }),
    service(EXPORTER_NAME, EXPORTER_PORT),
  ];
}

/**
 * The API pinned to ONE replica: the sticky strategy keeps each client's write window in process memory
 * (api/read/sticky.ts), so a second replica would route a client's reads without knowing its writes.
 */
function api(): object[] {
  const env = [
    { name: 'CQRS_FLAVOR', value: SERVERS.flavor },
    { name: TOPOLOGY_ENV, value: SERVERS.topology },
    { name: 'CQRS_API_HOST', value: '0.0.0.0' },
    { name: 'CQRS_API_PORT', value: String(API_PORT) },
    { name: 'CQRS_WRITER_URL', value: mysqlUrlRef('writer', ROUTER_HOST, ROUTER_PORTS.rw) },
    { name: 'CQRS_READER_URL', value: mysqlUrlRef('reader', ROUTER_HOST, ROUTER_PORTS.ro) },
    // router-split writes and reads on its own connections, so it logs in as the writer.
    { name: 'CQRS_ROUTER_SPLIT_URL', value: mysqlUrlRef('writer', ROUTER_HOST, ROUTER_PORTS.split) },
    // Whole seconds; Router's docs (1 s) and source (2 s) disagree on the default, so it is always set.
    { name: 'CQRS_API_ROUTER_WAIT_TIMEOUT_S', value: '1' },
    {
      name: 'CQRS_REDIS_URL',
      value: `redis://:${ref('CQRS_REDIS_PASSWORD')}@${REDIS_NAME}.${NAMESPACE}.svc.cluster.local:${REDIS_PORT}`,
    },
    { name: 'CQRS_API_LOG_LEVEL', value: 'warn' },
  ];
  const container: IContainer = {
    name: API_CONTAINER,
    image: IMAGES.api,
    // Only the passwords its URLs name (writer, reader, Redis), each by key: never the whole Secret.
    env: [...secretKeyEnv(env.map((e) => e.value)), ...env],
    ports: [{ name: 'http', containerPort: API_PORT }],
    // /readyz needs the writer; /healthz only the process (api/routes/health.ts).
    readinessProbe: httpProbe('/readyz', API_PORT, 5),
    livenessProbe: { ...httpProbe('/healthz', API_PORT, 10), initialDelaySeconds: 10 },
    resources: resources('500m', '256Mi', '2', '512Mi'),
    securityContext: containerSecurity(1000),
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  };
  const d = deployment(API_NAME, 1000, [container], {
    volumes: [scratch('tmp')],
    // server.ts drains for up to 10 s after SIGTERM.
    terminationGracePeriodSeconds: 20,
  });
  if (d.spec) d.spec.strategy = { type: 'Recreate' };
  return [
    d,
    service(API_NAME, API_PORT, {
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(API_PORT),
      'prometheus.io/path': '/metrics',
    }),
  ];
}

function redis(): object[] {
  const container: IContainer = {
    name: 'redis',
    image: IMAGES.redis,
    command: ['redis-server'],
    // A cache: nothing to persist. $(…) is expanded by Kubernetes from the Secret.
    args: ['--requirepass', ref('CQRS_REDIS_PASSWORD'), '--save', '', '--appendonly', 'no'],
    env: [
      {
        name: 'CQRS_REDIS_PASSWORD',
        valueFrom: { secretKeyRef: { name: SECRETS.db.name, key: 'CQRS_REDIS_PASSWORD' } },
      },
    ],
    ports: [{ name: 'redis', containerPort: REDIS_PORT }],
    readinessProbe: { tcpSocket: { port: REDIS_PORT }, periodSeconds: 5 },
    livenessProbe: { tcpSocket: { port: REDIS_PORT }, periodSeconds: 20 },
    resources: resources('100m', '128Mi', '500m', '256Mi'),
    securityContext: containerSecurity(999),
    volumeMounts: [{ name: 'data', mountPath: '/data' }],
  };
  const svc = service(REDIS_NAME, REDIS_PORT);
  if (svc.spec?.ports?.[0]) svc.spec.ports[0].name = 'redis';
  return [deployment(REDIS_NAME, 999, [container], { volumes: [scratch('data')] }), svc];
}

/**
 * prometheus.yml: the exporter once per server (the Group Replication members, and any read replicas given
 * as host names), the API by its Service's scrape annotations, itself.
 */
export function prometheusConfig(readReplicaHosts: readonly string[] = []): object {
  const members = [...Array.from({ length: INSTANCES }, (_, i) => memberHost(i)), ...readReplicaHosts].map(
    (h) => `${h}:${MEMBER_PORT}`,
  );
  return {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    scrape_configs: [
      {
        job_name: 'mysqld',
        metrics_path: '/probe',
        static_configs: [{ targets: members }],
        relabel_configs: [
          { source_labels: ['__address__'], target_label: '__param_target' },
          // The dashboards' `instance` variable then names the member, not the exporter.
          { source_labels: ['__param_target'], target_label: 'instance' },
          { target_label: '__address__', replacement: `${EXPORTER_NAME}:${EXPORTER_PORT}` },
        ],
      },
      {
        job_name: 'cqrs-api',
        kubernetes_sd_configs: [{ role: 'endpoints', namespaces: { names: [NAMESPACE] } }],
        relabel_configs: [
          {
            source_labels: ['__meta_kubernetes_service_annotation_prometheus_io_scrape'],
            action: 'keep',
            regex: 'true',
          },
          {
            source_labels: ['__meta_kubernetes_service_annotation_prometheus_io_path'],
            target_label: '__metrics_path__',
            regex: '(.+)',
          },
          {
            source_labels: ['__address__', '__meta_kubernetes_service_annotation_prometheus_io_port'],
            regex: '([^:]+)(?::\\d+)?;(\\d+)',
            replacement: '$1:$2',
            target_label: '__address__',
          },
          { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
        ],
      },
      { job_name: 'prometheus', static_configs: [{ targets: [`localhost:${PROMETHEUS_PORT}`] }] },
    ],
  };
}

function prometheus(): object[] {
  const sa: IServiceAccount = {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: PROMETHEUS_NAME },
  };
  // Service discovery in this namespace only: no ClusterRole.
  const role: IRole = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: PROMETHEUS_NAME },
    rules: [
      { apiGroups: [''], resources: ['services', 'endpoints', 'pods'], verbs: ['get', 'list', 'watch'] },
    ],
  };
  const binding: IRoleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: PROMETHEUS_NAME },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: PROMETHEUS_NAME },
    subjects: [{ kind: 'ServiceAccount', name: PROMETHEUS_NAME, namespace: NAMESPACE }],
  };
  const container: IContainer = {
    name: 'prometheus',
    image: IMAGES.prometheus,
    // The same flags as the local stack's (stack/prometheus.ts): k6 pushes by remote write, native histograms.
    args: [
      '--config.file=/etc/prometheus/prometheus.yml',
      '--storage.tsdb.path=/prometheus',
      '--storage.tsdb.retention.time=7d',
      `--web.listen-address=:${PROMETHEUS_PORT}`,
      ...PROMETHEUS_INGEST_FLAGS,
    ],
    ports: [{ name: 'http', containerPort: PROMETHEUS_PORT }],
    readinessProbe: httpProbe('/-/ready', PROMETHEUS_PORT, 5),
    livenessProbe: httpProbe('/-/healthy', PROMETHEUS_PORT, 20),
    resources: resources('500m', '1Gi', '2', '2Gi'),
    securityContext: containerSecurity(65534),
    volumeMounts: [
      { name: 'config', mountPath: '/etc/prometheus', readOnly: true },
      { name: 'data', mountPath: '/prometheus' },
    ],
  };
  const d = deployment(PROMETHEUS_NAME, 65534, [container], {
    serviceAccountName: PROMETHEUS_NAME,
    // Service discovery reads the API with this account's token.
    automountServiceAccountToken: true,
    volumes: [{ name: 'config', configMap: { name: CONFIGMAPS.prometheus } }, scratch('data', '8Gi')],
  });
  if (d.spec) d.spec.strategy = { type: 'Recreate' };
  return [sa, role, binding, d, service(PROMETHEUS_NAME, PROMETHEUS_PORT)];
}

function grafana(): object[] {
  const container: IContainer = {
    name: 'grafana',
    image: IMAGES.grafana,
    env: [
      // What dashboards/provisioning/*.yaml interpolate.
      { name: GRAFANA_ENV.prometheusUrl, value: PROMETHEUS_URL },
      { name: GRAFANA_ENV.dashboardsDir, value: DASHBOARDS_DIR },
      { name: 'GF_SECURITY_ADMIN_USER', value: 'admin' },
      {
        name: 'GF_SECURITY_ADMIN_PASSWORD',
        valueFrom: { secretKeyRef: { name: SECRETS.db.name, key: 'CQRS_GRAFANA_ADMIN_PASSWORD' } },
      },
      { name: 'GF_ANALYTICS_REPORTING_ENABLED', value: 'false' },
      { name: 'GF_ANALYTICS_CHECK_FOR_UPDATES', value: 'false' },
      // The root filesystem is read-only: log to stdout (kubectl logs), not to /var/log/grafana.
      { name: 'GF_LOG_MODE', value: 'console' },
      // Grafana 12 downloads its preinstalled plugins at start unless told not to (the Compose lab's setting too).
      { name: 'GF_PLUGINS_PREINSTALL_DISABLED', value: 'true' },
    ],
    ports: [{ name: 'http', containerPort: GRAFANA_PORT }],
    readinessProbe: httpProbe('/api/health', GRAFANA_PORT, 5),
    livenessProbe: { ...httpProbe('/api/health', GRAFANA_PORT, 20), initialDelaySeconds: 30 },
    resources: resources('100m', '256Mi', '1', '512Mi'),
    securityContext: containerSecurity(472),
    volumeMounts: [
      { name: 'data', mountPath: '/var/lib/grafana' },
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'datasources', mountPath: '/etc/grafana/provisioning/datasources', readOnly: true },
      { name: 'providers', mountPath: '/etc/grafana/provisioning/dashboards', readOnly: true },
      { name: 'dashboards', mountPath: DASHBOARDS_DIR, readOnly: true },
    ],
  };
  return [
    deployment(GRAFANA_NAME, 472, [container], {
      volumes: [
        scratch('data', '256Mi'),
        scratch('tmp'),
        { name: 'datasources', configMap: { name: CONFIGMAPS.grafanaDatasources } },
        { name: 'providers', configMap: { name: CONFIGMAPS.grafanaProviders } },
        { name: 'dashboards', configMap: { name: CONFIGMAPS.grafanaDashboards } },
      ],
    }),
    service(GRAFANA_NAME, GRAFANA_PORT),
  ];
}

/**
 * The runners' shared, password-free environment: the dialect and topology (which strategies run), the API, where and how k6 streams
 * (common/k6-output.ts's remoteWriteEnv) and where handleSummary writes. Each TestRun adds its own part.
 */
export function k6EnvData(): Record<string, string> {
  return {
    CQRS_FLAVOR: SERVERS.flavor,
    [TOPOLOGY_ENV]: SERVERS.topology,
    CQRS_API_URL: API_URL,
    CQRS_REPORT_DIR: 'reports',
    ...remoteWriteEnv({ prometheusUrl: PROMETHEUS_URL }),
  };
}

function k6Env(): IConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: K6_ENV_CONFIGMAP },
    data: k6EnvData(),
  };
}

/** The files of k8s/platform, by name. */
export function platformFiles(): Record<string, ManifestFile> {
  return {
    'namespace.yaml': {
      creates: `the ${NAMESPACE} namespace, which every other object of k8s/ lives in`,
      needs: 'nothing',
      objects: [namespace],
    },
    'innodbcluster.yaml': {
      creates: `InnoDBCluster ${CLUSTER}: ${INSTANCES} Group Replication members (MySQL ${MYSQL_VERSION}) and one MySQL Router (Service ${CLUSTER}: 6446 RW, 6447 RO, 6450 split; ${CLUSTER}-instances: each member on 3306)`,
      needs: `the MySQL Operator (Helm chart mysql-operator/mysql-operator 2.2.2) and Secret ${SECRETS.root.name} (secrets/${SECRETS.root.file})`,
      objects: [innoDbCluster],
    },
    'schema-job.yaml': {
      creates: `Job ${schemaJob().metadata?.name} (named after its content, so a new migration makes a new Job): database ${DATABASE}, the writer/reader/monitor/exporter accounts, then db/migrations/*.sql`,
      needs: `a ready ${CLUSTER} (its Router on 6446), Secrets ${SECRETS.root.name} and ${SECRETS.db.name}, and the staged migrations (npm run k8s -- stage)`,
      objects: [schemaJob()],
    },
    'mysqld-exporter.yaml': {
      creates: 'one mysqld_exporter (multi-target) and its Service; Prometheus scrapes it once per member',
      needs: `the exporter account (schema Job) and Secret ${SECRETS.db.name}`,
      objects: exporter(),
    },
    'redis.yaml': {
      creates: 'Redis for the cache strategy (no persistence) and its Service',
      needs: `Secret ${SECRETS.db.name} (CQRS_REDIS_PASSWORD)`,
      objects: redis(),
    },
    'api.yaml': {
      creates:
        'the CQRS API, ONE replica (the sticky window lives in process memory), and its Service with scrape annotations',
      needs: `the image ${IMAGES.api} (build/), the schema Job done, Redis, Secret ${SECRETS.db.name}`,
      objects: api(),
    },
    'prometheus.yaml': {
      creates:
        'Prometheus (remote-write receiver, native histograms) with a namespaced service-discovery Role, and its Service',
      needs: 'ConfigMap prometheus-config (files/prometheus.yml, generated)',
      objects: prometheus(),
    },
    'grafana.yaml': {
      creates: "Grafana with the project's provisioning and dashboards (dashboards/), and its Service",
      needs: `Prometheus, Secret ${SECRETS.db.name} (CQRS_GRAFANA_ADMIN_PASSWORD), the staged dashboards (npm run k8s -- stage)`,
      objects: grafana(),
    },
    'k6-env.yaml': {
      creates: `ConfigMap ${K6_ENV_CONFIGMAP}: the k6 runners' shared, password-free environment (CQRS_*, K6_PROMETHEUS_RW_*)`,
      needs: 'nothing; TestRuns read it with envFrom',
      objects: [k6Env()],
    },
  };
}

/** The dashboards' file names (dashboards/*.json), which the stage step copies and Grafana mounts. */
export const dashboardFiles = (): string[] => Object.keys(DASHBOARDS).sort();
