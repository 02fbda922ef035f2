/**
 * The k6 metric objects, created once per VU (init context) from the K6_METRICS registry: nobody types a metric
 * name twice.
 */
import { Counter, Gauge, Rate, Trend } from 'k6/metrics';
import { K6_METRICS, type K6MetricDef } from '../../common/metrics.ts';

type Registry = typeof K6_METRICS;
type MetricObject<D extends K6MetricDef> = D['kind'] extends 'counter'
  ? Counter
  : D['kind'] extends 'gauge'
    ? Gauge
    : D['kind'] extends 'rate'
      ? Rate
      : Trend;

export type K6Metrics = { readonly [K in keyof Registry]: MetricObject<Registry[K]> };

function create(def: K6MetricDef): Counter | Gauge | Rate | Trend {
  switch (def.kind) {
    case 'counter':
      return new Counter(def.name);
    case 'gauge':
      return new Gauge(def.name, def.isTime);
    case 'rate':
      return new Rate(def.name);
    case 'trend':
      return new Trend(def.name, def.isTime);
  }
}

export const METRICS = Object.fromEntries(
  Object.entries(K6_METRICS).map(([key, def]) => [key, create(def)]),
) as unknown as K6Metrics;
