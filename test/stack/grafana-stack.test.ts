/**
 * The optional Grafana in a real stack (temp state folder, free ports). Grafana itself is not installed here, so:
 * first the stack with no Grafana on PATH (one line about it, the rest unchanged), then a throwaway STAND-IN
 * executable named grafana-server, which is not Grafana: it records its argv and environment, reads the
 * provisioning as Grafana would, and answers the two readiness requests, proving stack:up's wiring.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GRAFANA_NOT_INSTALLED, grafanaPaths } from '../../stack/grafana.ts';
import { stackDown, stackStatus, stackUp } from '../../stack/index.ts';
import { isRunning, readRegistry } from '../../stack/processes.ts';
import { stackSecrets } from '../../stack/secrets.ts';
import { processesMentioning } from '../helpers/processes.ts';
import { testStackConfig } from '../kit/stack.ts';

const cfg = await testStackConfig();
const originalPath = process.env.PATH ?? '';
/** PATH without any real Grafana, so these tests mean the same on a machine that has one. */
const noGrafanaPath = originalPath
  .split(delimiter)
  .filter((d) => !existsSync(join(d, 'grafana')) && !existsSync(join(d, 'grafana-server')))
  .join(delimiter);

const standIn = mkdtempSync(join(tmpdir(), 'cqrs-grafana-standin-'));
const standInBin = join(standIn, 'bin');

/** NOT Grafana: a Node script named grafana-server, laid out as a tarball install (bin/, public/, conf/). */
const STAND_IN = `#!/usr/bin/env node
// Stand-in for grafana-server, written by test/stack/grafana-stack.test.ts. Not Grafana.
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const args = process.argv.slice(2);
const home = args[args.indexOf('--homepath') + 1];
if (fs.existsSync(path.join(home, 'fail'))) {
  console.error('stand-in: told to fail');
  process.exit(3);
}
const env = process.env;
// Provisioning as Grafana reads it: the dashboard provider's path, with \${VAR} taken from the environment.
const provider = fs.readFileSync(path.join(env.GF_PATHS_PROVISIONING, 'dashboards', 'cqrs.yaml'), 'utf8');
const dir = /path: (.+)/.exec(provider)[1].trim().replace(/\\$\\{(\\w+)\\}/g, (_, k) => env[k] || '');
const uids = fs.readdirSync(dir).filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).uid);
const recorded = Object.fromEntries(Object.entries(env).filter(([k]) => /^(GF|CQRS)_/.test(k)));
fs.writeFileSync(path.join(home, 'seen.json'), JSON.stringify({ argv: args, env: recorded, uids, cwd: process.cwd() }));
const anonymousViewer = env.GF_AUTH_ANONYMOUS_ENABLED === 'true' && env.GF_AUTH_ANONYMOUS_ORG_ROLE === 'Viewer';
http.createServer((req, res) => {
  const dash = /^\\/api\\/dashboards\\/uid\\/([\\w-]+)$/.exec(req.url);
  if (req.url === '/api/health') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ database: 'ok', version: 'stand-in' }));
  } else if (dash && anonymousViewer && !req.headers.authorization && uids.includes(dash[1])) {
    res.end(JSON.stringify({ dashboard: { uid: dash[1] } }));
  } else {
    res.statusCode = dash ? 401 : 404;
    res.end();
  }
}).listen(Number(env.GF_SERVER_HTTP_PORT), env.GF_SERVER_HTTP_ADDR);
process.on('SIGTERM', () => process.exit(0));
`;

function installStandIn(): void {
  mkdirSync(standInBin, { recursive: true });
  mkdirSync(join(standIn, 'public'), { recursive: true });
  mkdirSync(join(standIn, 'conf'), { recursive: true });
  writeFileSync(join(standIn, 'conf', 'defaults.ini'), '');
  writeFileSync(join(standInBin, 'grafana-server'), STAND_IN);
  chmodSync(join(standInBin, 'grafana-server'), 0o755);
}

async function up(path: string) {
  const lines: string[] = [];
  process.env.PATH = path;
  try {
    return { ...(await stackUp(cfg, (l) => lines.push(l))), lines };
  } finally {
    process.env.PATH = originalPath;
  }
}

afterAll(async () => {
  process.env.PATH = originalPath;
  await stackDown(cfg, { purge: true });
  rmSync(standIn, { recursive: true, force: true });
});

describe('stack:up without Grafana', () => {
  it('says so in exactly one line and brings up everything else', async () => {
    const result = await up(noGrafanaPath);
    expect(result.lines.filter((l) => /grafana/i.test(l))).toEqual([GRAFANA_NOT_INSTALLED]);
    expect(result.grafanaUrl).toBeUndefined();
    expect(result.started).toEqual(
      expect.arrayContaining([
        'primary',
        'replica',
        'delay-proxy',
        'redis',
        'prometheus',
        'exporter-primary',
        'exporter-replica',
      ]),
    );
    expect(result.started).not.toContain('grafana');
    const status = await stackStatus(cfg);
    expect(status.healthy).toBe(true);
    expect(status.services.map((s) => s.name)).not.toContain('grafana');
    // The endpoint files still name where Grafana would be (npm start asks it whether it runs).
    const json = JSON.parse(readFileSync(result.jsonFile, 'utf8'));
    expect(json.grafanaUrl).toBe(`http://127.0.0.1:${cfg.ports.grafana}`);
  });
});

