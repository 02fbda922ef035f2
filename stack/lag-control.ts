/**
 * `stack:lag`: applies a lag value (stack/lag.ts) to the running stack, through the delay proxy (sub-second
 * delays) or the replica itself (freeze/thaw of its SQL thread, a whole-second apply delay).
 */
import { findBinaries } from './binaries.ts';
import type { StackConfig } from './config.ts';
import { StackError } from './errors.ts';
import { parseLag } from './lag.ts';
import { adminConnection } from './mysqld.ts';
import { isRunning, readRegistry } from './processes.ts';
import { makeContext } from './services.ts';

/** Applies a `stack:lag` value to the running stack; returns a one-line description of what changed. */
export async function setLag(cfg: StackConfig, raw: string): Promise<string> {
  const cmd = parseLag(raw);
  const bins = await findBinaries();
  const ctx = makeContext(cfg, bins);
  if (cmd.kind === 'proxy') {
    const res = await fetch(`${ctx.endpoints.delayProxyControlUrl}/delay`, {
      method: 'PUT',
      body: JSON.stringify({ delayMs: cmd.delayMs }),
    }).catch(() => {
      throw new StackError('the delay proxy is not running; run npm run stack:up first');
    });
    if (!res.ok) throw new StackError(`the delay proxy refused the delay: ${await res.text()}`);
    return `replication delay set to ${cmd.delayMs} ms (delay proxy)`;
  }
  if (!isRunning(readRegistry(cfg.stateDir).replica)) {
    throw new StackError('the replica is not running; run npm run stack:up first');
  }
  const replica = await adminConnection(ctx.replica);
  try {
    if (cmd.kind === 'freeze') {
      await replica.query(ctx.dialect.stopSqlThread);
      return 'replica SQL thread stopped: reads on the replica are frozen';
    }
    if (cmd.kind === 'thaw') {
      await replica.query(ctx.dialect.startSqlThread);
      return 'replica SQL thread started: the replica catches up';
    }
    await replica.query(ctx.dialect.stopReplica);
    await replica.query(ctx.dialect.setApplyDelay(cmd.seconds));
    await replica.query(ctx.dialect.startReplica);
    return `replica apply delay set to ${cmd.seconds} s (${ctx.dialect.applyDelayOption})`;
  } finally {
    await replica.end();
  }
}
