/**
 * The k6-operator TestRuns: one per shipped experiment, and the variants the overlays run. Each is built from
 * the project's own tables: `args` from common/k6-output.ts (remote write, run tags), the DSNs from the
 * accounts and Router ports in settings.ts, the CQRS_* names from lib/config.ts's CONFIG_SCHEMA. A TestRun is
 * typed loosely here and validated against the operator's real CRD schema in test/k8s.
 */
import type { IEnvVar, IVolume, IVolumeMount } from 'kubernetes-models/v1';
import { k6OutputSettings, type RunTags } from '../../common/k6-output.ts';
import { CONFIG_SCHEMA } from '../../lib/config.ts';
import { containerSecurity, podSecurity, resources, scratch } from './pods.ts';
import {
  goDsnRef,
  IMAGES,
  K6_ENV_CONFIGMAP,
  MEMBER_PORT,
  memberHost,
  PROMETHEUS_URL,
  ROUTER_HOST,
  ROUTER_PORTS,
  secretKeyEnv,
} from './settings.ts';

const S = CONFIG_SCHEMA;

/** The scenarios a TestRun can run: the bundle dist/<scenario>.js. */
export type Family = 'sql' | 'api';

export interface Experiment {
  /** The TestRun's name (metadata.name). */
  readonly name: string;
  /** The run's testid tag and CQRS_TEST_ID, unique across every TestRun under k8s/; the name when unset. */
  readonly testId?: string;
  readonly scenario: string;
  readonly family: Family;
  readonly parallelism: number;
  /** The experiment's own CQRS_* settings, beside the shared ones (platform ConfigMap, DSNs). */
  readonly env: Readonly<Record<string, string>>;
  /** The reader (and replica monitor) endpoint of a SQL experiment; Router's RO port unless given. */
  readonly reader?: { readonly host: string; readonly port: number };
  /** The run tag `strategy` (SQL scenarios; the API scenarios tag each request with its own). */
  readonly strategy?: string;
  /**
   * The kustomization whose script ConfigMap this TestRun reads, when it is not k8s/tests: its ConfigMap then
   * has a name of its own, so deleting one overlay never removes another's script.
   */
  readonly scriptOwner?: string;
}

/** The load shapes of the overlays: `smoke` is short and one runner; `load` four runners. */
export const SHAPES = {
  smoke: { parallelism: 1, env: { [S.profile.name]: 'smoke', [S.durationMs.name]: '30s' } },
  load: {
    parallelism: 4,
    env: { [S.profile.name]: 'load', [S.durationMs.name]: '5m', [S.rate.name]: '200' },
  },
} as const;
export type Shape = keyof typeof SHAPES;

/**
 * The four shipped experiments. Mixed load is sql-mixed, not api-mixed: the load overlay runs four runners,
 * and the API is pinned to one replica (settings.ts), so api-mixed would measure that one pod's ceiling; sql-mixed
 * loads the cluster itself, with its heartbeat lag alongside.
 */
export function shippedExperiments(shape: Shape): Experiment[] {
  const { parallelism, env } = SHAPES[shape];
  return [
    {
      name: `${shape}-sql-read-after-write`,
      scenario: 'sql-read-after-write',
      family: 'sql',
      parallelism,
      env: { ...env, [S.sqlStrategy.name]: 'eventual' },
      strategy: 'eventual',
    },
    {
      name: `${shape}-sql-replica-lag`,
      scenario: 'sql-replica-lag',
      family: 'sql',
      parallelism,
      env,
    },
    {
      name: `${shape}-api-read-after-write`,
      scenario: 'api-read-after-write',
      family: 'api',
      parallelism,
      // No CQRS_API_STRATEGIES: the lib/config.ts default, every strategy the servers serve (CQRS_TOPOLOGY from
      // the platform ConfigMap) but router-split, which has an overlay of its own.
      env,
    },
    {
      name: `${shape}-sql-mixed`,
      scenario: 'sql-mixed',
      family: 'sql',
      parallelism,
      env: { ...env, [S.sqlStrategy.name]: 'eventual' },
      strategy: 'eventual',
    },
  ];
}

/**
 * The overlays' variants (smoke-sized): sync-before (Group Replication's BEFORE consistency) and router-split
 * (MySQL Router), each beside the eventual baseline through the API (the API opens their pools: api/pools.ts),
 * and a replica-lag run whose reader is one member.
 */
export const MEMBER_PROBE_INDEX = 1;
export function overlayExperiments(): Record<'sync-before' | 'router-split' | 'member-lag', Experiment> {
  const { env } = SHAPES.smoke;
  return {
    'sync-before': {
      name: 'api-sync-before',
      scenario: 'api-read-after-write',
      family: 'api',
      parallelism: 1,
      env: { ...env, [S.apiStrategies.name]: 'eventual,sync-before' },
      scriptOwner: 'sync-before',
    },
    'router-split': {
      name: 'api-router-split',
      scenario: 'api-read-after-write',
      family: 'api',
      parallelism: 1,
      env: { ...env, [S.apiStrategies.name]: 'eventual,router-split' },
      scriptOwner: 'router-split',
    },
    'member-lag': {
      name: `sql-replica-lag-member-${MEMBER_PROBE_INDEX}`,
      scenario: 'sql-replica-lag',
      family: 'sql',
      parallelism: 1,
      env,
      reader: { host: memberHost(MEMBER_PROBE_INDEX), port: MEMBER_PORT },
      scriptOwner: 'member-probe',
    },
  };
}

