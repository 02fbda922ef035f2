/**
 * prom-client as a plugin: decorates `app.metrics`, times every request by route, method, status, strategy
 * and read source, and serves GET /metrics (pool usage is sampled at scrape time).
 */
import fp from 'fastify-plugin';
import { type ApiMetrics, createApiMetrics } from '../metrics.ts';
import { NO_READ_LABELS } from '../read/consistency.ts';
import { openPools, poolStats } from './mysql-pool.ts';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ApiMetrics;
  }
}

export const metricsPlugin = fp(
  async (app) => {
    const metrics = createApiMetrics();
    app.decorate('metrics', metrics);

    // A callback hook, not an async one: it runs on every request, and needs no promise.
    app.addHook('onResponse', (request, reply, done) => {
      const labels = request.readLabels ?? NO_READ_LABELS;
      metrics.requestDuration.observe(
        {
          // The route pattern, not the URL, keeps label cardinality bounded; unmatched URLs share one label.
          route: request.routeOptions.url ?? 'unmatched',
          method: request.method,
          status: String(reply.statusCode),
          strategy: labels.strategy,
          source: labels.source,
        },
        reply.elapsedTime / 1000,
      );
      done();
    });

    app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
      for (const [label, pool] of openPools(app)) {
        const s = poolStats(pool);
        metrics.poolConnections.set({ pool: label, state: 'total' }, s.total);
        metrics.poolConnections.set({ pool: label, state: 'idle' }, s.idle);
        metrics.poolConnections.set({ pool: label, state: 'busy' }, s.total - s.idle);
        metrics.poolConnections.set({ pool: label, state: 'waiting' }, s.waiting);
      }
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    });
  },
  { name: 'metrics', dependencies: ['mysql-pool'], fastify: '5.x' },
);
