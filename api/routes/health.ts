/**
 * /healthz: the process answers. /readyz: the writer answers (without it nothing acknowledged can happen);
 * the replica's reachability and heartbeat lag are reported but never make the API unready, because `primary` and
 * `gtid-wait` keep serving without it. The beats are the API's own (plugins/heartbeat.ts) plus any a run
 * writes, so the lag is live whether or not a test is running. Every probe has the pools' deadline.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { RowDataPacket } from 'mysql2/promise';
import { sampleHeartbeatLag } from '../../common/heartbeat.ts';
import { withConnection } from '../db.ts';
import { describe, RETRY_AFTER_SECONDS } from '../errors.ts';

/**
 * Replica lag with the scenarios' heartbeat estimator (common/heartbeat.ts): the replica's newest beat with its
 * apply stamp, and the oldest beat the primary has that it lacks. `newestBeatAgeMs` says how old that beat is,
 * so a lag taken from beats that nobody writes any more is recognisable. Nulls when no beat has replicated.
 */
async function replicaLag(app: FastifyInstance) {
  const { newest, estimate } = await sampleHeartbeatLag(
    // The replica's failure rejects: it is reported as unreachable.
    async (sql) =>
      (await withConnection(app.reader, app.dbCalls.reader, (c) => c.query<RowDataPacket[]>(sql)))[0],
    // Without the writer nobody can say which beats the replica lacks: no lag then, rather than a low one.
    (sql, args) =>
      withConnection(app.writer, app.dbCalls.writer, (c) => c.query<RowDataPacket[]>(sql, args)).then(
        ([rows]) => rows,
        () => null,
      ),
    0,
  );
  return {
    heartbeatLagMs: estimate && estimate.lagUs / 1000,
    heartbeatBasis: estimate?.basis ?? null,
    newestBeatAgeMs: newest && (newest.nowUs - newest.tsUs) / 1000,
  };
}

const reachability = (probe: PromiseSettledResult<unknown>) =>
  probe.status === 'fulfilled' ? { reachable: true } : { reachable: false, error: describe(probe.reason) };

export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    const [writer, replica, redis] = await Promise.allSettled([
      withConnection(app.writer, app.dbCalls.writer, (c) => c.query('SELECT 1')),
      replicaLag(app),
      // ioredis bounds it itself (commandTimeout, no offline queue).
      app.redis.ping(),
    ]);
    const body = {
      status: writer.status === 'fulfilled' ? 'ready' : 'unready',
      writer: reachability(writer),
      replica: replica.status === 'fulfilled' ? { reachable: true, ...replica.value } : reachability(replica),
      redis: reachability(redis),
      heartbeat: { intervalMs: app.heartbeat.intervalMs, lastBeatOk: app.heartbeat.lastBeatOk },
    };
    if (writer.status !== 'fulfilled') reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
    return body;
  });
};
