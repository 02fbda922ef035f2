/**
 * The CQRS API as one Fastify plugin: buildable without a socket (tests use `app.inject`), listened on only
 * by server.ts. Dependencies are plugins with close hooks, so `app.close()` ends pools and Redis.
 */
import cookie from '@fastify/cookie';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyServerOptions, LogController } from 'fastify';
import fp from 'fastify-plugin';
import { dialectFor } from '../common/dialect.ts';
import { grBeforeSessionSql, routerSplitSessionSql } from '../common/mysql-strategies.ts';
import type { ApiConfig } from './config.ts';
import { installErrorHandler } from './errors.ts';
import { metricsPlugin } from './plugins/metrics.ts';
import { mysqlPool } from './plugins/mysql-pool.ts';
import { redisPlugin } from './plugins/redis.ts';
import { strictBody } from './plugins/strict-body.ts';
import { consistencyPlugin } from './read/consistency.ts';
import { CONSISTENCY_TOKEN_FORMAT, consistencyTokenFormat } from './read/token.ts';
import { compatRoutes } from './routes/compat.ts';
import { healthRoutes } from './routes/health.ts';
import { usersRoutes } from './routes/users.ts';

export interface AppOptions {
  config: ApiConfig;
}

export const app = fp<AppOptions>(
  async (instance, { config }) => {
    const dialect = dialectFor(config.flavor);
    installErrorHandler(instance);
    await instance.register(strictBody);
    // Cookies are parsed only where the sticky strategy needs the client id, not on every request.
    await instance.register(cookie, { hook: false });
    await instance.register(mysqlPool, {
      name: 'writer',
      url: config.writerUrl,
      size: config.writerPoolSize,
    });
    await instance.register(mysqlPool, {
      name: 'reader',
      url: config.readerUrl,
      size: config.readerPoolSize,
    });
    await instance.register(mysqlPool, {
      name: 'grBeforePool',
      url: config.flavor === 'mysql' ? config.readerUrl : null,
      size: config.readerPoolSize,
      sessionSql: grBeforeSessionSql(),
    });
    await instance.register(mysqlPool, {
      name: 'routerSplitPool',
      url: config.routerSplitUrl ?? null,
      size: config.routerPoolSize,
      sessionSql: routerSplitSessionSql(config.routerWaitTimeoutS),
    });
    await instance.register(redisPlugin, { url: config.redisUrl });
    await instance.register(metricsPlugin);
    await instance.register(consistencyPlugin, {
      dialect,
      defaultStrategy: config.defaultStrategy,
      stickyWindowMs: config.stickyWindowMs,
      gtidWaitTimeoutMs: config.gtidWaitTimeoutMs,
      cacheTtlS: config.cacheTtlS,
    });
    await instance.register(healthRoutes);
    await instance.register(usersRoutes);
    await instance.register(compatRoutes);
  },
  { name: 'cqrs-api', fastify: '5.x' },
);

export function serverOptions(config: ApiConfig, overrides: FastifyServerOptions = {}): FastifyServerOptions {
  return {
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
