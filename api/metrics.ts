/**
 * The API's prom-client series, created from the project's single registry `API_METRICS` so names, help and
 * labels are defined once. Each app gets its own Registry (tests build several apps in one process).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { API_METRICS, type ApiMetricDef } from '../common/metrics.ts';

/** Sub-millisecond resolution at the bottom: a replica point select takes about 0.3 ms on loopback. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createApiMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const m = API_METRICS;
  /** A series' name, help and labels as the single registry defines them, registered in this app's registry. */
  const series = (d: ApiMetricDef) => ({
    name: d.name,
    help: d.help,
    labelNames: [...d.labels] as string[],
    registers: [registry],
  });
  return {
    registry,
    requestDuration: new Histogram({ ...series(m.requestDuration), buckets: LATENCY_BUCKETS }),
    staleReads: new Counter(series(m.staleReads)),
    compatReads: new Counter(series(m.compatReads)),
    gtidWaitDuration: new Histogram({ ...series(m.gtidWaitDuration), buckets: LATENCY_BUCKETS }),
    gtidWaitTimeouts: new Counter(series(m.gtidWaitTimeouts)),
    gtidWaitFallbacks: new Counter(series(m.gtidWaitFallbacks)),
    cacheRequests: new Counter(series(m.cacheRequests)),
    poolConnections: new Gauge(series(m.poolConnections)),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
