/**
 * gtid-wait's wait, on a pool of its own. A wait holds its connection for up to CQRS_API_GTID_WAIT_TIMEOUT_MS
 * (a token from the future, e.g. `0-1-18446744073709551615`, for all of it), so waits on the reader pool let one
 * client take every connection that plain replica reads need. Here at most CQRS_API_GTID_WAIT_POOL waits run at
 * once; the others queue for a wait connection, idle (a flood of them costs no CPU and no reader connection),
 * and read the primary if none comes in time. The queue time counts against the wait timeout, so no read waits
 * longer than that, and the client-side deadline on the wait is the timeout plus one database deadline.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { Dialect } from '../../common/dialect.ts';
import type { ReadFallback } from '../../common/strategies.ts';
import { acquire, bounded, type DbCalls, settle } from '../db.ts';
import { DbTimeoutError } from '../errors.ts';
import type { WarnLog } from '../log-limit.ts';
import type { ApiMetrics } from '../metrics.ts';
import type { Lookup } from '../users/sql.ts';
import { type Found, selectReplica } from './select.ts';

export class WaitPool {
  /** Connections of `pool` in use right now (all of them are gtid-wait's). */
  inUse = 0;

  constructor(
    readonly pool: Pool,
    readonly size: number,
  ) {}

  get full(): boolean {
    return this.inUse >= this.size;
  }
}

/** What a wait runs on; execute.ts's ReadDeps has all of it. */
export interface WaitDeps {
  gtidWait: WaitPool;
  gtidWaitTimeoutMs: number;
  calls: DbCalls;
  dialect: Dialect;
  metrics: ApiMetrics;
  log: WarnLog;
}

export type WaitResult = { found: Found; waitMs: number } | { fallback: ReadFallback; waitMs: number };

/**
 * Waits for `token` on a wait connection, then reads the lookup there (no second checkout). Resolves with the
 * rows, or with why the primary has to answer; rejects with the replica's own error (an outage, or a token
 * the server cannot parse) for the caller to map.
 */
export async function waitThenRead(deps: WaitDeps, token: string, lookup: Lookup): Promise<WaitResult> {
  const { gtidWait: waits, gtidWaitTimeoutMs: budgetMs } = deps;
  const call = deps.calls.gtidWait;
  const started = performance.now();
  const conn = await acquire(waits.pool, { ...call, timeoutMs: budgetMs }).catch((err: unknown) => {
    // Every wait connection stayed busy for the whole wait timeout: as good as a timeout, said apart.
    if (err instanceof DbTimeoutError && waits.full) return 'busy' as const;
    throw err;
  });
  if (conn === 'busy') return { fallback: 'wait_busy', waitMs: 0 };
  const leftMs = budgetMs - (performance.now() - started);
  waits.inUse += 1;
  try {
    if (leftMs <= 0) {
      conn.release();
      return { fallback: 'wait_busy', waitMs: 0 };
    }
    const t0 = performance.now();
    const [rows] = await bounded(
      conn,
      leftMs + call.timeoutMs,
      call,
      conn.execute<RowDataPacket[]>(deps.dialect.waitForGtid, [token, leftMs / 1000]),
    );
    const waitMs = performance.now() - t0;
    deps.metrics.gtidWaitDuration.observe(waitMs / 1000);
    // No row or a NULL result means the wait did not say "reached" (the server could not wait): never read
    // the replica on that, whatever the dialect makes of NULL.
    const waited = rows[0]?.waited as number | string | null | undefined;
    const noResult = waited === null || waited === undefined;
    if (noResult) deps.log.warn({ token }, 'GTID wait returned no result; reading the primary');
    if (!noResult && deps.dialect.gtidWaitReached(waited)) {
      const found = await bounded(conn, call.timeoutMs, call, selectReplica(conn, lookup));
      conn.release();
      return { found, waitMs };
    }
    conn.release();
    // Counted as a timeout fallback (the wait did not reach the token); only a real timeout is a timeout.
    if (!noResult) deps.metrics.gtidWaitTimeouts.inc();
    return { fallback: 'timeout', waitMs };
  } catch (err) {
    // bounded() has dropped a connection that overran.
    if (!(err instanceof DbTimeoutError)) settle(conn, err);
    throw err;
  } finally {
    waits.inUse -= 1;
  }
}
