/**
 * The API's prom-client series, created from the project's single registry `API_METRICS` so names, help and
 * labels are defined once. Each app gets its own Registry (tests build several apps in one process).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { API_METRICS, type ApiMetricDef } from '../common/metrics.ts';
import { STRATEGIES, strategyDef } from '../common/strategies.ts';
import { POOL_LABELS } from './db.ts';
import type { UnavailableError } from './errors.ts';

/** Sub-millisecond resolution at the bottom: a replica point select takes about 0.3 ms on loopback. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const POOLS = POOL_LABELS;
const DEPENDENCIES: UnavailableError['dependency'][] = ['writer', 'reader', 'redis', 'router'];
/** The fallbacks each strategy can take, as the registry declares them (a test holds them to read/execute.ts). */
const STRATEGY_FALLBACKS = STRATEGIES.flatMap((strategy) =>
  strategyDef(strategy).fallbacks.map((reason) => ({ strategy, reason })),
);

/**
 * Every known label combination starts at 0, so an outage shows as a rise of a series that already exists
 * (rate() and alerts see nothing of a series before its first sample).
 */
function zeroed<T extends string>(counter: Counter<T>, combos: Record<T, string>[]): Counter<T> {
  for (const labels of combos) counter.inc(labels, 0);
  return counter;
}

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
    dbTimeouts: zeroed(
      new Counter(series(m.dbTimeouts)),
      POOLS.flatMap((pool) => ['acquire', 'query'].map((phase) => ({ pool, phase }))),
    ),
    readFallbacks: zeroed(new Counter(series(m.readFallbacks)), STRATEGY_FALLBACKS),
    unavailable: zeroed(
      new Counter(series(m.unavailable)),
      DEPENDENCIES.map((dependency) => ({ dependency })),
    ),
    heartbeats: zeroed(new Counter(series(m.heartbeats)), [{ result: 'ok' }, { result: 'error' }]),
  };
}

export type ApiMetrics = ReturnType<typeof createApiMetrics>;
