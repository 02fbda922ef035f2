/**
 * /healthz: the process answers. /readyz: the writer answers (without it nothing acknowledged can happen);
 * the replica's reachability and heartbeat lag are reported but never make the API unready, because `primary` and
 * `gtid-wait` keep serving without it.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { RowDataPacket } from 'mysql2/promise';
import { describe, RETRY_AFTER_SECONDS } from '../errors.ts';

const PROBE_TIMEOUT_MS = 1000;

/**
 * Replica lag as pt-heartbeat measures it: the age of the primary's newest heartbeat row as seen on the
 * replica (the reader account may not run SHOW SLAVE STATUS). NULL when nothing writes heartbeats.
 */
const HEARTBEAT_AGE = 'SELECT MIN(TIMESTAMPDIFF(MICROSECOND, ts, NOW(6))) / 1000 AS age_ms FROM heartbeat';

async function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const reachability = (probe: PromiseSettledResult<unknown>) =>
  probe.status === 'fulfilled' ? { reachable: true } : { reachable: false, error: describe(probe.reason) };

const ageMs = (age: unknown) => (age === null || age === undefined ? null : Number(age));

export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }));

  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    const [writer, replica, redis] = await Promise.allSettled([
      withTimeout(app.writer.query('SELECT 1')),
      withTimeout(app.reader.query<RowDataPacket[]>(HEARTBEAT_AGE)),
      withTimeout(app.redis.ping()),
    ]);
    const body = {
      status: writer.status === 'fulfilled' ? 'ready' : 'unready',
      writer: reachability(writer),
      replica:
        replica.status === 'fulfilled'
          ? { reachable: true, heartbeatAgeMs: ageMs(replica.value[0][0]?.age_ms) }
          : reachability(replica),
      redis: reachability(redis),
    };
    if (writer.status !== 'fulfilled') reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
    return body;
  });
};
