/** Writer capacity: tagged inserts (each acknowledged in the ledger) at an arrival rate set by the profile. */
import { createSqlHarness, type RunInfo } from '../lib/k6/harness.ts';
import { METRICS } from '../lib/k6/metrics.ts';

const h = createSqlHarness('sql-write-load', __ENV);

export const options = h.options({ writes: h.openWorkload('write') });

export const { setup, teardown, handleSummary, flushLedger } = h;

export const write = h.iteration((run: RunInfo): void => {
  h.store.writeAndRecord(h.nextKey(run));
  METRICS.sqlWrites.add(1, { endpoint: 'writer' });
});

export default write;
