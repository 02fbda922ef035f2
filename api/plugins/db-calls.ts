/**
 * The deadline of every pool's database calls (api/db.ts), as `app.dbCalls`: CQRS_API_DB_TIMEOUT_MS, each
 * passed deadline counted in cqrs_api_db_timeouts_total by pool and phase.
 */
import fp from 'fastify-plugin';
import { type DbCall, type DbCalls, POOL_LABELS, type PoolLabel } from '../db.ts';

declare module 'fastify' {
  interface FastifyInstance {
    dbCalls: DbCalls;
  }
}

export interface DbCallsOptions {
  timeoutMs: number;
}

export const dbCallsPlugin = fp<DbCallsOptions>(
  async (app, { timeoutMs }) => {
    const call = (pool: PoolLabel): DbCall => ({
      timeoutMs,
      onTimeout: (phase) => app.metrics.dbTimeouts.inc({ pool, phase }),
    });
    app.decorate('dbCalls', Object.fromEntries(POOL_LABELS.map((pool) => [pool, call(pool)])) as DbCalls);
  },
  { name: 'db-calls', dependencies: ['metrics'], fastify: '5.x' },
);
