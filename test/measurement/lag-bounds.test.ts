/**
 * The measurement code itself (SqlStore, the probe, the heartbeat sampler and estimator, exactly as the k6
 * scenarios run them) against a real primary + replica with injected delays, without k6: statements go through
 * synchronous handles over real connections (test/kit/sync-sql.ts). These are the bounds the reports claim
 * (docs/k6-scenarios.md, "How each number is measured").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialectFor } from '../../common/dialect.ts';
import { sampleHeartbeat } from '../../lib/heartbeat.ts';
import { SqlStore } from '../../lib/k6/sql-store.ts';
import { runProbe } from '../../lib/probe.ts';
import type { Clock, ProbeKey } from '../../lib/store.ts';
import { startTestStack, type TestStack } from '../kit/stack.ts';
import { openSyncSql, type SyncSqlHandle } from '../kit/sync-sql.ts';

/** A real, blocking clock like k6's (but with sub-millisecond resolution). */
const blockingClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  },
};

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

let stack: TestStack;
const handles: SyncSqlHandle[] = [];

/** A store like one VU's: its own writer and reader connection. */
function vuStore(): SqlStore {
  const writer = openSyncSql('writer', { ...stack.endpoints.writer });
  const reader = openSyncSql('reader', { ...stack.endpoints.reader });
  handles.push(writer, reader);
  return new SqlStore(writer, reader, null, {
    dialect: dialectFor('mariadb'),
    strategy: 'eventual',
    payloadBytes: 64,
    gtidWaitSeconds: 2,
  });
}

/** Sets the proxy delay and waits until nothing sent under the old one is still in flight. */
async function injectDelay(ms: number): Promise<void> {
  await stack.setLag(ms === 0 ? '0' : `${ms}ms`);
  await new Promise((r) => setTimeout(r, 2 * ms + 300));
}

beforeAll(async () => {
  stack = await startTestStack();
}, 120_000);

afterAll(async () => {
  for (const h of handles) h.close();
  await stack?.down();
});

describe('heartbeat lag, writer and sampler at the same rate and phase (10 Hz, as the scenarios run them)', () => {
  const HZ = 10;
  // The bound: ±max(2 ms, one beat interval / 10).
  const BOUND_MS = Math.max(2, 1000 / HZ / 10);

  for (const delayMs of [0, 50, 200]) {
    it(`is within ±${BOUND_MS} ms of an injected ${delayMs} ms (the old estimator read the beat interval)`, async () => {
      await injectDelay(delayMs);
      const writerVu = vuStore();
      const samplerVu = vuStore();
      const fromUs = samplerVu.writerNowUs();
      const lags: number[] = [];
      const bases = new Set<string>();
      const t0 = performance.now();
      for (let tick = 0; tick < 30; tick++) {
        // Same phase: the sampler asks right after the beat, so that beat is always in flight.
        writerVu.beat();
        const sample = sampleHeartbeat(samplerVu, fromUs, blockingClock);
        if (sample) {
          lags.push(sample.lagMs);
          bases.add(sample.basis);
        }
        blockingClock.sleep(Math.max(0, t0 + ((tick + 1) * 1000) / HZ - performance.now()));
      }
      // The first samples come before this run's first beat reached the replica: excluded, never lag.
      expect(lags.length).toBeGreaterThanOrEqual(30 - Math.ceil(((delayMs + 20) * HZ) / 1000) - 1);
      expect(bases).toEqual(new Set(['apply-stamp']));
      expect(Math.abs(median(lags) - delayMs)).toBeLessThanOrEqual(BOUND_MS);
      // Not only the median: nine in ten samples are within the bound too.
      const within = lags.filter((l) => Math.abs(l - delayMs) <= BOUND_MS).length;
      expect(within / lags.length).toBeGreaterThanOrEqual(0.9);
    }, 30_000);
  }
});

/**
 * What the measured lag may exceed the injected delay by: the delay proxy's own timer and the replica's apply of
 * the row, 1-2 ms on an idle machine; CI read 2.01 and 2.09 ms at 50 ms with the suite around it, so the bound
 * the docs state is 3 ms.
 */
const EXCESS_BOUND_MS = 3;

describe('visibility lag through the probe, from server-side stamps', () => {
  let seq = 0;
  const runId = `bounds-${process.pid}`;
  const key = (): ProbeKey => ({ runId, runner: '0', vu: 1, seq: seq++ });

  for (const delayMs of [0, 5, 50]) {
    it(`p50 − injected ${delayMs} ms is within [0, ${EXCESS_BOUND_MS}] ms, with sub-0.1 ms resolution`, async () => {
      await injectDelay(delayMs);
      const store = vuStore();
      const outcomes = Array.from({ length: 30 }, () => {
        const o = runProbe(store, blockingClock, key(), { timeoutMs: 2000, pollIntervalMs: 1 });
        blockingClock.sleep(5);
        return o;
      });
      store.flushAcks();
      expect(outcomes.every((o) => !o.timedOut && o.basis === 'apply-stamp')).toBe(true);
      const lags = outcomes.map((o) => o.visibilityLagMs as number);
      const excess = median(lags) - delayMs;
      expect(excess).toBeGreaterThanOrEqual(0);
      expect(excess).toBeLessThanOrEqual(EXCESS_BOUND_MS);
      // Microsecond stamps: values are not whole (or tenth) milliseconds like a k6 clock would give.
      expect(lags.filter((l) => Math.abs(l * 10 - Math.round(l * 10)) > 1e-6).length).toBeGreaterThan(20);
      // The server-side figure never exceeds what the client saw (ack → read completed) plus the write itself.
      for (const o of outcomes)
        expect(o.visibilityLagMs as number).toBeLessThanOrEqual((o.clientLagMs as number) + o.writeMs + 0.01);
    }, 30_000);
  }
});
