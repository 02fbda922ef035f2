/**
 * The API's mysql2 pools as one Fastify plugin: opens every pool of api/pools.ts, decorates the instance with
 * them, and ends each on close.
 */
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createPool, type Pool } from 'mysql2/promise';
import { STRATEGY_POOLS } from '../../common/strategies.ts';
import type { PoolLabel } from '../db.ts';
import type { AllPoolSettings, PoolSettings, StrategyPools } from '../pools.ts';

declare module 'fastify' {
  interface FastifyInstance {
    writer: Pool;
    reader: Pool;
    /** Each strategy's own connections; null where this API has none (api/pools.ts says why). */
    strategyPools: StrategyPools;
  }
}

export interface MysqlPoolsOptions {
  settings: AllPoolSettings;
}

export const mysqlPools = fp<MysqlPoolsOptions>(
  async (app, { settings }) => {
    const open = (label: PoolLabel, s: PoolSettings & { url: string }): Pool => {
      const pool = createPool({
        uri: s.url,
        connectionLimit: s.size,
        // Bounded: under overload the API answers 503 instead of queueing without limit.
        queueLimit: s.size * 100,
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
      const sessionSql = ['SET time_zone = "+00:00"', ...(s.sessionSql ?? [])];
      pool.pool.on('connection', (conn) => {
        for (const sql of sessionSql) {
          // Queued before any query of the borrower, so every connection is set up when it is first used.
          conn.query(sql, (err) => {
            if (err) app.log.error({ pool: label, err: err.message }, 'session setup failed');
          });
        }
      });
      app.addHook('onClose', async () => {
        await pool.end();
      });
      return pool;
    };
    app.decorate('writer', open('writer', settings.writer));
    app.decorate('reader', open('reader', settings.reader));
    const own = STRATEGY_POOLS.map((label) => {
      const s = settings[label];
      return [label, s.url === null ? null : open(label, { ...s, url: s.url })] as const;
    });
    app.decorate('strategyPools', Object.fromEntries(own) as StrategyPools);
  },
  { name: 'mysql-pool', fastify: '5.x' },
);

/** Every pool this API has open, with its /metrics label. */
export function openPools(app: FastifyInstance): [PoolLabel, Pool][] {
  const own = STRATEGY_POOLS.flatMap((label) => {
    const pool = app.strategyPools[label];
    return pool ? [[label, pool] as [PoolLabel, Pool]] : [];
  });
  return [['writer', app.writer], ['reader', app.reader], ...own];
}

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
