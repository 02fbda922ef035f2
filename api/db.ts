/**
 * Every database call the API makes has a deadline covering both the wait for a pooled connection and its
 * statements. mysql2 bounds neither on its own: a pool queues waiters without a time limit, and a per-query
 * `timeout` leaves the connection mid-protocol while `pool.execute` hands it back to the pool anyway. So the
 * deadline is kept here: a connection whose statement overran it is destroyed, never released, and one that
 * arrives after it is handed straight back. A paused server (SIGSTOP) thus costs each request at most its
 * deadline, and its stuck connections are gone when it resumes.
 */
import type { Pool, PoolConnection } from 'mysql2/promise';
import { STRATEGY_POOLS, type StrategyPool } from '../common/strategies.ts';
import { DbTimeoutError, isOutage } from './errors.ts';

/** The pools as /metrics labels them: the shared two, then each strategy's own (common/strategies.ts). */
export type PoolLabel = 'writer' | 'reader' | StrategyPool;
export const POOL_LABELS: readonly PoolLabel[] = ['writer', 'reader', ...STRATEGY_POOLS];

export interface DbCall {
  timeoutMs: number;
  /** Told about every deadline that passed (a metric). */
  onTimeout?(phase: DbTimeoutError['phase']): void;
}

/** Drops a connection at once: no FIN handshake with a server that may never answer it. */
export function discard(conn: PoolConnection): void {
  conn.destroy();
  (conn.connection as unknown as { stream?: { destroy(): void } }).stream?.destroy();
}

/** After a failed statement: a lost connection is dropped, a statement error (e.g. 1062) leaves it usable. */
export function settle(conn: PoolConnection, err: unknown): void {
  if (isOutage(err)) discard(conn);
  else conn.release();
}

/** A pooled connection within `call.timeoutMs`, else a DbTimeoutError('acquire'). */
export function acquire(pool: Pool, call: DbCall): Promise<PoolConnection> {
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      call.onTimeout?.('acquire');
      reject(new DbTimeoutError('acquire', call.timeoutMs));
    }, call.timeoutMs);
    pool.getConnection().then(
      (conn) => {
        // A waiter the pool served after its deadline: the connection is fine, only nobody wants it now.
        if (late) return conn.release();
        clearTimeout(timer);
        resolve(conn);
      },
      (err: unknown) => {
        if (late) return;
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * `work` on `conn` within `ms`. Past it the connection is destroyed (its statement may still be running, or
 * its answer still on the way) and the call rejects with DbTimeoutError('query'). The connection is neither
 * released nor destroyed when `work` settles in time: the caller owns it.
 */
export function bounded<T>(conn: PoolConnection, ms: number, call: DbCall, work: Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    let late = false;
    const timer = setTimeout(
      () => {
        late = true;
        discard(conn);
        call.onTimeout?.('query');
        reject(new DbTimeoutError('query', call.timeoutMs));
      },
      Math.max(0, ms),
    );
    work.then(
      (value) => {
        if (late) return;
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        if (late) return;
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * One pooled connection for `work`, acquisition and statements within `call.timeoutMs` together; released
 * after, or dropped if the deadline passed or the connection broke.
 */
export async function withConnection<T>(
  pool: Pool,
  call: DbCall,
  work: (conn: PoolConnection) => Promise<T>,
): Promise<T> {
  const started = performance.now();
  const conn = await acquire(pool, call);
  let overran = false;
  const watched: DbCall = {
    ...call,
    onTimeout: (phase) => {
      overran = true;
      call.onTimeout?.(phase);
    },
  };
  try {
    const left = call.timeoutMs - (performance.now() - started);
    const value = await bounded(
      conn,
      left,
      watched,
      Promise.resolve().then(() => work(conn)),
    );
    conn.release();
    return value;
  } catch (err) {
    // bounded() has already dropped a connection that overran.
    if (!overran) settle(conn, err);
    throw err;
  }
}

/** The deadline of each pool's calls; callers with a longer bound (the ledger) spread one and override it. */
export type DbCalls = Readonly<Record<PoolLabel, DbCall>>;
