/**
 * Redis (ioredis) as a Fastify plugin, for the `cache` strategy. The cache is optional: commands fail fast
 * while Redis is down (no offline queue, no retries per request), so callers can degrade to the database.
 */
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';

declare module 'fastify' {
  interface FastifyInstance {
    redis: Redis;
  }
}

export interface RedisPluginOptions {
  url: string;
}

export const redisPlugin = fp<RedisPluginOptions>(
  async (app, opts) => {
    const redis = new Redis(opts.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
      commandTimeout: 500,
      // Keep trying to reconnect in the background, at most every second.
      retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
      lazyConnect: true,
    });
    // Without a listener ioredis prints every failed reconnect; one warning per outage is enough.
    let down = false;
    redis.on('error', (err) => {
      if (!down)
        app.log.warn({ err: err.message }, 'redis unavailable; the cache strategy reads the database');
      down = true;
    });
    redis.on('ready', () => {
      down = false;
    });
    // The API starts without Redis: the cache is an optimisation, not a dependency of readiness.
    await redis.connect().catch(() => undefined);
    app.decorate('redis', redis);
    app.addHook('onClose', async () => {
      redis.disconnect();
    });
  },
  { name: 'redis', fastify: '5.x' },
);
