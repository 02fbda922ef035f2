/**
 * Every kustomization under k8s/ rendered by `kubectl kustomize`, then checked offline: TestRun and
 * InnoDBCluster against the operators' real CRD schemas (strict, test/k8s/crd-schema.ts), core kinds against
 * kubernetes-models' validators, and the project's invariants: no secret value outside a Secret, pinned
 * images, sized non-root containers, script ConfigMaps under 1 MiB, every CQRS_* variable a scenario needs
 * provided (by running the scenarios' own config loader on the runner's environment), Router ports per
 * strategy, a unique testid per TestRun, and the output args of common/k6-output.ts. Nothing here ran in a
 * cluster.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as apps from 'kubernetes-models/apps/v1';
import * as batch from 'kubernetes-models/batch/v1';
import * as rbac from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import * as core from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig as loadApiConfig } from '../../api/config.ts';
import { parseGoDsn } from '../../common/dsn.ts';
import { k6OutputSettings, remoteWriteEnv } from '../../common/k6-output.ts';
import { K8S_DIR } from '../../k8s/src/generate.ts';
import { CONFIGMAPS } from '../../k8s/src/platform.ts';
import {
  expectedTestRuns,
  OVERLAYS,
  PLATFORM,
  RENDERABLE,
  readReplicaHosts,
  TESTS,
} from '../../k8s/src/render.ts';
import {
  API_NAME,
  API_URL,
  CLUSTER,
  GRAFANA_NAME,
  INSTANCES,
  K6_ENV_CONFIGMAP,
  MEMBER_PORT,
  memberHost,
  OPERATOR_DEFAULT_STARTER_IMAGE,
  PROMETHEUS_NAME,
  PROMETHEUS_URL,
  ROUTER_HOST,
  ROUTER_PORTS,
  SECRETS,
} from '../../k8s/src/settings.ts';
import { MEMBER_PROBE_INDEX } from '../../k8s/src/testruns.ts';
import { CONFIG_SCHEMA, loadConfig, type ScenarioFamily } from '../../lib/config.ts';
import { CRD_DIR, crdErrors } from './crd-schema.ts';
import {
  type K8sObject,
  kubectlMissing,
  ofKind,
  type RenderedTree,
  renderTree,
  secretValues,
  testBundles,
} from './render.ts';

const missing = kubectlMissing() ?? (existsSync(CRD_DIR) ? null : `the CRDs are not at ${CRD_DIR}`);
if (missing) console.warn(`test/k8s/manifests: skipped: ${missing}`);

type Env = Record<string, string>;
type Container = core.IContainer;
type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name?: string; key: string } } };
interface TestRunSpec {
  parallelism: number;
  args: string[];
  script: { configMap: { name: string; file: string } };
  cleanup?: string;
  starter?: {
    image?: string;
    resources?: Container['resources'];
    securityContext?: core.IPodSecurityContext;
    containerSecurityContext?: Container['securityContext'];
  };
  runner: {
    image: string;
    env: EnvVar[];
    envFrom: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
    resources: Container['resources'];
    securityContext: core.IPodSecurityContext;
    containerSecurityContext: Container['securityContext'];
    initContainers?: Container[];
  };
}
const spec = (tr: K8sObject) => tr.spec as TestRunSpec;

let tree: RenderedTree;
const all = () => [...tree.objects.entries()].flatMap(([k, os]) => os.map((o) => [k, o] as const));
const platform = () => tree.objects.get(PLATFORM) ?? [];
const testRuns = () => all().filter(([, o]) => o.kind === 'TestRun');

const secretData = (objects: readonly K8sObject[], name: string): Env => {
  const obj = objects.find((o) => o.kind === 'Secret' && o.metadata.name === name);
  if (!obj) throw new Error(`Secret ${name} is not rendered by k8s/platform`);
  const data = (obj.data ?? {}) as Env;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
};

/** What `$(NAME)` expands to in a container: its envFrom first, then env in order (kubelet's rule). */
function containerEnv(
  envFrom: { configMapRef?: { name: string }; secretRef?: { name: string } }[],
  env: readonly EnvVar[],
  objects: readonly K8sObject[],
): Env {
  const out: Env = {};
  for (const src of envFrom) {
    const name = src.configMapRef?.name ?? src.secretRef?.name;
    const kind = src.configMapRef ? 'ConfigMap' : 'Secret';
    const obj = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!obj) throw new Error(`envFrom ${kind} ${name} is not rendered by k8s/platform`);
    const data = (obj.data ?? {}) as Env;
    for (const [k, v] of Object.entries(data))
      out[k] = kind === 'Secret' ? Buffer.from(v, 'base64').toString() : v;
  }
  for (const e of env) {
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) {
      const value = secretData(objects, ref.name ?? '')[ref.key];
      if (value === undefined) throw new Error(`Secret ${ref.name} has no key ${ref.key}`);
      out[e.name] = value;
      continue;
    }
    if (e.value === undefined) continue;
    out[e.name] = e.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n: string) => out[n] ?? m);
  }
  return out;
}

