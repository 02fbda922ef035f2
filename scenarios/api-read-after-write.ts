/**
 * Read-after-write through the CQRS API: POST /users, an immediate GET through the strategy under test, then
 * plain reads until the row is visible. One k6 scenario per strategy (CQRS_API_STRATEGIES), all at the same
 * arrival rate in the same run, tagged `strategy`; the report compares them side by side.
 */
import exec from 'k6/execution';
import type { Strategy } from '../common/strategies.ts';
import { createApiHarness, type RunInfo } from '../lib/api/harness.ts';

const h = createApiHarness('api-read-after-write', __ENV);

export const options = h.options(
  Object.fromEntries(
    h.strategies.map((strategy) => [
      // The scenario is named after its strategy: probe() reads it back from k6/execution.
      strategy,
      h.openWorkload('probe', { maxIterationMs: h.config.probeTimeoutMs, tags: { strategy } }),
    ]),
  ),
);

export const { setup, teardown, handleSummary, flushLedger } = h;

export const probe = h.iteration((run: RunInfo): void => {
  h.probe(run, exec.scenario.name as Strategy);
});

export default probe;
