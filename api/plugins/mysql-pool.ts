/**
 * One mysql2 pool as a Fastify plugin: decorates the instance under `name` and ends the pool on close. The
 * writer, the reader and the MySQL-only strategy pools are each one registration of this plugin.
 */
import fp from 'fastify-plugin';
import { createPool, type Pool } from 'mysql2/promise';

export type PoolName = 'writer' | 'reader' | 'gtidWaitPool' | 'grBeforePool' | 'routerSplitPool';

declare module 'fastify' {
  interface FastifyInstance {
    writer: Pool;
    reader: Pool;
    /** Replica connections for gtid-wait's waits alone (read/gtid-wait.ts). */
    gtidWaitPool: Pool;
    /** Only on MySQL: reader connections with group_replication_consistency=BEFORE. */
    grBeforePool: Pool | null;
    /** Only with CQRS_ROUTER_SPLIT_URL: connections to Router's split port with wait_for_my_writes. */
    routerSplitPool: Pool | null;
  }
}

export interface MysqlPoolOptions {
  name: PoolName;
  /** null registers the decorator as null: the optional pools exist only where their server feature does. */
  url: string | null;
  size: number;
  /** Statements run once on every new connection, before it serves any query. */
  sessionSql?: readonly string[];
}

export const mysqlPool = fp<MysqlPoolOptions>(
  async (app, opts) => {
    if (opts.url === null) {
      app.decorate(opts.name, null);
      return;
    }
    const pool = createPool({
      uri: opts.url,
      connectionLimit: opts.size,
      // Bounded: under overload the API answers 503 instead of queueing without limit.
      queueLimit: opts.size * 100,
      // An outage must become a 503 quickly, not hang a request for the 10 s default. Calls have a shorter
      // deadline of their own (api/db.ts); this one only ends connection attempts nobody waits for any more.
      connectTimeout: 2000,
      enableKeepAlive: true,
      timezone: 'Z',
      supportBigNumbers: true,
      // No call-site stack captured per query (mysql2's promise wrapper otherwise builds an Error for every
      // call, ~5% of the API's CPU on the read path); errors keep their code and message.
      trace: false,
    });
    const sessionSql = ['SET time_zone = "+00:00"', ...(opts.sessionSql ?? [])];
    pool.pool.on('connection', (conn) => {
      for (const sql of sessionSql) {
        // Queued before any query of the borrower, so every connection is set up when it is first used.
        conn.query(sql, (err) => {
          if (err) app.log.error({ pool: opts.name, err: err.message }, 'session setup failed');
        });
      }
    });
    app.decorate(opts.name, pool);
    app.addHook('onClose', async () => {
      await pool.end();
    });
  },
  { name: 'mysql-pool', fastify: '5.x' },
);

/** Connection counts of a mysql2 pool. mysql2 has no public stats API, so this reads its internal lists. */
export function poolStats(pool: Pool): { total: number; idle: number; waiting: number } {
  const inner = pool.pool as unknown as {
    _allConnections?: { length: number };
    _freeConnections?: { length: number };
    _connectionQueue?: { length: number };
  };
  return {
    total: inner._allConnections?.length ?? 0,
    idle: inner._freeConnections?.length ?? 0,
    waiting: inner._connectionQueue?.length ?? 0,
  };
}
