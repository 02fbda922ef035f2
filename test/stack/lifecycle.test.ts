import { existsSync } from 'node:fs';
import { execa } from 'execa';
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { toEnv } from '../../common/endpoints.ts';
import { setLag, stackDown, stackStatus, stackUp } from '../../stack/index.ts';
import { isRunning, readRegistry } from '../../stack/processes.ts';
import { processesMentioning } from '../helpers/processes.ts';
import { testStackConfig } from '../kit/stack.ts';

const cfg = await testStackConfig();

afterAll(async () => {
  await stackDown(cfg, { purge: true });
});

describe('stack lifecycle', () => {
  it('comes up, reports healthy with a measured lag, and writes the env file and its JSON twin', async () => {
    const up = await stackUp(cfg);
    expect(up.reused).toEqual([]);
    expect(up.started).toEqual(
      expect.arrayContaining(['primary', 'replica', 'delay-proxy', 'redis', 'prometheus']),
    );
    expect(existsSync(up.envFile) && existsSync(up.jsonFile)).toBe(true);
    // The env file loads in a POSIX shell as the README says, giving exactly the stack's values.
    const sourced = await execa('bash', ['-c', `set -a; . '${up.envFile}'; set +a; env -0`], { env: {} });
    const vars = Object.fromEntries(
      sourced.stdout.split('\0').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    for (const [k, v] of Object.entries(toEnv(up.endpoints))) expect(vars[k]).toBe(v);
    const status = await stackStatus(cfg);
    expect(status.healthy).toBe(true);
    expect(status.replication).toMatchObject({ ioRunning: 'Yes', sqlRunning: 'Yes' });
    expect(status.replicaLagMs).toBeTypeOf('number');
    expect(status.replicaLagBasis).toBe('apply-stamp');
  });

  it('status reports the injected lag through the scenarios’ heartbeat estimator', async () => {
    await setLag(cfg, '50ms');
    try {
      await new Promise((r) => setTimeout(r, 200));
      const status = await stackStatus(cfg);
      expect(status.proxyDelayMs).toBe(50);
      expect(status.replicaLagBasis).toBe('apply-stamp');
      // The replica's own apply stamp: the delay plus about a millisecond of replication, not a poll loop.
      expect(status.replicaLagMs).toBeGreaterThanOrEqual(50);
      expect(status.replicaLagMs).toBeLessThan(58);
    } finally {
      await setLag(cfg, '0');
    }
  });

  it('runs Prometheus with the remote-write receiver, scraping both exporters with replica status', async () => {
    const prom = `http://127.0.0.1:${cfg.ports.prometheus}`;
    // A garbage body is refused with 400 by the receiver; without the receiver the path would be 404.
    const write = await fetch(`${prom}/api/v1/write`, { method: 'POST', body: 'garbage' });
    expect(write.status).toBe(400);
    const query = async (q: string) => {
      const res = (await (await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as {
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      return res.data.result;
    };
    const deadline = Date.now() + 20_000;
    let io: Awaited<ReturnType<typeof query>> = [];
    let heartbeat: Awaited<ReturnType<typeof query>> = [];
    let up: Awaited<ReturnType<typeof query>> = [];
    while (Date.now() < deadline && (io.length === 0 || heartbeat.length === 0 || up.length < 2)) {
      await new Promise((r) => setTimeout(r, 250));
      io = await query('mysql_slave_status_slave_io_running{role="replica"} == 1');
      heartbeat = await query('mysql_heartbeat_stored_timestamp_seconds{role="replica"}');
      up = await query('up{job="mysqld"} == 1');
    }
    expect(io).toHaveLength(1);
    // stackStatus wrote a heartbeat row on the primary; the replica's exporter reads it back.
    expect(heartbeat.length).toBeGreaterThan(0);
    expect(up.map((r) => r.metric.role).sort()).toEqual(['primary', 'replica']);
  });

  it('reuses what is already healthy on a second up', async () => {
    const before = readRegistry(cfg.stateDir);
    const again = await stackUp(cfg);
    expect(again.started).toEqual([]);
    expect(again.reused.length).toBeGreaterThanOrEqual(7);
    expect(readRegistry(cfg.stateDir)).toEqual(before);
  });

  it('keeps acknowledged rows across down and up (no purge)', async () => {
    const w = await mysql.createConnection({ ...(await stackUp(cfg)).endpoints.writer });
    await w.execute(
      "INSERT INTO probe_rows (tag, run_id, runner, vu, iter) VALUES ('durable', 'lifecycle', '0', 0, 0)",
    );
    await w.end();
    await stackDown(cfg);
    const lines: string[] = [];
    const up = await stackUp(cfg, (l) => lines.push(l));
    // The datadirs this stack initialised are the servers' already: nothing to hand over on a restart (the
    // initialiser's own mysql_upgrade_info was root's, and read as another user's datadir).
    expect(lines.filter((l) => /handed to OS user/.test(l))).toEqual([]);
    for (const ep of [up.endpoints.writer, up.endpoints.reader]) {
      const c = await mysql.createConnection({ ...ep });
      const [rows] = await c.query<RowDataPacket[]>("SELECT tag FROM probe_rows WHERE tag = 'durable'");
      await c.end();
      expect(rows).toHaveLength(1);
    }
  });

  it('leaves no process of the stack running after down, and purge deletes the data', async () => {
    const registry = readRegistry(cfg.stateDir);
    expect(Object.keys(registry).length).toBeGreaterThanOrEqual(7);
    await stackDown(cfg, { purge: true });
    for (const rec of Object.values(registry)) expect(isRunning(rec)).toBe(false);
    expect(processesMentioning(cfg.stateDir)).toEqual([]);
    expect(existsSync(cfg.stateDir)).toBe(false);
  });
});
