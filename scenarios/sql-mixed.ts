/**
 * A realistic mix: of the non-probe iterations, CQRS_READ_RATIO are reads (half of them read back this VU's
 * latest write on the replica, checked for read-your-writes), the rest writes; CQRS_PROBE_FRACTION of all
 * iterations run the full read-after-write probe. A heartbeat writer and sampler run alongside.
 */
import { k6Clock } from '../lib/k6/clock.ts';
import { createSqlHarness, type RunInfo } from '../lib/k6/harness.ts';
import { METRICS } from '../lib/k6/metrics.ts';
import { backgroundScenario, profileDurationMs } from '../lib/profiles.ts';
import { probeTag } from '../lib/store.ts';

const h = createSqlHarness('sql-mixed', __ENV);
const c = h.config;
const total = profileDurationMs(c.profile, c.durationMs);

export const options = h.options({
  mixed: h.openWorkload('mixed', { maxIterationMs: c.probeTimeoutMs }),
  heartbeat_writer: backgroundScenario('heartbeatWrite', c.heartbeatHz, total),
  heartbeat_sampler: backgroundScenario('heartbeatSample', c.heartbeatHz, total),
});

export const { setup, teardown, handleSummary } = h;

/** This VU's latest acknowledged write: what a user would expect to read back. */
let latest: { tag: string; id: number } | undefined;

export function mixed(run: RunInfo): void {
  if (Math.random() < c.probeFraction) {
    h.probe(run);
    return;
  }
  if (Math.random() < c.readRatio) {
    if (latest && Math.random() < 0.5) {
      const own = latest;
      h.checked(() => h.session().readOwnWrite(own.tag, h.store.pointRead(own.id), k6Clock.now()));
    } else {
      h.store.pointRead(1 + Math.floor(Math.random() * Math.max(1, latest?.id ?? 1)));
    }
    METRICS.sqlReads.add(1, { endpoint: 'reader' });
    return;
  }
  const key = h.nextKey(run);
  const ack = h.store.writeAndRecord(key);
  latest = { tag: probeTag(key), id: ack.id };
  h.session().acknowledged(latest.tag, k6Clock.now());
  METRICS.sqlWrites.add(1, { endpoint: 'writer' });
}

export const { heartbeatWrite, heartbeatSample } = h;

export default mixed;
