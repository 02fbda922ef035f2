/**
 * The optional Grafana's settings, pure (stack/grafana.ts): how it is found and started, what it is told, and
 * that the provisioning it reads is the repo's own. No Grafana runs here; grafana-stack.test.ts starts a
 * stand-in, grafana-real.test.ts a real one when installed.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError } from '../../common/config-error.ts';
import { CONSISTENCY_DASHBOARD_UID } from '../../run/links.ts';
import { loadStackConfig, PROJECT_ROOT } from '../../stack/config.ts';
import {
  DASHBOARDS_DIR,
  findGrafana,
  GRAFANA_NOT_INSTALLED,
  grafanaArgs,
  grafanaEnv,
  grafanaIni,
  grafanaPaths,
  grafanaProcessEnv,
  prepareGrafana,
} from '../../stack/grafana.ts';
import { STOP_ORDER } from '../../stack/lifecycle.ts';
import { secretsFile, stackSecrets } from '../../stack/secrets.ts';

const tmp = mkdtempSync(join(tmpdir(), 'cqrs-grafana-unit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A Grafana tarball's layout: <home>/bin/<names>, <home>/public/, <home>/conf/defaults.ini. */
function fakeInstall(name: string, bins: string[], home = true): string {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  for (const b of bins) {
    writeFileSync(join(dir, 'bin', b), '#!/bin/sh\n');
    chmodSync(join(dir, 'bin', b), 0o755);
  }
  if (home) {
    mkdirSync(join(dir, 'public'));
    mkdirSync(join(dir, 'conf'));
    writeFileSync(join(dir, 'conf', 'defaults.ini'), '');
  }
  return dir;
}

const cfg = loadStackConfig({}, { stateDir: join(tmp, 'state') });
const PROM = 'http://127.0.0.1:29090';

describe('finding Grafana', () => {
  it('is skipped with one line saying how to get it when neither binary is on PATH', () => {
    expect(findGrafana({}, join(tmp, 'empty'))).toEqual({ skipped: GRAFANA_NOT_INSTALLED });
    expect(GRAFANA_NOT_INSTALLED).not.toContain('\n');
    expect(GRAFANA_NOT_INSTALLED).toMatch(
      /^grafana: not installed, skipped; .*grafana\.com\/grafana\/download/,
    );
  });

  it('takes a tarball’s home from bin/’s parent, preferring `grafana` over the legacy `grafana-server`', () => {
    const both = fakeInstall('both', ['grafana', 'grafana-server']);
    expect(findGrafana({}, join(both, 'bin'))).toEqual({
      install: { bin: join(both, 'bin', 'grafana'), legacy: false, home: both },
    });
    const legacy = fakeInstall('legacy', ['grafana-server']);
    expect(findGrafana({}, join(legacy, 'bin'))).toEqual({
      install: { bin: join(legacy, 'bin', 'grafana-server'), legacy: true, home: legacy },
    });
  });

  it('follows a symlink on PATH into the install', () => {
    const home = fakeInstall('linked', ['grafana']);
    const onPath = join(tmp, 'path-with-link');
    mkdirSync(onPath);
    symlinkSync(join(home, 'bin', 'grafana'), join(onPath, 'grafana'));
    expect(findGrafana({}, onPath)).toMatchObject({ install: { home } });
  });

  it.skipIf(existsSync('/usr/share/grafana'))(
    'skips with one line naming CQRS_GRAFANA_HOME when no home is found',
    () => {
      const bare = fakeInstall('bare', ['grafana'], false);
      const found = findGrafana({}, join(bare, 'bin'));
      expect(found).toEqual({
        skipped: expect.stringMatching(/^grafana: .* skipped; set CQRS_GRAFANA_HOME/),
      });
      expect('skipped' in found && found.skipped).not.toContain('\n');
    },
  );

  it('uses CQRS_GRAFANA_HOME when given, and refuses one that is no Grafana home', () => {
    const bare = fakeInstall('bare-override', ['grafana'], false);
    const home = fakeInstall('elsewhere', []);
    expect(loadStackConfig({ CQRS_GRAFANA_HOME: home }).grafanaHome).toBe(home);
    expect(findGrafana({ grafanaHome: home }, join(bare, 'bin'))).toMatchObject({ install: { home } });
    expect(() => findGrafana({ grafanaHome: bare }, join(bare, 'bin'))).toThrow(
      new ConfigError(
        `invalid CQRS_GRAFANA_HOME; reason: expected a Grafana home folder (holding public/ and conf/defaults.ini), got "${bare}"`,
      ),
    );
    expect(loadStackConfig({}).grafanaHome).toBeUndefined();
  });
});

