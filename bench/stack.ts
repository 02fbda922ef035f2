/**
 * Time from nothing to a healthy stack and from healthy to fully stopped, median of 5 (CQRS_BENCH_ROUNDS).
 * "Cold" starts from an empty state folder (datadirs initialised); "warm" keeps the datadirs from the last run.
 * Side by side, it also times stopping the pair with `mariadb-admin shutdown`, the usual way, to show where a
 * slow shutdown comes from.
 */
import { existsSync, rmSync } from 'node:fs';
import { execa } from 'execa';
import { stackDown, stackUp } from '../stack/index.ts';
import { instanceFor } from '../stack/mysqld.ts';
import { readRegistry } from '../stack/processes.ts';
import { API_ENTRY } from '../stack/services.ts';
import { testStackConfig } from '../test/kit/stack.ts';
import { fmtMs, median, timed } from './lib/stats.ts';

export default async function benchStack(): Promise<void> {
  const rounds = Number(process.env.CQRS_BENCH_ROUNDS ?? 5);
  const cfg = await testStackConfig({ api: true });
  const cold: number[] = [];
  const warm: number[] = [];
  const down: number[] = [];
  const adminShutdown: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      rmSync(cfg.stateDir, { recursive: true, force: true });
      cold.push((await timed(() => stackUp(cfg)))[0]);
      down.push((await timed(() => stackDown(cfg)))[0]);
      warm.push((await timed(() => stackUp(cfg)))[0]);
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
      console.log(
        `round ${i + 1}/${rounds}: cold up ${fmtMs(cold[i] as number)}, warm up ${fmtMs(warm[i] as number)}, ` +
          `down ${fmtMs(down[i] as number)}, mariadb-admin shutdown of the pair ${fmtMs(t[0])}`,
      );
    }
  } finally {
    if (Object.keys(readRegistry(cfg.stateDir)).length > 0) await stackDown(cfg);
    rmSync(cfg.stateDir, { recursive: true, force: true });
  }
  const services = existsSync(API_ENTRY) ? 'all services incl. the API' : 'all services; no API yet';
  console.log(`\nstack (${services}), median of ${rounds}:`);
  console.log(`  up from nothing (init datadirs): ${fmtMs(median(cold))}   target ≤ 5 s`);
  console.log(`  up with existing datadirs:       ${fmtMs(median(warm))}`);
  console.log(`  down from healthy:               ${fmtMs(median(down))}   target ≤ 3 s`);
  console.log(
    `  pair via mariadb-admin shutdown: ${fmtMs(median(adminShutdown))}  (ratio to our whole-stack down: ` +
      `${(median(adminShutdown) / median(down)).toFixed(1)}x)`,
  );
}
