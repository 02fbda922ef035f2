/**
 * Read-after-write: each iteration writes a tagged row on the writer, reads it at once on the reader (stale or
 * fresh), then polls until it is visible. Open model: probes arrive at CQRS_RATE/s whatever the lag.
 */
import { createSqlHarness, type RunInfo } from '../lib/k6/harness.ts';

const h = createSqlHarness('sql-read-after-write', __ENV);

export const options = h.options({
  probe: h.openWorkload('probe', { maxIterationMs: h.config.probeTimeoutMs }),
});

export const { setup, teardown, handleSummary, flushLedger } = h;

export const probe = h.iteration((run: RunInfo): void => {
  h.probe(run);
});

export default probe;