describe('starting Grafana', () => {
  it('runs `grafana server` (or `grafana-server`) with the home and the stack’s own ini', () => {
    const ini = grafanaPaths(cfg.stateDir).ini;
    expect(ini).toBe(join(cfg.stateDir, 'grafana', 'grafana.ini'));
    expect(grafanaArgs({ bin: '/g/bin/grafana', legacy: false, home: '/g' }, ini)).toEqual([
      'server',
      '--homepath',
      '/g',
      '--config',
      ini,
    ]);
    expect(grafanaArgs({ bin: '/g/bin/grafana-server', legacy: true, home: '/g' }, ini)).toEqual([
      '--homepath',
      '/g',
      '--config',
      ini,
    ]);
  });

  it('listens on loopback at the stack’s port, anonymous as Viewer, with every path in the state folder', () => {
    const env = grafanaEnv(cfg, PROM);
    expect(env).toMatchObject({
      GF_SERVER_HTTP_ADDR: '127.0.0.1',
      GF_SERVER_HTTP_PORT: String(cfg.ports.grafana),
      GF_AUTH_ANONYMOUS_ENABLED: 'true',
      GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer',
      GF_USERS_ALLOW_SIGN_UP: 'false',
    });
    const state = join(cfg.stateDir, 'grafana');
    for (const key of ['DATA', 'LOGS', 'PLUGINS', 'PROVISIONING']) {
      expect(env[`GF_PATHS_${key}`], key).toBe(join(state, key.toLowerCase()));
    }
  });

  it('phones nobody: reporting, update checks, news, plugin preinstalls and external snapshots are off', () => {
    expect(grafanaEnv(cfg, PROM)).toMatchObject({
      GF_ANALYTICS_REPORTING_ENABLED: 'false',
      GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
      GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: 'false',
      GF_NEWS_NEWS_FEED_ENABLED: 'false',
      GF_PLUGINS_PREINSTALL_DISABLED: 'true',
      GF_SNAPSHOTS_EXTERNAL_ENABLED: 'false',
    });
  });

  it('hands the provisioning files the stack’s Prometheus and the repo’s dashboards folder', () => {
    const env = grafanaEnv(cfg, PROM);
    expect(env.CQRS_PROMETHEUS_URL).toBe(PROM);
    expect(env.CQRS_DASHBOARDS_DIR).toBe(join(PROJECT_ROOT, 'dashboards'));
    const consistency = JSON.parse(readFileSync(join(DASHBOARDS_DIR, 'consistency.json'), 'utf8'));
    expect(consistency.uid).toBe(CONSISTENCY_DASHBOARD_UID);
  });

  it('inherits no GF_ variable, so a shell’s GF_SECURITY_ADMIN_PASSWORD=admin cannot override the ini', () => {
    const env = grafanaProcessEnv(cfg, PROM, {
      PATH: '/usr/bin',
      GF_SECURITY_ADMIN_PASSWORD: 'admin',
      GF_AUTH_ANONYMOUS_ORG_ROLE: 'Admin',
    });
    expect(env.PATH).toBe('/usr/bin');
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toBeUndefined();
    expect(env.GF_AUTH_ANONYMOUS_ORG_ROLE).toBe('Viewer');
  });
});

describe('the state folder Grafana is given', () => {
  mkdirSync(cfg.stateDir, { recursive: true });
  const secrets = stackSecrets(cfg.stateDir);
  const ini = prepareGrafana(cfg, secrets);

  it('has a generated admin password and signing key in a 0600 ini, never admin/admin', () => {
    const text = readFileSync(ini, 'utf8');
    expect(statSync(ini).mode & 0o777).toBe(0o600);
    expect(statSync(grafanaPaths(cfg.stateDir).dir).mode & 0o777).toBe(0o700);
    expect(text).toContain(`admin_password = ${secrets.grafanaAdminPassword}`);
    expect(text).toContain(`secret_key = ${secrets.grafanaSecretKey}`);
    expect(secrets.grafanaAdminPassword.length).toBeGreaterThanOrEqual(24);
    expect(secrets.grafanaAdminPassword).not.toBe('admin');
    expect(text).not.toMatch(/admin_password = admin$/m);
    // Stable per state folder (Grafana sets the password only when it first creates its database).
    expect(stackSecrets(cfg.stateDir)).toEqual(secrets);
    expect(grafanaIni(secrets)).toBe(text);
    // Nothing secret in argv or the environment.
    const argv = grafanaArgs({ bin: 'grafana', legacy: false, home: '/g' }, ini).join(' ');
    const env = JSON.stringify(grafanaEnv(cfg, PROM));
    for (const s of [secrets.grafanaAdminPassword, secrets.grafanaSecretKey]) {
      expect(argv).not.toContain(s);
      expect(env).not.toContain(s);
    }
  });

  it('provisions a copy of the repo’s files that, interpolated as Grafana does, points at the real dashboards', () => {
    const copy = grafanaPaths(cfg.stateDir).provisioning;
    const source = join(PROJECT_ROOT, 'dashboards', 'provisioning');
    for (const sub of ['datasources', 'dashboards']) {
      for (const f of readdirSync(join(source, sub))) {
        expect(readFileSync(join(copy, sub, f), 'utf8'), `${sub}/${f}`).toBe(
          readFileSync(join(source, sub, f), 'utf8'),
        );
      }
    }
    expect(existsSync(join(copy, 'plugins')) && existsSync(join(copy, 'alerting'))).toBe(true);
    const env = grafanaEnv(cfg, PROM);
    const interpolate = (file: string) =>
      parse(readFileSync(file, 'utf8').replace(/\$\{(\w+)\}/g, (_, k: string) => env[k] ?? ''));
    const provider = interpolate(join(copy, 'dashboards', 'cqrs.yaml'));
    expect(provider.providers[0].options.path).toBe(DASHBOARDS_DIR);
    const datasource = interpolate(join(copy, 'datasources', 'prometheus.yaml'));
    expect(datasource.datasources[0].url).toBe(PROM);
  });

  it('keeps an earlier version’s Redis password when Grafana’s secrets are added', () => {
    const dir = join(tmp, 'old-state');
    mkdirSync(dir);
    writeFileSync(secretsFile(dir), JSON.stringify({ redisPassword: 'an-older-redis-password-0123' }));
    const upgraded = stackSecrets(dir);
    expect(upgraded.redisPassword).toBe('an-older-redis-password-0123');
    expect(JSON.parse(readFileSync(secretsFile(dir), 'utf8'))).toEqual(upgraded);
    expect(statSync(secretsFile(dir)).mode & 0o777).toBe(0o600);
  });

  it('is stopped first by stack:down', () => {
    expect(STOP_ORDER[0]).toBe('grafana');
  });
});
