/**
 * Read-after-write: each iteration writes a tagged row on the writer, reads it at once on the reader (stale or
 * fresh), then polls until it is visible. Open model: probes arrive at CQRS_RATE/s whatever the lag.
 */
import { createSqlHarness, type RunInfo } from '../lib/k6/harness.ts';
import { profileScenario } from '../lib/profiles.ts';

const h = createSqlHarness('sql-read-after-write', __ENV);
const c = h.config;

export const options = h.options({
  probe: profileScenario(c.profile, {
    exec: 'probe',
    model: 'open',
    rate: c.rate,
    vus: c.vus,
    durationMs: c.durationMs,
    maxIterationMs: c.probeTimeoutMs,
  }),
});

export const setup = h.setup;
export const teardown = h.teardown;
export const handleSummary = h.handleSummary;

export function probe(run: RunInfo): void {
  h.probe(run);
}

export default probe;
