/**
 * Replica lag under write load: a heartbeat writer stamps the primary at CQRS_HEARTBEAT_HZ, samplers read its
 * age on the replica (plus Seconds_Behind as a coarse signal), while background writes follow the profile at
 * CQRS_WRITE_RATE/s. Use the stress profile to see lag grow with the write rate.
 */
import type { Scenario } from 'k6/options';
import { createSqlHarness, type RunInfo } from '../lib/k6/harness.ts';
import { backgroundScenario, profileDurationMs, profileScenario } from '../lib/profiles.ts';

const h = createSqlHarness('sql-replica-lag', __ENV);
const c = h.config;
const total = profileDurationMs(c.profile, c.durationMs);

const scenarios: Record<string, Scenario> = {
  heartbeat_writer: backgroundScenario('heartbeatWrite', c.heartbeatHz, total),
  heartbeat_sampler: backgroundScenario('heartbeatSample', c.heartbeatHz, total),
};
if (c.writeRate > 0) {
  scenarios.background_writes = profileScenario(c.profile, {
    exec: 'write',
    model: 'open',
    rate: c.writeRate,
    vus: c.vus,
    durationMs: c.durationMs,
  });
}
export const options = h.options(scenarios);

export const { setup, teardown, handleSummary, flushLedger } = h;

export const { heartbeatWrite, heartbeatSample } = h;

export const write = h.iteration((run: RunInfo): void => {
  h.store.writeAndRecord(h.nextKey(run));
});

export default heartbeatSample;
