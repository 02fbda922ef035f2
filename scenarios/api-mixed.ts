/**
 * Read-heavy CQRS traffic through the API with one strategy (CQRS_API_STRATEGY): CQRS_READ_RATIO of the
 * iterations read back one of this VU's recent users (checked for read-your-writes; a miss is a stale read),
 * the rest create users. Every acknowledged write is reconciled at the end.
 */
import { createApiHarness, type RunInfo } from '../lib/api/harness.ts';
import { k6Clock } from '../lib/k6/clock.ts';
import { recordRead } from '../lib/k6/harness-core.ts';
import { METRICS } from '../lib/k6/metrics.ts';
import { probeTag } from '../lib/store.ts';

const h = createApiHarness('api-mixed', __ENV);
const c = h.config;
const strategy = c.apiStrategy;
const tags = { strategy };
/** Reads pick among this many of the VU's latest writes, so most reads follow their write closely. */
const RECENT = 20;

export const options = h.options({ mixed: h.openWorkload('mixed', { tags }) });

export const { setup, teardown, handleSummary, flushLedger } = h;

const recent: { tag: string; id: number; token: string | undefined }[] = [];

export const mixed = h.iteration((run: RunInfo): void => {
  if (recent.length > 0 && Math.random() < c.readRatio) {
    const own = recent[Math.floor(Math.random() * recent.length)] as (typeof recent)[number];
    const found = h.checked(() => {
      const hit = h.client().readUser(own.id, strategy, own.token, true).found;
      h.session().readOwnWrite(own.tag, hit, k6Clock.now());
      return hit;
    }, strategy);
    recordRead(!found, tags);
    return;
  }
  const key = h.nextKey(run);
  const store = h.store(strategy);
  const ack = store.write(key);
  const tag = probeTag(key);
  h.session().acknowledged(tag, k6Clock.now());
  store.recordAck(key);
  METRICS.probeWrites.add(1, tags);
  recent.push({ tag, id: ack.id, token: ack.gtid });
  if (recent.length > RECENT) recent.shift();
});

export default mixed;
