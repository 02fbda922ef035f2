/**
 * k6's built-in metrics the dashboards read, in the shape of the project's registry (common/metrics.ts) so
 * their Prometheus names come from the same remote-write rules as the custom metrics'. The names the reports
 * already read come from their one declaration (lib/summary/data.ts).
 */
import type { K6MetricDef } from '../../common/metrics.ts';
import { K6_BUILTIN_METRICS as SUMMARY } from '../../lib/summary/data.ts';

const def = (name: string, kind: K6MetricDef['kind'], isTime: boolean, help: string): K6MetricDef => ({
  name,
  kind,
  isTime,
  help,
});

export const K6_BUILTINS = {
  vus: def(SUMMARY.vus, 'gauge', false, 'VUs running an iteration'),
  vusMax: def(SUMMARY.vusMax, 'gauge', false, 'VUs allocated'),
  iterations: def(SUMMARY.iterations, 'counter', false, 'Iterations started'),
  droppedIterations: def(
    SUMMARY.droppedIterations,
    'counter',
    false,
    'Iterations an arrival-rate executor could not start on time (no free VU)',
  ),
  httpReqs: def('http_reqs', 'counter', false, 'HTTP requests'),
  httpReqDuration: def('http_req_duration', 'trend', true, 'HTTP request duration'),
  httpReqFailed: def('http_req_failed', 'rate', false, 'Share of HTTP requests that failed'),
} as const satisfies Record<string, K6MetricDef>;
