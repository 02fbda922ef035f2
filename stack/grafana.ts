/**
 * The stack's optional Grafana. It is no Debian package, so stack:up starts it only when `grafana` (≥ 10) or
 * the legacy `grafana-server` is on PATH: on loopback, with the repo's provisioned datasource and dashboards,
 * anonymous read-only access, a generated admin password and nothing phoning home. Ready means the provisioned
 * consistency dashboard answers an anonymous viewer, which is what `npm start`'s link opens.
 */
import { chmodSync, cpSync, existsSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ConfigError } from '../common/config-error.ts';
import { CONSISTENCY_DASHBOARD_UID } from '../run/links.ts';
import { which } from './binaries.ts';
import { PROJECT_ROOT, type StackConfig } from './config.ts';
import { startDaemon } from './processes.ts';
import { pollUntil } from './readiness.ts';
import type { StackSecrets } from './secrets.ts';
import type { ServiceDef } from './services.ts';

export interface GrafanaInstall {
  /** The binary found on PATH. */
  bin: string;
  /** `grafana-server` takes no `server` subcommand (it re-executes `grafana server` itself). */
  legacy: boolean;
  /** Its --homepath: the folder holding public/ and conf/defaults.ini. */
  home: string;
}

export type GrafanaLookup = { install: GrafanaInstall } | { skipped: string };

/** The one line stack:up prints when Grafana is absent; the rest of the stack comes up unchanged. */
export const GRAFANA_NOT_INSTALLED =
  'grafana: not installed, skipped; to watch runs in Grafana, install it (https://grafana.com/grafana/download, ' +
  'a tarball needs no root) and put its bin/ on PATH, then rerun npm run stack:up; the dashboards are in dashboards/*.json';

/** The generated dashboards/*.json, read in place so `npm run dashboards` output is what Grafana shows. */
export const DASHBOARDS_DIR = join(PROJECT_ROOT, 'dashboards');
const PROVISIONING_SOURCE = join(DASHBOARDS_DIR, 'provisioning');
/** Where the Debian and RPM packages install Grafana's home. */
const PACKAGE_HOME = '/usr/share/grafana';
/** Grafana's first start creates its SQLite database through several hundred migrations: minutes on a slow disk. */
const FIRST_START_MS = 120_000;

export const isGrafanaHome = (dir: string): boolean =>
  existsSync(join(dir, 'public')) && existsSync(join(dir, 'conf', 'defaults.ini'));

/** CQRS_GRAFANA_HOME when given (it must be a home), else the first home found for the binary. */
export function grafanaHome(bin: string, override?: string): string | undefined {
  if (override) {
    if (!isGrafanaHome(override)) {
      throw ConfigError.invalid(
        'CQRS_GRAFANA_HOME',
        'a Grafana home folder (holding public/ and conf/defaults.ini)',
        override,
      );
    }
    return override;
  }
  // A tarball's bin/grafana sits two levels below its home; the PATH entry may be a symlink into it.
  return [dirname(dirname(bin)), dirname(dirname(realpathSync(bin))), PACKAGE_HOME].find(isGrafanaHome);
}

/** Looks Grafana up on PATH; a reason to skip it (one line) when it is absent or its home is not found. */
export function findGrafana(
  cfg: Pick<StackConfig, 'grafanaHome'>,
  path = process.env.PATH ?? '',
): GrafanaLookup {
  const bin = which('grafana', path) ?? which('grafana-server', path);
  if (!bin) return { skipped: GRAFANA_NOT_INSTALLED };
  const home = grafanaHome(bin, cfg.grafanaHome);
  if (!home) {
    return {
      skipped: `grafana: ${bin} has no home folder (public/ and conf/defaults.ini) two levels up nor in ${PACKAGE_HOME}, skipped; set CQRS_GRAFANA_HOME to it, then rerun npm run stack:up`,
    };
  }
  return { install: { bin, legacy: basename(bin) === 'grafana-server', home } };
}

export function grafanaPaths(stateDir: string) {
  const dir = join(stateDir, 'grafana');
  return {
    dir,
    ini: join(dir, 'grafana.ini'),
    data: join(dir, 'data'),
    logs: join(dir, 'logs'),
    plugins: join(dir, 'plugins'),
    provisioning: join(dir, 'provisioning'),
  };
}

/**
 * Every setting but the secrets, as Grafana's GF_<SECTION>_<KEY> variables: they win over any ini file, so
 * nothing in the install's conf/ can widen what the stack sets. The provisioning files read CQRS_PROMETHEUS_URL
 * and CQRS_DASHBOARDS_DIR from this same environment.
 */
