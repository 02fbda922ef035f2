/**
 * The original FastAPI experiment, against this API: GET /get creates a user on the writer and immediately
 * looks it up on the read side; an empty list is a stale read. The read uses CQRS_API_STRATEGY (default
 * eventual, the original behaviour).
 */
import { createApiHarness } from '../lib/api/harness.ts';
import { recordRead } from '../lib/k6/harness-core.ts';
import { METRICS } from '../lib/k6/metrics.ts';

const h = createApiHarness('api-seed-compat', __ENV);
const strategy = h.config.apiStrategy;
const tags = { strategy };

export const options = h.options({ compat: h.openWorkload('compat', { tags }) });

export const { setup, teardown, handleSummary, flushLedger } = h;

export const compat = h.iteration((): void => {
  const { users } = h.client().compat(strategy);
  METRICS.probeWrites.add(1, tags);
  recordRead(users === 0, tags);
});

export default compat;
