/**
 * A realistic mix: of the non-probe iterations, CQRS_READ_RATIO are reads (half of them read back this VU's
 * latest write through CQRS_SQL_STRATEGY, checked for read-your-writes), the rest writes; CQRS_PROBE_FRACTION of all
 * iterations run the full read-after-write probe. A heartbeat writer and sampler run alongside.
 */
import { k6Clock } from '../lib/k6/clock.ts';
import { createSqlHarness, type RunInfo } from '../lib/k6/harness.ts';
import { METRICS } from '../lib/k6/metrics.ts';
import { backgroundScenario, profileDurationMs } from '../lib/profiles.ts';
import { probeTag, type WriteAck } from '../lib/store.ts';

const h = createSqlHarness('sql-mixed', __ENV);
const c = h.config;
const total = profileDurationMs(c.profile, c.durationMs);

export const options = h.options({
  mixed: h.openWorkload('mixed', { maxIterationMs: c.probeTimeoutMs }),
  heartbeat_writer: backgroundScenario('heartbeatWrite', c.heartbeatHz, total),
  heartbeat_sampler: backgroundScenario('heartbeatSample', c.heartbeatHz, total),
});

export const { setup, teardown, handleSummary, flushLedger } = h;

/** This VU's latest acknowledged write: what a user would expect to read back, and how (its GTID, say). */
let latest: { tag: string; ack: WriteAck } | undefined;

export const mixed = h.iteration((run: RunInfo): void => {
  if (Math.random() < c.probeFraction) {
    h.probe(run);
    return;
  }
  if (Math.random() < c.readRatio) {
    if (latest && Math.random() < 0.5) {
      // Read-your-writes through the strategy (CQRS_SQL_STRATEGY), like a client of that strategy would.
      const own = latest;
      h.checked(() => h.session().readOwnWrite(own.tag, h.store.readBack(own.ack), k6Clock.now()));
      METRICS.sqlReads.add(1, { endpoint: h.store.readBackEndpoint() });
    } else {
      h.store.pointRead(1 + Math.floor(Math.random() * Math.max(1, latest?.ack.id ?? 1)));
      METRICS.sqlReads.add(1, { endpoint: 'reader' });
    }
    return;
  }
  const key = h.nextKey(run);
  const ack = h.store.writeAndRecord(key, true);
  latest = { tag: probeTag(key), ack };
  h.session().acknowledged(latest.tag, k6Clock.now());
  METRICS.sqlWrites.add(1, { endpoint: 'writer' });
});

export const { heartbeatWrite, heartbeatSample } = h;

export default mixed;
