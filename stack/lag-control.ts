/**
 * `stack:lag`: applies a lag value (stack/lag.ts) to the running stack. On the async topology, through the
 * delay proxy (sub-second delays) or the replica itself (freeze/thaw of its SQL thread, a whole-second apply
 * delay). On the cluster topology only freeze and thaw: the reader node's applier paused (reader-freeze.ts).
 * A fixed delay cannot be made honestly there: delaying the group link delays every commit too (a Galera
 * commit waits for the group's total order), and Galera has no apply delay; docs/topologies.md says so.
 */
import { findBinaries } from './binaries.ts';
import type { StackConfig } from './config.ts';
import { putJson } from './control-request.ts';
import { StackError } from './errors.ts';
import { waitForSynced } from './galera.ts';
import { parseLag } from './lag.ts';
import { runningTopology, stopService } from './lifecycle.ts';
import { adminConnection } from './mysqld.ts';
import { isRunning, readRegistry } from './processes.ts';
import { makeContext, readyFreeze, type StackContext, startFreeze } from './services.ts';

/** Applies a `stack:lag` value to the running stack; returns a one-line description of what changed. */
export async function setLag(cfg: StackConfig, raw: string): Promise<string> {
  const cmd = parseLag(raw);
  const bins = await findBinaries();
  const registry = readRegistry(cfg.stateDir);
  const topology = runningTopology(registry, cfg.stateDir) ?? cfg.topology;
  const ctx = makeContext({ ...cfg, topology }, bins);
  if (topology === 'cluster') return setClusterLag(ctx, cmd, raw);
  if (cmd.kind === 'proxy') {
    const res = await putJson(`${ctx.endpoints.delayProxyControlUrl}/delay`, { delayMs: cmd.delayMs }).catch(
      () => {
        throw new StackError('the delay proxy is not running; run npm run stack:up first');
      },
    );
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

/**
 * freeze: a process holding FLUSH TABLES WITH READ LOCK on node 2 (reader-freeze.ts), once node 2 shows itself
 * desynced. thaw (and 0): that process stopped, once node 2 is Synced again, i.e. has applied its backlog.
 */
async function setClusterLag(
  ctx: StackContext,
  cmd: ReturnType<typeof parseLag>,
  raw: string,
): Promise<string> {
  const { cfg } = ctx;
  const registry = readRegistry(cfg.stateDir);
  if (!isRunning(registry.node2)) {
    throw new StackError('the reader node (node2) is not running; run npm run stack:up first');
  }
  const frozen = registry['reader-freeze'];
  if (cmd.kind === 'freeze') {
    if (isRunning(frozen)) return `node2 is already frozen (reader-freeze pid ${frozen.pid})`;
    const rec = startFreeze(ctx);
    try {
      await readyFreeze(ctx, rec);
    } catch (err) {
      await stopService(cfg, 'reader-freeze');
      throw err;
    }
    return "node2's applier paused (FLUSH TABLES WITH READ LOCK, desynced): reads on the reader are frozen";
  }
  if (cmd.kind === 'thaw' || (cmd.kind === 'proxy' && cmd.delayMs === 0)) {
    if (!isRunning(frozen)) return 'node2 is not frozen: nothing to thaw';
    await stopService(cfg, 'reader-freeze');
    await waitForSynced(ctx.replica, registry.node2, cfg.readyTimeoutMs);
    return "node2's applier resumed: the reader caught up and is Synced";
  }
  throw new StackError(
    `invalid lag "${raw}" on the cluster topology: only freeze, thaw and 0 are honest there (a delay on Galera's group link would delay every commit as well; see docs/topologies.md)`,
  );
}