describe('stack:up with a STAND-IN grafana-server on PATH (a test double, not Grafana)', () => {
  it('refuses to start when Grafana’s port is taken, naming the variable that moves it', async () => {
    installStandIn();
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(cfg.ports.grafana, cfg.host, r));
    try {
      await expect(up(`${standInBin}${delimiter}${noGrafanaPath}`)).rejects.toThrow(
        `port ${cfg.ports.grafana} (grafana) is already in use on 127.0.0.1; stop what holds it or set CQRS_STACK_PORT_GRAFANA`,
      );
    } finally {
      await new Promise((r) => squatter.close(r));
    }
    expect(readRegistry(cfg.stateDir).grafana).toBeUndefined();
  });

  it('stops a stand-in that fails to start, leaving the running stack as it was', async () => {
    writeFileSync(join(standIn, 'fail'), '');
    const before = readRegistry(cfg.stateDir);
    try {
      await expect(up(`${standInBin}${delimiter}${noGrafanaPath}`)).rejects.toThrow(
        /^grafana exited during start-up \(.*stand-in: told to fail/,
      );
    } finally {
      rmSync(join(standIn, 'fail'));
    }
    expect(readRegistry(cfg.stateDir)).toEqual(before);
    expect((await stackStatus(cfg)).healthy).toBe(true);
  });

  it('starts it with the provisioned wiring, waits for its readiness, prints its URL', async () => {
    process.env.GF_SECURITY_ADMIN_PASSWORD = 'admin';
    let result: Awaited<ReturnType<typeof up>>;
    try {
      result = await up(`${standInBin}${delimiter}${noGrafanaPath}`);
    } finally {
      delete process.env.GF_SECURITY_ADMIN_PASSWORD;
    }
    const url = `http://127.0.0.1:${cfg.ports.grafana}`;
    expect(result.started).toEqual(['grafana']);
    expect(result.grafanaUrl).toBe(url);
    expect(result.lines.filter((l) => /grafana/i.test(l))).toEqual([
      expect.stringMatching(/^ {2}✓ grafana ready/),
      expect.stringMatching(new RegExp(`^grafana: ${url} \\(anonymous read-only; .*secrets\\.json\\)$`)),
    ]);

    const paths = grafanaPaths(cfg.stateDir);
    const seen = JSON.parse(readFileSync(join(standIn, 'seen.json'), 'utf8'));
    expect(seen.argv).toEqual(['--homepath', standIn, '--config', paths.ini]);
    expect(seen.env).toMatchObject({
      GF_SERVER_HTTP_ADDR: '127.0.0.1',
      GF_SERVER_HTTP_PORT: String(cfg.ports.grafana),
      GF_AUTH_ANONYMOUS_ENABLED: 'true',
      GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer',
      GF_PATHS_PROVISIONING: paths.provisioning,
      GF_PATHS_DATA: paths.data,
      CQRS_PROMETHEUS_URL: result.endpoints.prometheusUrl,
    });
    // The shell's GF_SECURITY_ADMIN_PASSWORD=admin did not reach it; the generated one is only in the 0600 ini.
    expect(seen.env.GF_SECURITY_ADMIN_PASSWORD).toBeUndefined();
    const { grafanaAdminPassword } = stackSecrets(cfg.stateDir);
    expect(readFileSync(paths.ini, 'utf8')).toContain(`admin_password = ${grafanaAdminPassword}`);
    // Provisioning, as the stand-in read it, led to the repo's dashboards.
    expect(seen.uids).toEqual(expect.arrayContaining(['cqrs-consistency', 'cqrs-load', 'cqrs-replication']));
    const pid = readRegistry(cfg.stateDir).grafana?.pid as number;
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(grafanaAdminPassword);
  });

  it('is shown by status and reused, URL printed again, by a second up', async () => {
    const status = await stackStatus(cfg);
    expect(status.services.find((s) => s.name === 'grafana')).toMatchObject({ running: true });
    expect(status.healthy).toBe(true);
    const again = await up(`${standInBin}${delimiter}${noGrafanaPath}`);
    expect(again.started).toEqual([]);
    expect(again.reused).toContain('grafana');
    expect(again.grafanaUrl).toBe(`http://127.0.0.1:${cfg.ports.grafana}`);
  });

  it('is stopped first, by PID, on down', async () => {
    const rec = readRegistry(cfg.stateDir).grafana;
    expect(isRunning(rec)).toBe(true);
    const stopped = await stackDown(cfg, { purge: true });
    expect(stopped[0]).toBe('grafana');
    expect(isRunning(rec)).toBe(false);
    expect(processesMentioning(cfg.stateDir)).toEqual([]);
  });
});
