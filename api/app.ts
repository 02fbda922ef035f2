/**
 * The CQRS API as one Fastify plugin: buildable without a socket (tests use `app.inject`), listened on only
 * by server.ts. Dependencies are plugins with close hooks, so `app.close()` ends pools and Redis.
 */

import type { Server } from 'node:http';
import cookie from '@fastify/cookie';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyHttpOptions,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from 'fastify';
import fp from 'fastify-plugin';
import { dialectFor } from '../common/dialect.ts';
import { serverKind } from '../common/topology.ts';
import type { ApiConfig } from './config.ts';
import { errorBody, installErrorHandler } from './errors.ts';
import { LogLimiter } from './log-limit.ts';
import { dbCallsPlugin } from './plugins/db-calls.ts';
import { heartbeatPlugin } from './plugins/heartbeat.ts';
import { metricsPlugin } from './plugins/metrics.ts';
import { mysqlPools } from './plugins/mysql-pool.ts';
import { redisPlugin } from './plugins/redis.ts';
import { strictBody } from './plugins/strict-body.ts';
import { poolSettings } from './pools.ts';
import { consistencyPlugin } from './read/consistency.ts';
import { CONSISTENCY_TOKEN_FORMAT, consistencyTokenFormat } from './read/token.ts';
import { compatRoutes } from './routes/compat.ts';
import { healthRoutes } from './routes/health.ts';
import { probeAcksRoutes } from './routes/probe-acks.ts';
import { usersRoutes } from './routes/users.ts';
import { MAX_HEADER_BYTES, OTHER_HEADERS_MAX_BYTES } from './schemas.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's log for warnings an outage repeats per request (log-limit.ts). */
    logLimiter: LogLimiter;
  }
}

export interface AppOptions {
  config: ApiConfig;
}

/**
 * The parser allows MAX_HEADER_BYTES so a long consistency token fits; every other header together keeps the
 * usual 16 KiB bound, answered like the parser's own overflow: 431 with a JSON body.
 */
function limitOtherHeaders(request: FastifyRequest, reply: FastifyReply, done: () => void): void {
  const raw = request.raw.rawHeaders;
  let bytes = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 19 && name.toLowerCase() === 'x-consistency-token') continue;
    bytes += name.length + (raw[i + 1] as string).length + 4;
  }
  if (bytes > OTHER_HEADERS_MAX_BYTES) {
    reply.code(431).send(errorBody(431, 'Exceeded maximum allowed HTTP header size'));
    return;
  }
  done();
}

export const app = fp<AppOptions>(
  async (instance, { config }) => {
    const dialect = dialectFor(config.flavor);
    const logLimiter = new LogLimiter(instance.log);
    instance.decorate('logLimiter', logLimiter);
    instance.addHook('onClose', async () => logLimiter.close());
    installErrorHandler(instance, logLimiter);
    instance.addHook('onRequest', limitOtherHeaders);
    await instance.register(strictBody);
    // Cookies are parsed only where the sticky strategy needs the client id, not on every request.
    await instance.register(cookie, { hook: false });
    // The writer, the reader and each strategy's own connections (api/pools.ts).
    await instance.register(mysqlPools, { settings: poolSettings(config) });
    await instance.register(redisPlugin, { url: config.redisUrl });
    await instance.register(metricsPlugin);
    await instance.register(dbCallsPlugin, { timeoutMs: config.dbTimeoutMs });
    await instance.register(heartbeatPlugin, { intervalMs: config.heartbeatIntervalMs });
    await instance.register(consistencyPlugin, {
      dialect,
      serverKind: serverKind(config.flavor, config.topology),
      defaultStrategy: config.defaultStrategy,
      stickyWindowMs: config.stickyWindowMs,
      gtidWaitTimeoutMs: config.gtidWaitTimeoutMs,
      gtidWaitPoolSize: config.gtidWaitPoolSize,
      cacheTtlS: config.cacheTtlS,
    });
    await instance.register(healthRoutes);
    await instance.register(usersRoutes);
    await instance.register(compatRoutes);
    await instance.register(probeAcksRoutes);
  },
  { name: 'cqrs-api', fastify: '5.x' },
);

export function serverOptions(
  config: ApiConfig,
  overrides: FastifyServerOptions = {},
): FastifyHttpOptions<Server> {
  // Node requires headersTimeout <= requestTimeout.
  const headersTimeout = Math.min(config.headersTimeoutMs, config.requestTimeoutMs);
  return {
    http: {
      // Room for a long MySQL GTID set in X-Consistency-Token; the other headers are held to their own bound
      // by the onRequest hook (limitOtherHeaders). Past this the parser's 431 (JSON, from Fastify) answers.
      maxHeaderSize: MAX_HEADER_BYTES,
      headersTimeout,
      requestTimeout: config.requestTimeoutMs,
      // Node enforces both timeouts on this sweep (30 s by default), so a timeout would fire up to 30 s late.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
    // Fastify's default, 0, turns off Node's own bound: a client that declares a body and never sends it would
    // hold its socket forever. Past it Fastify's client-error handler answers 408 (JSON) and closes.
    requestTimeout: config.requestTimeoutMs,
    // While draining (SIGTERM), a request on a kept-alive connection is served and its connection closed,
    // rather than refused with Fastify's bare 503 (no Retry-After): the pools stay open until every request
    // is done.
    return503OnClosing: false,
    logger: { level: config.logLevel },
    // Per-request log lines would cost more than the reads being measured.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    ajv: {
      // Reject instead of repairing: wrong types and unknown fields are client errors, not things to coerce
      // or strip.
      customOptions: {
        removeAdditional: false,
        coerceTypes: false,
        allErrors: false,
        // The token's numeric ranges, which its pattern cannot express (read/token.ts).
        formats: { [CONSISTENCY_TOKEN_FORMAT]: consistencyTokenFormat },
      },
    },
    ...overrides,
  };
}

/** A ready-to-use app; server.ts listens on it, tests inject into it. */
export async function buildApp(config: ApiConfig, overrides: FastifyServerOptions = {}) {
  const instance = Fastify(serverOptions(config, overrides)).withTypeProvider<TypeBoxTypeProvider>();
  await instance.register(app, { config });
  await instance.ready();
  return instance;
}
