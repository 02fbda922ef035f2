/**
 * The original FastAPI experiment, against this API: GET /get creates a user on the writer and immediately
 * looks it up on the read side; an empty list is a stale read. The read uses CQRS_API_STRATEGY (default
 * eventual, the original behaviour).
 */
import { createApiHarness } from '../lib/api/harness.ts';
import { METRICS } from '../lib/k6/metrics.ts';
import { profileScenario } from '../lib/profiles.ts';

const h = createApiHarness('api-seed-compat', __ENV);
const c = h.config;
const strategy = h.api.strategy;
const tags = { strategy };

export const options = h.options(
  {
    compat: profileScenario(c.profile, {
      exec: 'compat',
      model: 'open',
      rate: c.rate,
      vus: c.vus,
      durationMs: c.durationMs,
      tags,
    }),
  },
  [strategy],
);

export const setup = h.setup;
export const teardown = h.teardown;
export const handleSummary = h.handleSummary;

export function compat(): void {
  const { users } = h.client().compat(strategy);
  const stale = users === 0;
  METRICS.rawWrites.add(1, tags);
  METRICS.rawReads.add(1, tags);
  METRICS.staleReads.add(stale ? 1 : 0, tags);
  METRICS.staleRead.add(stale, tags);
}

export default compat;