const familyOf = (script: string): ScenarioFamily => (script.startsWith('sql-') ? 'sql' : 'api');
const scriptOf = (tr: K8sObject) => spec(tr).script.configMap.file.replace(/\.js$/, '');
const runnerEnv = (tr: K8sObject) => containerEnv(spec(tr).runner.envFrom, spec(tr).runner.env, platform());
const tagValue = (args: string[], tag: string) => {
  const i = args.findIndex((a, j) => args[j - 1] === '--tag' && a.startsWith(`${tag}=`));
  return i < 0 ? undefined : args[i]?.slice(tag.length + 1);
};

/**
 * The secret keys a container can read: every key of a Secret it takes whole (envFrom secretRef), and each
 * key it names by secretKeyRef.
 */
function visibleSecretKeys(c: { envFrom?: { secretRef?: { name?: string } }[]; env?: EnvVar[] }): string[] {
  const whole = (c.envFrom ?? []).flatMap((f) => {
    const s = Object.values(SECRETS).find((x) => x.name === f.secretRef?.name);
    return s ? [...s.keys] : [];
  });
  const byKey = (c.env ?? []).flatMap((e) =>
    e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef.key] : [],
  );
  return [...new Set([...whole, ...byKey])].sort();
}

/** Every container of an object, with where it is; TestRun runners and starters included as the operator builds them. */
function containers(o: K8sObject): { where: string; c: Container; pod?: core.IPodSecurityContext }[] {
  const where = `${o.kind}/${o.metadata.name}`;
  if (o.kind === 'TestRun') {
    const r = spec(o).runner;
    const st = spec(o).starter ?? {};
    return [
      {
        // The operator's starter Job: its image is the operator default unless spec.starter.image is set.
        where: `${where} starter`,
        c: {
          name: 'k6-curl',
          image: st.image ?? OPERATOR_DEFAULT_STARTER_IMAGE,
          ...(st.resources ? { resources: st.resources } : {}),
          ...(st.containerSecurityContext ? { securityContext: st.containerSecurityContext } : {}),
        },
        ...(st.securityContext ? { pod: st.securityContext } : {}),
      },
      {
        where: `${where} runner`,
        c: {
          name: 'k6',
          image: r.image,
          resources: r.resources,
          securityContext: r.containerSecurityContext,
        },
        pod: r.securityContext,
      },
      ...(r.initContainers ?? []).map((c) => ({
        where: `${where} init ${c.name}`,
        c,
        pod: r.securityContext,
      })),
    ];
  }
  const podSpec = (o.spec as { template?: { spec?: core.IPodSpec } } | undefined)?.template?.spec;
  if (!podSpec) return [];
  return [...(podSpec.initContainers ?? []), ...podSpec.containers].map((c) => ({
    where: `${where} ${c.name}`,
    c,
    ...(podSpec.securityContext ? { pod: podSpec.securityContext } : {}),
  }));
}

