/**
 * A real Grafana in a real stack, only where one is installed (`grafana` or `grafana-server` on PATH); skipped
 * otherwise, as on this project's CI, where grafana-stack.test.ts proves the wiring with a stand-in.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { which } from '../../stack/binaries.ts';
import type { StackConfig } from '../../stack/config.ts';
import { stackDown, stackUp } from '../../stack/index.ts';
import { readRegistry } from '../../stack/processes.ts';
import { stackSecrets } from '../../stack/secrets.ts';
import { testStackConfig } from '../kit/stack.ts';

const REAL = which('grafana') ?? which('grafana-server');
const title = REAL
  ? `a real Grafana (${REAL})`
  : 'a real Grafana: SKIPPED, no grafana or grafana-server on PATH (the stand-in test covers the wiring)';

describe.runIf(REAL)(title, () => {
  let cfg: StackConfig;
  let url: string;
  beforeAll(async () => {
    cfg = await testStackConfig();
    const up = await stackUp(cfg);
    url = up.grafanaUrl as string;
  }, 300_000);
  afterAll(async () => {
    if (cfg) await stackDown(cfg, { purge: true });
  });

  const get = (path: string, auth?: string) =>
    fetch(`${url}${path}`, auth ? { headers: { authorization: `Basic ${btoa(auth)}` } } : {});

  it('is healthy and on loopback at the stack’s port', async () => {
    expect(url).toBe(`http://127.0.0.1:${cfg.ports.grafana}`);
    expect(await (await get('/api/health')).json()).toMatchObject({ database: 'ok' });
  });

  it('shows every provisioned dashboard to an anonymous viewer, who cannot change them', async () => {
    const res = await get('/api/dashboards/uid/cqrs-consistency');
    expect(res.status).toBe(200);
    const found = (await (await get('/api/search?type=dash-db')).json()) as { uid: string }[];
    expect(found.map((d) => d.uid)).toEqual(
      expect.arrayContaining(['cqrs-consistency', 'cqrs-load', 'cqrs-replication']),
    );
    const write = await fetch(`${url}/api/dashboards/db`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dashboard: { title: 'anonymous edit' }, overwrite: true }),
    });
    expect([401, 403]).toContain(write.status);
  });

  it('has the datasource pointing at the stack’s Prometheus, behind the generated admin password only', async () => {
    const { grafanaAdminPassword } = stackSecrets(cfg.stateDir);
    const ds = await get('/api/datasources/uid/cqrs-prometheus', `admin:${grafanaAdminPassword}`);
    expect(ds.status).toBe(200);
    expect(((await ds.json()) as { url: string }).url).toBe(`http://127.0.0.1:${cfg.ports.prometheus}`);
    expect((await get('/api/datasources/uid/cqrs-prometheus', 'admin:admin')).status).toBe(401);
    const pid = readRegistry(cfg.stateDir).grafana?.pid as number;
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8')).not.toContain(grafanaAdminPassword);
  });
});
