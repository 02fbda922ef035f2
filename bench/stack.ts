/**
 * Time from nothing to a healthy stack and from healthy to fully stopped, median of 5 (CQRS_BENCH_ROUNDS).
 * "Cold" starts from an empty state folder (datadirs initialised); "warm" keeps the datadirs from the last run.
 * Each figure is taken twice: through the library call, and through `npm run stack:*` as users type it, so
 * the difference is what a command pays to start. The start-up itself is timed on its own: the bundle
 * launcher (build/node-cli.mjs) against tsx, the path the commands took before, and a bare `node`.
 * Side by side, it also times stopping the pair with `mariadb-admin shutdown`, the usual way, to show where a
 * slow shutdown comes from.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { BENCH_VARS } from '../config/bench.ts';
import { pick, readEnv } from '../config/env.ts';
import { stackDown, stackStatus, stackUp } from '../stack/index.ts';
import { instanceFor } from '../stack/mysqld.ts';
import { readRegistry } from '../stack/processes.ts';
import { API_ENTRY } from '../stack/services.ts';
import { portEnv, testStackConfig } from '../test/kit/stack.ts';
import { fmtMs, median, timed } from './lib/stats.ts';

const root = resolve(import.meta.dirname, '..');
const launcher = join(root, 'build', 'node-cli.mjs');
const tsx = join(root, 'node_modules', '.bin', 'tsx');

/** Wall time of one command; `ok` lists the exit codes it is meant to end with. */
async function run(cmd: string, args: string[], env: Record<string, string>, ok = [0]): Promise<number> {
  const t0 = performance.now();
  const res = await execa(cmd, args, { cwd: root, env, reject: false });
  const ms = performance.now() - t0;
  if (!ok.includes(res.exitCode ?? -1)) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${res.exitCode}: ${res.stderr.split('\n')[0]}`);
  }
  return ms;
}

export default async function benchStack(): Promise<void> {
  const { rounds } = readEnv(pick(BENCH_VARS, 'rounds'), process.env);
  const cfg = await testStackConfig({ api: true });
  const env = { ...portEnv(cfg.ports), CQRS_STACK_DIR: cfg.stateDir };
  const npm = (script: string, ...args: string[]) =>
    run('npm', ['run', '--silent', script, '--', ...args], env);
  const lib = { cold: [] as number[], warm: [] as number[], down: [] as number[], status: [] as number[] };
  const cli = { cold: [] as number[], warm: [] as number[], down: [] as number[], status: [] as number[] };
  // The same commands without npm in front: through the launcher, and through tsx (the path before it).
  const direct = { status: [] as number[], down: [] as number[] };
  const viaTsx = { status: [] as number[], down: [] as number[] };
  const start = {
    node: [] as number[],
    launcher: [] as number[],
    launcherBuild: [] as number[],
    tsx: [] as number[],
    npm: [] as number[],
  };
  const adminShutdown: number[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'cqrs-bench-build-'));
  try {
    for (let i = 0; i < rounds; i++) {
      rmSync(cfg.stateDir, { recursive: true, force: true });
      lib.cold.push((await timed(() => stackUp(cfg)))[0]);
      lib.status.push((await timed(() => stackStatus(cfg)))[0]);
      lib.down.push((await timed(() => stackDown(cfg)))[0]);
      lib.warm.push((await timed(() => stackUp(cfg)))[0]);
      // The usual way: mariadb-admin shutdown per server (it polls the pid file once a second).
      const t = await timed(async () => {
        for (const role of ['replica', 'primary'] as const) {
          const inst = instanceFor(cfg.stateDir, role, cfg.ports[role]);
          await execa('mariadb-admin', [`--socket=${inst.socket}`, '--user=root', 'shutdown'], {
            reject: false,
          });
        }
      });
      adminShutdown.push(t[0]);
      await stackDown(cfg); // the rest of the stack; not a clean measurement, so not recorded

      rmSync(cfg.stateDir, { recursive: true, force: true });
      cli.cold.push(await npm('stack:up'));
      cli.status.push(await npm('stack:status'));
      cli.down.push(await npm('stack:down'));
      cli.warm.push(await npm('stack:up'));
      direct.status.push(await run('node', [launcher, 'stack/cli.ts', 'status'], env));
      viaTsx.status.push(await run(tsx, ['stack/cli.ts', 'status'], env));
      viaTsx.down.push(await run(tsx, ['stack/cli.ts', 'down'], env));
      await npm('stack:up'); // to have something to stop again; not recorded
      direct.down.push(await run('node', [launcher, 'stack/cli.ts', 'down'], env));

      // Start-up alone: the CLI with no command loads everything, prints its usage and exits 2.
      start.node.push(await run('node', ['-e', ''], env));
      start.launcher.push(await run('node', [launcher, 'stack/cli.ts'], env, [2]));
      start.tsx.push(await run(tsx, ['stack/cli.ts'], env, [2]));
      // `npm run stack:lag` without a value fails once loaded: npm's own start-up included.
      start.npm.push(await run('npm', ['run', '--silent', 'stack:lag'], env, [1]));
      // First use: the launcher builds the bundle into an empty cache, then runs it.
      const cache = join(scratch, String(i));
      start.launcherBuild.push(
        await run('node', [launcher, 'stack/cli.ts'], { ...env, CQRS_NODE_BUILD_DIR: cache }, [2]),
      );
      console.log(
        `round ${i + 1}/${rounds}: up cold ${fmtMs(lib.cold[i] as number)} / CLI ${fmtMs(cli.cold[i] as number)}, ` +
          `warm ${fmtMs(lib.warm[i] as number)} / CLI ${fmtMs(cli.warm[i] as number)}, ` +
          `status ${fmtMs(lib.status[i] as number)} / CLI ${fmtMs(cli.status[i] as number)}, ` +
          `down ${fmtMs(lib.down[i] as number)} / CLI ${fmtMs(cli.down[i] as number)}, ` +
          `mariadb-admin shutdown of the pair ${fmtMs(t[0])}`,
      );
    }
  } finally {
    if (Object.keys(readRegistry(cfg.stateDir)).length > 0) await stackDown(cfg);
    rmSync(cfg.stateDir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
  await benchCluster(rounds);
  const services = existsSync(API_ENTRY) ? 'all services incl. the API' : 'all services; no API yet';
  const m = (v: number[]) => fmtMs(median(v)).padStart(8);
  const row = (label: string, l: number[], c: number[], extra = '') =>
    console.log(`  ${label.padEnd(34)}${m(l)}  ${m(c)}  ${m(c.map((v, i) => v - (l[i] as number)))}${extra}`);
  console.log(`\nstack (${services}), median of ${rounds}:`);
  console.log(
    `  ${''.padEnd(34)}${'library'.padStart(8)}  ${'npm run'.padStart(8)}  ${'npm−lib'.padStart(8)}`,
  );
  row('up from nothing (init datadirs)', lib.cold, cli.cold, '   target ≤ 5 s');
  row('up with existing datadirs', lib.warm, cli.warm);
  row('status (healthy, lag measured)', lib.status, cli.status);
  row('down from healthy', lib.down, cli.down, '   target ≤ 3 s');
  console.log(
    `  pair via mariadb-admin shutdown: ${fmtMs(median(adminShutdown))}  (ratio to our whole-stack down: ` +
      `${(median(adminShutdown) / median(lib.down)).toFixed(1)}x)`,
  );
  const startRow = (label: string, v: number[], note = '') =>
    console.log(`  ${label.padEnd(38)}${m(v)}${note}`);
  console.log(`\nstart-up of a command (the CLI printing its usage), median of ${rounds}:`);
  startRow("node -e ''", start.node, '   the floor');
  startRow('node build/node-cli.mjs stack/cli.ts', start.launcher, '   target ≤ 0.3 s');
  startRow('the same, first use (builds)', start.launcherBuild);
  startRow('npm run stack:lag (npm included)', start.npm);
  startRow('tsx stack/cli.ts (before)', start.tsx);
  console.log(
    `\nwithout npm in front, median of ${rounds}:  ${'launcher'.padStart(8)}  ${'tsx'.padStart(8)}`,
  );
  for (const [label, key] of [
    ['status', 'status'],
    ['down from healthy', 'down'],
  ] as const) {
    console.log(`  ${label.padEnd(31)}${m(direct[key])}  ${m(viaTsx[key])}`);
  }
}

/**
 * The cluster topology, side by side in one run: up from nothing (node 1 initialised and seeded, the joiners
 * then need at most an incremental transfer), up with existing datadirs, and down; and what the joiners cost
 * without the seed: node 1's datadir kept, nodes 2 and 3 initialised empty, joining by a full rsync state
 * transfer. That start skips node 1's initialisation and the seeding, so it is compared with the warm start
 * (same node 1 work), not with the seeded one.
 */
async function benchCluster(rounds: number): Promise<void> {
  const cfg = await testStackConfig({ topology: 'cluster' });
  const t = { seeded: [] as number[], fullSst: [] as number[], warm: [] as number[], down: [] as number[] };
  try {
    for (let i = 0; i < rounds; i++) {
      rmSync(cfg.stateDir, { recursive: true, force: true });
      t.seeded.push((await timed(() => stackUp(cfg)))[0]);
      t.down.push((await timed(() => stackDown(cfg)))[0]);
      t.warm.push((await timed(() => stackUp(cfg)))[0]);
      await stackDown(cfg);
      // node 1 keeps its datadir, so nothing is seeded: the joiners are initialised empty and take a full SST.
      for (const n of ['node2', 'node3']) rmSync(join(cfg.stateDir, n), { recursive: true, force: true });
      t.fullSst.push((await timed(() => stackUp(cfg)))[0]);
      await stackDown(cfg);
      console.log(
        `cluster round ${i + 1}/${rounds}: up seeded ${fmtMs(t.seeded[i] as number)}, full SST ` +
          `${fmtMs(t.fullSst[i] as number)}, warm ${fmtMs(t.warm[i] as number)}, down ${fmtMs(t.down[i] as number)}`,
      );
    }
  } finally {
    if (Object.keys(readRegistry(cfg.stateDir)).length > 0) await stackDown(cfg);
    rmSync(cfg.stateDir, { recursive: true, force: true });
  }
  const m = (v: number[]) => fmtMs(median(v)).padStart(8);
  console.log(`\ncluster topology (3 Galera nodes, no API), median of ${rounds}:`);
  console.log(`  ${'up from nothing (seeded, IST only)'.padEnd(44)}${m(t.seeded)}`);
  console.log(`  ${'up with existing datadirs'.padEnd(44)}${m(t.warm)}`);
  console.log(
    `  ${'up with node1 only, joiners by full SST'.padEnd(44)}${m(t.fullSst)}   ratio to warm ${(median(t.fullSst) / median(t.warm)).toFixed(2)}x`,
  );
  console.log(`  ${'down from healthy'.padEnd(40)}${m(t.down)}`);
}