/**
 * The script ConfigMap of a scenario: one per bundle and kustomization, shared by that kustomization's
 * TestRuns; `owner` names the overlay when it is not k8s/tests (smoke and load are shapes of k8s/tests).
 */
export const scriptConfigMap = (scenario: string, owner?: string) =>
  owner ? `k6-script-${owner}-${scenario}` : `k6-script-${scenario}`;
export const bundleFile = (scenario: string) => `${scenario}.js`;

const REPORTS = '/home/k6/reports';

/** The run tags of an experiment: testid = its name; `script`, and `strategy` for SQL. */
export const testIdOf = (e: Experiment): string => e.testId ?? e.name;

export function runTags(e: Experiment): RunTags {
  return { testid: testIdOf(e), script: e.scenario, ...(e.strategy ? { strategy: e.strategy } : {}) };
}

/**
 * The runner's variables: the passwords its DSNs name, each by key (stock-k6 API runners name none and see no
 * Secret at all), then the experiment's settings.
 */
function runnerEnv(e: Experiment): IEnvVar[] {
  const env: Record<string, string> = {
    // Every runner of the TestRun shares the run id; each scopes its rows by its instance_id (CQRS_RUNNER).
    [S.testId.name]: testIdOf(e),
    ...e.env,
  };
  if (e.family === 'sql') {
    const reader = e.reader ?? { host: ROUTER_HOST, port: ROUTER_PORTS.ro };
    env[S.writerDsn.name] = goDsnRef('writer', ROUTER_HOST, ROUTER_PORTS.rw);
    env[S.readerDsn.name] = goDsnRef('reader', reader.host, reader.port);
    // Seconds_Behind of the server the reader lands on (SHOW REPLICA STATUS there).
    env[S.monitorDsn.name] = goDsnRef('monitor', reader.host, reader.port);
  }
  return [
    ...secretKeyEnv(Object.values(env)),
    ...Object.entries(env).map(([name, value]) => ({ name, value })),
  ];
}

/**
 * The starter Job (it curls each runner's k6 REST API to start the run together): non-root, read-only,
 * sized, no API token. Its image stays the operator's default (OPERATOR_DEFAULT_STARTER_IMAGE in
 * settings.ts): no pinned starter tag is verified (k8s/README.md, known limitations). The starter only runs
 * curl, which needs no particular uid and writes nothing, so nobody (65534) fits whatever user the image has.
 */
export const STARTER = {
  automountServiceAccountToken: 'false',
  resources: resources('50m', '32Mi', '100m', '64Mi'),
  securityContext: podSecurity(65534),
  containerSecurityContext: containerSecurity(65534),
} as const;

export function testRun(e: Experiment): object {
  const image = e.family === 'sql' ? IMAGES.k6Sql : IMAGES.k6Stock;
  const output = k6OutputSettings({ prometheusUrl: PROMETHEUS_URL }, runTags(e));
  // handleSummary writes reports/<testid>/ but creates no folder (lib/summary/index.ts): mounting a volume
  // there makes it. (The operator's initContainers take no securityContext, so no init step does it.)
  const mounts: IVolumeMount[] = [{ name: 'reports', mountPath: `${REPORTS}/${testIdOf(e)}` }];
  const volumes: IVolume[] = [scratch('reports', '64Mi'), scratch('tmp')];
  return {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: { name: e.name, labels: { 'app.kubernetes.io/name': 'k6', 'cqrs.testid': testIdOf(e) } },
    spec: {
      parallelism: e.parallelism,
      script: {
        configMap: { name: scriptConfigMap(e.scenario, e.scriptOwner), file: bundleFile(e.scenario) },
      },
      // argv, not the one-string `arguments` (quoting breaks there): the output and the run's tags.
      args: [...output.args],
      cleanup: 'post',
      starter: STARTER,
      runner: {
        image,
        // K6_PROMETHEUS_RW_* come from the ConfigMap (the same common/k6-output.ts table); passwords by key in env.
        envFrom: [{ configMapRef: { name: K6_ENV_CONFIGMAP } }],
        env: runnerEnv(e),
        resources:
          e.family === 'sql' ? resources('1', '512Mi', '2', '1Gi') : resources('500m', '256Mi', '1', '512Mi'),
        // grafana/k6 runs as k6 (uid 12345); the project's runner image keeps that user.
        securityContext: podSecurity(12345),
        containerSecurityContext: containerSecurity(12345),
        volumes,
        volumeMounts: [...mounts, { name: 'tmp', mountPath: '/tmp' }],
      },
    },
  };
}