describe.skipIf(missing !== null)('k8s/ rendered by kubectl kustomize', () => {
  let bundleDir = '';
  beforeAll(async () => {
    bundleDir = await testBundles();
    tree = renderTree(bundleDir);
  }, 120_000);
  afterAll(() => tree?.cleanup());

  it.each([...RENDERABLE])('%s renders, everything in namespace cqrs', (k) => {
    const objects = tree.objects.get(k) ?? [];
    expect(objects.length).toBeGreaterThan(0);
    for (const o of objects)
      if (o.kind !== 'Namespace') expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('cqrs');
  });

  describe('CRD kinds against the real CRD schemas', () => {
    it('every rendered TestRun and InnoDBCluster validates', () => {
      let n = 0;
      for (const [k, o] of all()) {
        if (o.kind !== 'TestRun' && o.kind !== 'InnoDBCluster') continue;
        n++;
        expect(o.apiVersion).toBe(o.kind === 'TestRun' ? 'k6.io/v1alpha1' : 'mysql.oracle.com/v2');
        expect(
          crdErrors(o.kind, o.apiVersion.split('/')[1] as string, o),
          `${k} ${o.kind}/${o.metadata.name}`,
        ).toEqual([]);
        // ObjectMeta is the server's, not the CRD's: checked by kubernetes-models' ObjectMeta schema.
        expect(() => new core.ConfigMap({ metadata: o.metadata }).validate()).not.toThrow();
      }
      expect(n).toBe(testRuns().length + 2);
    });

    const tr = () => structuredClone(testRuns()[0]?.[1]) as K8sObject & { spec: Record<string, unknown> };
    const ic = () =>
      structuredClone(ofKind(platform(), 'InnoDBCluster')[0]) as K8sObject & {
        spec: Record<string, unknown>;
      };

    it('a misspelt TestRun field fails (`arguments` is real, `argument` is not)', () => {
      const bad = tr();
      bad.spec.argument = '--verbose';
      expect(crdErrors('TestRun', 'v1alpha1', bad).join('\n')).toMatch(/additional properties.*argument/);
    });

    it('a misplaced TestRun field fails (image belongs under runner)', () => {
      const bad = tr();
      bad.spec.image = 'grafana/k6:2.2.0';
      expect(crdErrors('TestRun', 'v1alpha1', bad)).not.toEqual([]);
      const nested = tr();
      (nested.spec.runner as Record<string, unknown>).parallelism = 2;
      expect(crdErrors('TestRun', 'v1alpha1', nested)).not.toEqual([]);
    });

    it('a TestRun with a wrong type or value fails (cleanup accepts only post; args is a list)', () => {
      const cleanup = tr();
      cleanup.spec.cleanup = 'always';
      expect(crdErrors('TestRun', 'v1alpha1', cleanup)).not.toEqual([]);
      const args = tr();
      args.spec.args = '-o experimental-prometheus-rw';
      expect(crdErrors('TestRun', 'v1alpha1', args)).not.toEqual([]);
      const noScript = tr();
      delete noScript.spec.script;
      expect(crdErrors('TestRun', 'v1alpha1', noScript)).not.toEqual([]);
    });

    it('a misspelt or misplaced InnoDBCluster field fails', () => {
      const typo = ic();
      typo.spec.tlsUseSelfsigned = true;
      expect(crdErrors('InnoDBCluster', 'v2', typo).join('\n')).toMatch(/tlsUseSelfsigned/);
      const misplaced = ic();
      (misplaced.spec.router as Record<string, unknown>).instances = 1;
      (misplaced.spec.router as Record<string, unknown>).readReplicas = [];
      expect(crdErrors('InnoDBCluster', 'v2', misplaced)).not.toEqual([]);
      const tooMany = ic();
      tooMany.spec.instances = 10;
      expect(crdErrors('InnoDBCluster', 'v2', tooMany)).not.toEqual([]);
    });

    it('the CRD only leaves open what it marks preserve-unknown-fields (podSpec)', () => {
      const open = ic();
      open.spec.podSpec = { anything: { goes: true } };
      expect(crdErrors('InnoDBCluster', 'v2', open)).toEqual([]);
    });

    it('the read-replicas overlay adds async replicas and points Router RO at them', () => {
      const [cluster] = ofKind(tree.objects.get(OVERLAYS.readReplicas) ?? [], 'InnoDBCluster');
      const s = cluster?.spec as {
        readReplicas: { instances: number }[];
        router: { routingOptions: object };
      };
      expect(s.readReplicas[0]?.instances).toBeGreaterThan(0);
      expect(s.router.routingOptions).toEqual({ read_only_targets: 'read_replicas' });
      const base = ofKind(platform(), 'InnoDBCluster')[0]?.spec as Record<string, unknown>;
      expect(base).toMatchObject({ instances: 3, tlsUseSelfSigned: true, router: { instances: 1 } });
    });
  });

  describe('core kinds against kubernetes-models', () => {
    const models: Record<string, { new (data: never): { validate(): void } }> = {
      Namespace: core.Namespace,
      ConfigMap: core.ConfigMap,
      Secret: core.Secret,
      Service: core.Service,
      ServiceAccount: core.ServiceAccount,
      Deployment: apps.Deployment,
      Job: batch.Job,
      Role: rbac.Role,
      RoleBinding: rbac.RoleBinding,
    };

    it('every rendered core object validates; no kind goes unchecked', () => {
      for (const [k, o] of all()) {
        if (o.kind === 'TestRun' || o.kind === 'InnoDBCluster') continue;
        const Model = models[o.kind];
        expect(Model, `${k}: no validator for ${o.kind}`).toBeDefined();
        expect(
          () => new (Model as NonNullable<typeof Model>)(o as never).validate(),
          `${k} ${o.kind}/${o.metadata.name}`,
        ).not.toThrow();
      }
    });

    it('an invalid core object fails (the validator is live)', () => {
      const [d] = ofKind(platform(), 'Deployment');
      const bad = structuredClone(d) as unknown as { spec: { replicas: unknown } };
      bad.spec.replicas = 'one';
      expect(() => new apps.Deployment(bad as never).validate()).toThrow(/replicas/);
    });
  });

  describe('invariants', () => {
    it('no secret value outside a Secret: not in any committed file, nor in any other rendered object', () => {
      const values = Object.entries(secretValues())
        .filter(([k]) => k !== 'rootUser' && k !== 'rootHost')
        .map(([, v]) => v);
      const committed: string[] = [];
      const walk = (dir: string) => {
        for (const e of readdirSync(dir)) {
          const p = join(dir, e);
          if (e === 'staged') continue;
          if (statSync(p).isDirectory()) walk(p);
          else committed.push(p);
        }
      };
      walk(K8S_DIR);
      for (const p of committed) {
        const text = readFileSync(p, 'utf8');
        for (const v of values) expect(text.includes(v), p).toBe(false);
        if (!p.includes('/src/')) expect(text, p).not.toMatch(/^kind: Secret$/m);
      }
      for (const [k, o] of all()) {
        if (o.kind === 'Secret') continue;
        const text = JSON.stringify(o);
        for (const v of values) expect(text.includes(v), `${k} ${o.kind}/${o.metadata.name}`).toBe(false);
      }
      // The Secrets hold them, from the gitignored env files.
      const secrets = ofKind(platform(), 'Secret');
      expect(secrets.map((s) => s.metadata.name).sort()).toEqual(['cqrs-db', 'mysql-root']);
    });

    it('every image is pinned: a tag or a digest, never latest (one explicit exception: the operator starter)', () => {
      let starters = 0;
      for (const [k, o] of all()) {
        for (const { where, c } of containers(o)) {
          const image = c.image ?? '';
          // The exception, and its reason: k6-operator's default starter image is `latest-starter`, and no pinned
          // starter tag is verified here, so spec.starter.image is left unset (k8s/README.md, known limitations).
          // Only that exact default passes, and only for a starter; any other latest still fails.
          if (where.endsWith(' starter') && image === OPERATOR_DEFAULT_STARTER_IMAGE) {
            starters++;
            continue;
          }
          const name = image.split('@')[0] as string;
          const tag = name.slice(name.lastIndexOf('/') + 1).split(':')[1];
          expect(
            image.includes('@sha256:') || (tag !== undefined && tag !== ''),
            `${k} ${where}: ${image}`,
          ).toBe(true);
          expect(tag, `${k} ${where}`).not.toBe('latest');
          expect(tag, `${k} ${where}`).not.toMatch(/^latest/);
        }
      }
      expect(starters).toBe(testRuns().length);
    });

    it('every container has cpu/memory requests and limits and a non-root, unprivileged security context', () => {
      let n = 0;
      for (const [k, o] of all()) {
        for (const { where, c, pod } of containers(o)) {
          n++;
          const at = `${k} ${where}`;
          for (const kind of ['requests', 'limits'] as const) {
            expect(c.resources?.[kind]?.cpu, `${at} ${kind}.cpu`).toBeDefined();
            expect(c.resources?.[kind]?.memory, `${at} ${kind}.memory`).toBeDefined();
          }
          expect(c.securityContext?.runAsNonRoot ?? pod?.runAsNonRoot, at).toBe(true);
          expect(c.securityContext?.runAsUser ?? pod?.runAsUser, at).toBeGreaterThan(0);
          expect(c.securityContext?.allowPrivilegeEscalation, at).toBe(false);
          expect(c.securityContext?.readOnlyRootFilesystem, at).toBe(true);
        }
      }
      expect(n).toBeGreaterThan(10);
    });

    it('every ConfigMap, scripts included, fits client-side apply: the whole object under 256 KiB', () => {
      // `kubectl apply` (client-side) copies the object into its last-applied-configuration annotation, and all
      // annotations of an object share 256 KiB; the 1 MiB object limit is the looser one.
      for (const [k, o] of all()) {
        if (o.kind !== 'ConfigMap') continue;
        const size = Buffer.byteLength(JSON.stringify(o));
        expect(size, `${k} ConfigMap/${o.metadata.name}`).toBeLessThan(256 * 1024);
      }
    });

    it("no two kustomizations' fixed-name ConfigMaps collide (deleting one overlay keeps the others' scripts)", () => {
      // smoke and load are two shapes of k8s/tests (the same TestRuns by name): one owner between them.
      const owners = [
        PLATFORM,
        TESTS,
        OVERLAYS.syncBefore,
        OVERLAYS.routerSplit,
        OVERLAYS.memberProbe,
      ] as const;
      const seen = new Map<string, string>();
      for (const owner of owners) {
        const k = owner === TESTS ? OVERLAYS.smoke : owner;
        for (const cm of ofKind(tree.objects.get(k) ?? [], 'ConfigMap')) {
          expect(seen.get(cm.metadata.name), `${cm.metadata.name} in ${owner}`).toBeUndefined();
          seen.set(cm.metadata.name, owner);
        }
      }
      expect([...seen.values()].filter((o) => o !== PLATFORM).length).toBeGreaterThanOrEqual(6);
    });

    it('every TestRun script is a ConfigMap of its own kustomization holding the bundle', () => {
      for (const [k, tr] of testRuns()) {
        const { name, file } = spec(tr).script.configMap;
        const cm = (tree.objects.get(k) ?? []).find(
          (o) => o.kind === 'ConfigMap' && o.metadata.name === name,
        );
        const data = (cm?.data ?? {}) as Env;
        expect(Object.keys(data), `${k} ${name}`).toEqual([file]);
        expect(data[file]).toBe(readFileSync(join(bundleDir, file), 'utf8'));
      }
    });

    it("every CQRS_* variable a scenario's config requires is provided: its own loader accepts the runner's env", () => {
      for (const [k, tr] of testRuns()) {
        const script = scriptOf(tr);
        const family = familyOf(script);
        const env = runnerEnv(tr);
        const at = `${k} ${tr.metadata.name}`;
        for (const s of Object.values(CONFIG_SCHEMA)) {
          if (s.requiredBy?.includes(family)) expect(env[s.name], `${at} ${s.name}`).toMatch(/.+/);
        }
        // Unresolved $(…) would reach k6 as text.
        for (const [n, v] of Object.entries(env)) expect(v, `${at} ${n}`).not.toMatch(/\$\(/);
        const config = loadConfig(env, family);
        expect(config.flavor, at).toBe('mysql');
        // The one run id every runner shares (each scopes its rows by instance_id).
        expect(config.testId, at).toBe(tagValue(spec(tr).args, 'testid'));
        // Loopback defaults (the local stack) reach nothing in a pod: the API scenarios get the Service.
        if (family === 'api') expect(config.apiUrl, at).toBe(API_URL);
        // The runner id comes from the operator's instance_id tag, never one fixed value for all runners.
        expect(env[CONFIG_SCHEMA.runner.name], at).toBeUndefined();
      }
    });

    it('the runner image fits the scenario: xk6-sql for sql-*, stock grafana/k6 for api-*', () => {
      for (const [k, tr] of testRuns()) {
        const image = spec(tr).runner.image;
        if (familyOf(scriptOf(tr)) === 'sql') expect(image, k).toMatch(/^mysql-cqrs-k6\/k6:2\.2\.0-sql/);
        else expect(image, k).toMatch(/^grafana\/k6:2\.\d+\.\d+$/);
      }
    });

    it('Router ports match the strategy: writer 6446, reader 6447 (or one member on 3306), split 6450', () => {
      for (const [k, tr] of testRuns()) {
        if (familyOf(scriptOf(tr)) !== 'sql') continue;
        const env = runnerEnv(tr);
        const writer = parseGoDsn(env.CQRS_WRITER_DSN ?? '');
        const reader = parseGoDsn(env.CQRS_READER_DSN ?? '');
        const monitor = parseGoDsn(env.CQRS_REPLICA_MONITOR_DSN ?? '');
        expect(writer, k).toMatchObject({ host: ROUTER_HOST, port: ROUTER_PORTS.rw });
        const member = k === OVERLAYS.memberProbe;
        expect(reader, k).toMatchObject(
          member
            ? { host: memberHost(MEMBER_PROBE_INDEX), port: MEMBER_PORT }
            : { host: ROUTER_HOST, port: ROUTER_PORTS.ro },
        );
        expect({ host: monitor?.host, port: monitor?.port }).toEqual({
          host: reader?.host,
          port: reader?.port,
        });
        if (member) expect(reader?.host).toMatch(new RegExp(`^${CLUSTER}-\\d\\.${CLUSTER}-instances\\.`));
      }
      const api = ofKind(platform(), 'Deployment').find((d) => d.metadata.name === API_NAME);
      const c = containers(api as K8sObject)[0]?.c as Container;
      const env = containerEnv((c.envFrom ?? []) as never, (c.env ?? []) as EnvVar[], platform());
      const config = loadApiConfig(env);
      const port = (url: string | undefined) => Number(new URL(url ?? '').port);
      expect(config.flavor).toBe('mysql');
      expect(port(config.writerUrl)).toBe(ROUTER_PORTS.rw);
      expect(port(config.readerUrl)).toBe(ROUTER_PORTS.ro);
      expect(port(config.routerSplitUrl)).toBe(ROUTER_PORTS.split);
      // Set explicitly (whole seconds), not Router's disputed default.
      expect(c.env?.find((e) => e.name === 'CQRS_API_ROUTER_WAIT_TIMEOUT_S')?.value).toMatch(/^\d+$/);
      // sync-before reads a GR secondary: Router's RO port must target secondaries in the base platform.
      const cluster = ofKind(platform(), 'InnoDBCluster')[0]?.spec as { router: { routingOptions: object } };
      expect(cluster.router.routingOptions).toEqual({ read_only_targets: 'secondaries' });
    });

    it('the sync-before and router-split overlays run their strategy beside the eventual baseline', () => {
      const strategies = (k: string) =>
        runnerEnv(ofKind(tree.objects.get(k) ?? [], 'TestRun')[0] as K8sObject).CQRS_API_STRATEGIES;
      expect(strategies(OVERLAYS.syncBefore)).toBe('eventual,sync-before');
      expect(strategies(OVERLAYS.routerSplit)).toBe('eventual,router-split');
      expect(existsSync(join(K8S_DIR, 'overlays/gr-before'))).toBe(false);
    });

    it('the InnoDB Cluster is topology cluster for the API and every TestRun; read-replicas says async', () => {
      const apiEnvIn = (objects: readonly K8sObject[]) => {
        const api = ofKind(objects, 'Deployment').find((d) => d.metadata.name === API_NAME);
        const c = containers(api as K8sObject)[0]?.c as Container;
        expect(
          (c.env ?? []).filter((e) => e.name === 'CQRS_TOPOLOGY'),
          'set once',
        ).toHaveLength(1);
        return containerEnv((c.envFrom ?? []) as never, (c.env ?? []) as EnvVar[], objects);
      };
      const k6EnvIn = (objects: readonly K8sObject[]) =>
        ofKind(objects, 'ConfigMap').find((c) => c.metadata.name === K6_ENV_CONFIGMAP)?.data as Env;
      const replicas = tree.objects.get(OVERLAYS.readReplicas) ?? [];

      expect(loadApiConfig(apiEnvIn(platform()))).toMatchObject({ flavor: 'mysql', topology: 'cluster' });
      expect(k6EnvIn(platform())).toMatchObject({ CQRS_FLAVOR: 'mysql', CQRS_TOPOLOGY: 'cluster' });
      for (const [k, tr] of testRuns()) {
        const config = loadConfig(runnerEnv(tr), familyOf(scriptOf(tr)));
        expect(config.topology, `${k} ${tr.metadata.name}`).toBe('cluster');
      }
      // The shipped comparison (no CQRS_API_STRATEGIES) then includes sync-before on the cluster.
      const shipped = ofKind(tree.objects.get(OVERLAYS.smoke) ?? [], 'TestRun').find(
        (tr) => scriptOf(tr) === 'api-read-after-write',
      ) as K8sObject;
      expect(loadConfig(runnerEnv(shipped), 'api').apiStrategies).toContain('sync-before');

      // Router's RO port reaches async replicas there: the API and the runners' ConfigMap say so.
      expect(loadApiConfig(apiEnvIn(replicas))).toMatchObject({ flavor: 'mysql', topology: 'async' });
      expect(k6EnvIn(replicas)).toMatchObject({ CQRS_FLAVOR: 'mysql', CQRS_TOPOLOGY: 'async' });
      const onReplicas = (tr: K8sObject) =>
        containerEnv(spec(tr).runner.envFrom, spec(tr).runner.env, replicas);
      // The shipped comparison leaves sync-before out there; the sync-before overlay is refused at init.
      expect(loadConfig(onReplicas(shipped), 'api').apiStrategies).not.toContain('sync-before');
      const sync = ofKind(tree.objects.get(OVERLAYS.syncBefore) ?? [], 'TestRun')[0] as K8sObject;
      expect(() => loadConfig(onReplicas(sync), 'api')).toThrow(
        /^invalid CQRS_API_STRATEGIES; reason: strategy sync-before needs a synchronous cluster .*\(CQRS_TOPOLOGY=async\)$/,
      );
      // Every other TestRun still loads there.
      for (const [k, tr] of testRuns()) {
        if (k === OVERLAYS.syncBefore) continue;
        expect(loadConfig(onReplicas(tr), familyOf(scriptOf(tr))).topology, k).toBe('async');
      }
    });

    it('the API is pinned to one replica (sticky windows live in process memory) and scraped by annotation', () => {
      const api = ofKind(platform(), 'Deployment').find((d) => d.metadata.name === API_NAME);
      expect((api?.spec as { replicas?: number } | undefined)?.replicas).toBe(1);
      const svc = ofKind(platform(), 'Service').find((s) => s.metadata.name === API_NAME);
      expect(
        (svc?.metadata as { annotations?: Env } | undefined)?.annotations?.['prometheus.io/scrape'],
      ).toBe('true');
      const c = containers(api as K8sObject)[0]?.c;
      expect(c?.readinessProbe?.httpGet?.path).toBe('/readyz');
      expect(c?.livenessProbe?.httpGet?.path).toBe('/healthz');
    });

    it('the testid is unique per TestRun across every overlay, and tags the whole run', () => {
      const ids = testRuns().map(([, tr]) => tagValue(spec(tr).args, 'testid'));
      expect(ids.every((id) => id !== undefined)).toBe(true);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it("the output args are common/k6-output.ts's, the K6_* env its remoteWriteEnv; parallelism and cleanup per overlay", () => {
      const [cm] = ofKind(platform(), 'ConfigMap').filter((c) => c.metadata.name === K6_ENV_CONFIGMAP);
      expect(cm?.data).toMatchObject(remoteWriteEnv({ prometheusUrl: PROMETHEUS_URL }));
      for (const [k, tr] of testRuns()) {
        const s = spec(tr);
        const tags = {
          testid: tagValue(s.args, 'testid') as string,
          script: scriptOf(tr),
          ...(tagValue(s.args, 'strategy') ? { strategy: tagValue(s.args, 'strategy') as string } : {}),
        };
        expect(s.args, k).toEqual(k6OutputSettings({ prometheusUrl: PROMETHEUS_URL }, tags).args);
        expect(s.cleanup).toBe('post');
        expect(s.parallelism, k).toBe(k === OVERLAYS.load ? 4 : 1);
      }
    });

    it('no runner or API container can read a secret key it does not use', () => {
      const apiRunners = testRuns().filter(([, tr]) => familyOf(scriptOf(tr)) === 'api');
      expect(apiRunners.length).toBeGreaterThan(0);
      for (const [k, tr] of testRuns()) {
        const r = spec(tr).runner;
        const at = `${k} ${tr.metadata.name}`;
        expect(
          r.envFrom.filter((f) => f.secretRef),
          `${at}: no whole Secret`,
        ).toEqual([]);
        const visible = visibleSecretKeys(r);
        // Stock k6 runs the API scenarios: no database Secret at all.
        if (familyOf(scriptOf(tr)) === 'api') expect(visible, at).toEqual([]);
        else
          expect(visible, at).toEqual([
            'CQRS_MONITOR_PASSWORD',
            'CQRS_READER_PASSWORD',
            'CQRS_WRITER_PASSWORD',
          ]);
        // Each one it sees, it uses: a $(KEY) in one of its variables.
        const values = r.env.map((e) => e.value ?? '').join('\n');
        for (const key of visible) expect(values, `${at} ${key}`).toContain(`$(${key})`);
      }
      const api = ofKind(platform(), 'Deployment').find((d) => d.metadata.name === API_NAME);
      const c = containers(api as K8sObject)[0]?.c as Container & { env: EnvVar[] };
      expect(c.envFrom ?? []).toEqual([]);
      expect(visibleSecretKeys(c)).toEqual([
        'CQRS_READER_PASSWORD',
        'CQRS_REDIS_PASSWORD',
        'CQRS_WRITER_PASSWORD',
      ]);
      const values = c.env.map((e) => e.value ?? '').join('\n');
      for (const key of visibleSecretKeys(c)) expect(values, key).toContain(`$(${key})`);
      // Nothing anywhere takes a whole Secret.
      for (const [k, o] of all())
        for (const { where, c: x } of containers(o))
          expect(
            (x.envFrom ?? []).filter((f) => f.secretRef),
            `${k} ${where}`,
          ).toEqual([]);
    });

    it('Grafana logs to the console: its root filesystem is read-only and /var/log/grafana has no volume', () => {
      const g = ofKind(platform(), 'Deployment').find((d) => d.metadata.name === GRAFANA_NAME);
      const c = containers(g as K8sObject)[0]?.c as Container;
      expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
      const logs = (c.volumeMounts ?? []).some((m) => m.mountPath === '/var/log/grafana');
      expect(logs || c.env?.find((e) => e.name === 'GF_LOG_MODE')?.value === 'console').toBe(true);
      expect(c.env?.find((e) => e.name === 'GF_LOG_MODE')?.value).toBe('console');
    });

    it('the read-replicas overlay scrapes the asynchronous replicas too, through the exporter', () => {
      const targets = (k: string) => {
        const objects = tree.objects.get(k) ?? [];
        const d = ofKind(objects, 'Deployment').find((x) => x.metadata.name === PROMETHEUS_NAME);
        const podSpec = (d?.spec as { template: { spec: core.IPodSpec } } | undefined)?.template.spec;
        const volumes = podSpec?.volumes ?? [];
        const name = volumes.find((v) => v.name === 'config')?.configMap?.name;
        // The Deployment mounts the overlay's ConfigMap (kustomize rewrote the hashed name), not the base's.
        const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === name);
        expect(name, k).toMatch(new RegExp(`^${CONFIGMAPS.prometheus}-`));
        const config = parse(((cm?.data ?? {}) as Env)['prometheus.yml'] ?? '') as {
          scrape_configs: { job_name: string; static_configs?: { targets: string[] }[] }[];
        };
        const job = config.scrape_configs.find((j) => j.job_name === 'mysqld');
        return job?.static_configs?.flatMap((sc) => sc.targets) ?? [];
      };
      const members = Array.from({ length: INSTANCES }, (_, i) => `${memberHost(i)}:${MEMBER_PORT}`);
      expect(targets(PLATFORM)).toEqual(members);
      const replicas = readReplicaHosts().map((h) => `${h}:${MEMBER_PORT}`);
      expect(replicas).toEqual([
        `${CLUSTER}-async-0.${CLUSTER}-async-instances.cqrs.svc.cluster.local:3306`,
        `${CLUSTER}-async-1.${CLUSTER}-async-instances.cqrs.svc.cluster.local:3306`,
      ]);
      expect(targets(OVERLAYS.readReplicas)).toEqual([...members, ...replicas]);
      // One replica target per replica the overlay asks the operator for.
      const [cluster] = ofKind(tree.objects.get(OVERLAYS.readReplicas) ?? [], 'InnoDBCluster');
      const rr =
        (cluster?.spec as { readReplicas?: { name: string; instances: number }[] } | undefined)
          ?.readReplicas ?? [];
      expect(rr.map((r) => r.instances).reduce((a, b) => a + b, 0)).toBe(replicas.length);
      expect(replicas.every((t) => rr.some((r) => t.startsWith(`${CLUSTER}-${r.name}-`)))).toBe(true);
    });

    it('kustomize renders each TestRun exactly as k8s/src models it (patches included)', () => {
      for (const [k, want] of Object.entries(expectedTestRuns())) {
        const got = ofKind(tree.objects.get(k) ?? [], 'TestRun').map((o) => o.spec);
        const expected = (want as K8sObject[]).map((o) => o.spec);
        const byTestId = (xs: unknown[]) =>
          [...xs].sort((a, b) =>
            String(tagValue((a as TestRunSpec).args, 'testid')).localeCompare(
              String(tagValue((b as TestRunSpec).args, 'testid')),
            ),
          );
        expect(byTestId(got), k).toEqual(byTestId(expected));
      }
    });
  });
});
