/**
 * Reader capacity: primary-key point reads on the replica at an arrival rate set by the profile. Setup seeds
 * rows when the table is nearly empty; every few iterations a VU also reads MAX(id) to check monotonic reads.
 */
import { k6Clock } from '../lib/k6/clock.ts';
import { createSqlHarness, type SqlRunInfo } from '../lib/k6/harness.ts';
import { METRICS } from '../lib/k6/metrics.ts';

const SEED_ROWS = 200;
const MAX_ID_EVERY = 10;

const h = createSqlHarness('sql-read-load', __ENV);

export const options = h.options({ reads: h.openWorkload('read') });

interface ReadLoadRun extends SqlRunInfo {
  readonly maxId: number;
}

export function setup(): ReadLoadRun {
  const run = h.setup();
  for (let i = h.store.maxId('writer'); i < SEED_ROWS; i++) h.store.writeAndRecord(h.nextKey(run));
  // setup runs in a VU of its own, which the ledger_flush scenario never visits.
  h.store.flushAcks();
  return { ...run, maxId: h.store.maxId('writer') };
}
export const { teardown, handleSummary, flushLedger } = h;

let iterations = 0;

export const read = h.iteration((run: ReadLoadRun): void => {
  const id = 1 + Math.floor(Math.random() * Math.max(1, run.maxId));
  h.store.pointRead(id);
  METRICS.sqlReads.add(1, { endpoint: 'reader' });
  if (iterations++ % MAX_ID_EVERY === 0) {
    h.checked(() => h.session().observe('max_id', h.store.maxId('reader'), k6Clock.now()));
  }
});

export default read;
