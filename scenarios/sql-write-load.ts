/** Writer capacity: tagged inserts (each acknowledged in the ledger) at an arrival rate set by the profile. */
import { createSqlHarness, type RunInfo } from '../lib/k6/harness.ts';
import { METRICS } from '../lib/k6/metrics.ts';
import { profileScenario } from '../lib/profiles.ts';

const h = createSqlHarness('sql-write-load', __ENV);
const c = h.config;

export const options = h.options({
  writes: profileScenario(c.profile, {
    exec: 'write',
    model: 'open',
    rate: c.rate,
    vus: c.vus,
    durationMs: c.durationMs,
  }),
});

export const setup = h.setup;
export const teardown = h.teardown;
export const handleSummary = h.handleSummary;

export function write(run: RunInfo): void {
  h.store.writeAndRecord(h.nextKey(run));
  METRICS.sqlWrites.add(1, { endpoint: 'writer' });
}

export default write;