export function grafanaEnv(cfg: StackConfig, prometheusUrl: string): Record<string, string> {
  const p = grafanaPaths(cfg.stateDir);
  return {
    GF_PATHS_DATA: p.data,
    GF_PATHS_LOGS: p.logs,
    GF_PATHS_PLUGINS: p.plugins,
    GF_PATHS_PROVISIONING: p.provisioning,
    GF_SERVER_HTTP_ADDR: cfg.host,
    GF_SERVER_HTTP_PORT: String(cfg.ports.grafana),
    GF_SERVER_DOMAIN: cfg.host,
    // Read-only for anyone who opens it; changes need the admin login.
    GF_AUTH_ANONYMOUS_ENABLED: 'true',
    GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer',
    GF_USERS_ALLOW_SIGN_UP: 'false',
    GF_USERS_ALLOW_ORG_CREATE: 'false',
    // No phoning home: usage reports, update checks, the news feed, plugin preinstalls and key downloads,
    // external snapshots and avatars all reach grafana.com or third parties.
    GF_ANALYTICS_REPORTING_ENABLED: 'false',
    GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
    GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: 'false',
    GF_ANALYTICS_FEEDBACK_LINKS_ENABLED: 'false',
    GF_NEWS_NEWS_FEED_ENABLED: 'false',
    GF_PLUGINS_PREINSTALL_DISABLED: 'true',
    GF_PLUGINS_PREINSTALL_AUTO_UPDATE: 'false',
    GF_PLUGINS_PUBLIC_KEY_RETRIEVAL_DISABLED: 'true',
    GF_SNAPSHOTS_EXTERNAL_ENABLED: 'false',
    GF_SECURITY_DISABLE_GRAVATAR: 'true',
    // To stdout, which startDaemon appends to <state>/logs/grafana.log like every service's.
    GF_LOG_MODE: 'console',
    CQRS_PROMETHEUS_URL: prometheusUrl,
    CQRS_DASHBOARDS_DIR: DASHBOARDS_DIR,
  };
}

/**
 * The process environment: the caller's without any GF_ variable (a GF_SECURITY_ADMIN_PASSWORD=admin in the
 * shell would override the generated password), plus the stack's settings.
 */
export function grafanaProcessEnv(
  cfg: StackConfig,
  prometheusUrl: string,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(base).filter(([k]) => !k.startsWith('GF_')));
  return { ...inherited, ...grafanaEnv(cfg, prometheusUrl) };
}

/** grafana.ini (0600): the secrets only, kept out of argv and the environment. */
export function grafanaIni(secrets: Pick<StackSecrets, 'grafanaAdminPassword' | 'grafanaSecretKey'>): string {
  return [
    '; Written by stack:up (stack/grafana.ts). Every other setting is in the environment it starts Grafana with.',
    '[security]',
    'admin_user = admin',
    `admin_password = ${secrets.grafanaAdminPassword}`,
    `secret_key = ${secrets.grafanaSecretKey}`,
    '',
  ].join('\n');
}

export function grafanaArgs(install: GrafanaInstall, iniFile: string): string[] {
  return [...(install.legacy ? [] : ['server']), '--homepath', install.home, '--config', iniFile];
}

/** Writes grafana.ini and a fresh copy of the provisioning files; returns the ini's path. */
export function prepareGrafana(cfg: StackConfig, secrets: StackSecrets): string {
  const p = grafanaPaths(cfg.stateDir);
  for (const d of [p.dir, p.data, p.logs, p.plugins]) mkdirSync(d, { recursive: true, mode: 0o700 });
  chmodSync(p.dir, 0o700);
  // Copied at every start, so it is always what `npm run dashboards` last wrote; the empty plugins/ and
  // alerting/ spare Grafana's complaints about provisioning folders that are missing.
  rmSync(p.provisioning, { recursive: true, force: true });
  cpSync(PROVISIONING_SOURCE, p.provisioning, { recursive: true });
  for (const sub of ['plugins', 'alerting']) mkdirSync(join(p.provisioning, sub), { recursive: true });
  writeFileSync(p.ini, grafanaIni(secrets), { mode: 0o600 });
  chmodSync(p.ini, 0o600);
  return p.ini;
}

export function grafanaService(install: GrafanaInstall): ServiceDef {
  return {
    name: 'grafana',
    ports: ['grafana'],
    start: async (ctx) => {
      const ini = prepareGrafana(ctx.cfg, ctx.secrets);
      return startDaemon({
        name: 'grafana',
        command: install.bin,
        args: grafanaArgs(install, ini),
        env: grafanaProcessEnv(ctx.cfg, ctx.endpoints.prometheusUrl),
        stateDir: ctx.cfg.stateDir,
        cwd: grafanaPaths(ctx.cfg.stateDir).dir,
        // grafana-server re-executes grafana in place (same PID, new argv); both argvs hold this stack's ini.
        exe: ini,
      });
    },
    ready: (ctx, rec) => {
      const base = ctx.endpoints.grafanaUrl;
      const dashboard = `${base}/api/dashboards/uid/${CONSISTENCY_DASHBOARD_UID}`;
      const timeoutMs = Math.max(ctx.cfg.readyTimeoutMs, FIRST_START_MS);
      return pollUntil(
        { name: 'grafana', rec, stateDir: ctx.cfg.stateDir, timeoutMs },
        async () => {
          const health = await fetch(`${base}/api/health`, { signal: AbortSignal.timeout(1000) });
          if (!health.ok || ((await health.json()) as { database?: string }).database !== 'ok') return false;
          // Without credentials, as a browser first asks: anonymous viewing works and provisioning found the
          // dashboards.
          return (await fetch(dashboard, { signal: AbortSignal.timeout(1000) })).ok;
        },
        `GET ${base}/api/health with "database": "ok", then GET ${dashboard} as an anonymous viewer`,
      );
    },
  };
}
