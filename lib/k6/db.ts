/**
 * Writer and reader handles for one VU. `sql.open` in init code gives every VU its own pool (xk6-sql issue 25);
 * the pool is bounded, and with one connection (the default) session state such as @@last_gtid stays on the
 * connection that wrote. xk6-sql emits no metrics, so every statement is timed here into db_query_duration and
 * counted in db_queries/db_errors, tagged endpoint and op. Rows are decoded in one place (lib/decode.ts).
 */
import sql, { type Database } from 'k6/x/sql';
import driver from 'k6/x/sql/driver/mysql';
import { type DecodedRow, decodeRow } from '../decode.ts';
import type { SqlHandle } from '../sql/handle.ts';
import type { Clock, Endpoint } from '../store.ts';
import { k6Clock } from './clock.ts';
import { METRICS } from './metrics.ts';

export interface QueryOptions {
  /** Failures are expected and handled by the caller (e.g. a missing privilege): do not count them. */
  readonly quiet?: boolean;
}

export class TimedDb implements SqlHandle {
  constructor(
    readonly endpoint: Endpoint,
    private readonly db: Database,
    private readonly clock: Clock = k6Clock,
  ) {}

  exec(op: string, query: string, ...args: unknown[]): { lastInsertId: number; rowsAffected: number } {
    return this.timed(op, {}, () => {
      const r = this.db.exec(query, ...args);
      return { lastInsertId: r.lastInsertId(), rowsAffected: r.rowsAffected() };
    });
  }

  query(op: string, query: string, ...args: unknown[]): DecodedRow[] {
    return this.timed(op, {}, () => this.db.query(query, ...args).map(decodeRow));
  }

  queryQuiet(op: string, query: string, ...args: unknown[]): DecodedRow[] {
    return this.timed(op, { quiet: true }, () => this.db.query(query, ...args).map(decodeRow));
  }

  /**
   * A setup check (lib/k6/preflight.ts): bounded by `timeout`, connection included, and not counted in the
   * run's statement metrics.
   */
  check(timeout: string, query: string, ...args: unknown[]): DecodedRow[] {
    return this.db.queryWithTimeout(timeout, query, ...args).map(decodeRow);
  }

  close(): void {
    this.db.close();
  }

  private timed<T>(op: string, opts: QueryOptions, run: () => T): T {
    const tags = { endpoint: this.endpoint, op };
    const started = this.clock.now();
    // Counted as sent whether it succeeds or not, so statements and errors add up per endpoint.
    METRICS.dbQueries.add(1, tags);
    try {
      const out = run();
      METRICS.dbQueryDuration.add(this.clock.now() - started, tags);
      return out;
    } catch (err) {
      if (!opts.quiet) METRICS.dbErrors.add(1, tags);
      throw err;
    }
  }
}

export interface PoolOptions {
  readonly maxOpenConns: number;
}

export function openDb(endpoint: Endpoint, dsn: string, pool: PoolOptions): TimedDb {
  const db = sql.open(driver, dsn, {
    max_open_conns: pool.maxOpenConns,
    max_idle_conns: pool.maxOpenConns,
    // Long-lived connections: a connect (TCP + auth handshake) costs about as much as the lag being measured,
    // so a per-query connect would hide millisecond lag.
    conn_max_lifetime: '0',
    conn_max_idle_time: '0',
  });
  return new TimedDb(endpoint, db);
}
