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
import { medianFailureProbability, shareFailureProbability } from './binomial.ts';

/**
 * Sample sizes. Each bound below is a claim about a share of the samples ("nine in ten within ±10 ms", "the
 * median within 3 ms": half of them), and a finite sample can miss a claim that holds. If a share q of all
 * samples falls outside a bound, the count outside in n samples is Binomial(n, q), and the test fails when it
 * draws more than the claim leaves room for (./binomial.ts computes the tails exactly; the last test here
 * checks the figures below, so they cannot drift from the constants).
 *
 * - Heartbeat, "nine in ten within ±10 ms". On a shared, noisy VM a few samples stray (a stall of the replica's
 *   apply, of the proxy's timer or of this process); take q = 5%, half of what the claim allows. At 30 ticks
 *   (28 samples at 200 ms, so 2 strays allowed) that failed 16% of the time per delay, about one run in five.
 *   At 200 ticks (196-200 samples, 19-20 strays allowed) it fails at most 0.26% of the time per delay, 0.8%
 *   for the three; and a real stray rate of 15% still fails it 97% of the time, so the claim keeps its teeth.
 *   (The tail assumes strays come one at a time, as they did here: isolated samples 10-50 ms out, 0-2.5% of
 *   them even with both cores kept busy. A stall long enough to spoil several ticks in a row counts more than
 *   once; a 20 s window averages over such stalls where a 3 s one was at the mercy of a single one.)
 * - Visibility, "p50 − injected ≤ 3 ms": the median is above the bound when at most half the samples are at or
 *   below it. On a busy machine whose true p50 excess is about 2 ms (CI read 2.01 and 2.09), say 65% of the
 *   values are within 3 ms: 30 probes then fail 6.5% of runs, 200 probes 1 in 100,000 (at 60%: 18% and 0.26%).
 *
 * Cost: 200 ticks at 10 Hz are 20 s per delay; 200 probes take ~2 s at 0 and 5 ms and ~12 s at 50 ms; the file
 * about 80 s. The time between two setLag calls is now 20 s of blocked event loop, far past the delay proxy's
 * 5 s keep-alive: setLag's putJson (stack/control-request.ts) retries the stale connection that leaves.
 */
const HEARTBEAT_TICKS = 200;
const PROBES = 200;
/** The heartbeat claim: at least this share of the samples is within the bound. */
const HEARTBEAT_SHARE = 0.9;

/** A real, blocking clock like k6's (but with sub-millisecond resolution). */
const blockingClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  },
};

/** The element at `f` of the sorted sample (f = 0.5: the median, as the reports take it). */
const quantile = (xs: readonly number[], f: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(f * s.length))] as number;
};
const median = (xs: readonly number[]) => quantile(xs, 0.5);
const ms = (x: number) => x.toFixed(2);

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

const HZ = 10;
// The bound: ±max(2 ms, one beat interval / 10).
const BOUND_MS = Math.max(2, 1000 / HZ / 10);
const HEARTBEAT_DELAYS_MS = [0, 50, 200];
/** The first samples come before this run's first beat reached the replica: excluded, never lag. */
const minHeartbeatSamples = (delayMs: number) =>
  HEARTBEAT_TICKS - Math.ceil(((delayMs + 20) * HZ) / 1000) - 1;

/**
 * The ±10 ms bound is the estimator's (exact for a steady lag: the beat's own apply stamp); what strays past it
 * is the machine's (the proxy's timer, the replica's apply or this process stalled). Nine in ten states how
 * rarely the lab's machine may do that, so this share is a property of the machine as much as of the tool.
 */
describe('heartbeat lag, writer and sampler at the same rate and phase (10 Hz, as the scenarios run them)', () => {
  for (const delayMs of HEARTBEAT_DELAYS_MS) {
    it(`is within ±${BOUND_MS} ms of an injected ${delayMs} ms (the old estimator read the beat interval)`, async () => {
      await injectDelay(delayMs);
      const writerVu = vuStore();
      const samplerVu = vuStore();
      const fromUs = samplerVu.writerNowUs();
      const lags: number[] = [];
      const bases = new Set<string>();
      const t0 = performance.now();
      for (let tick = 0; tick < HEARTBEAT_TICKS; tick++) {
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
      expect(lags.length).toBeGreaterThanOrEqual(minHeartbeatSamples(delayMs));
      expect(bases).toEqual(new Set(['apply-stamp']));
      const offsets = lags.map((l) => l - delayMs);
      const within = offsets.filter((d) => Math.abs(d) <= BOUND_MS).length;
      console.log(
        `heartbeat at ${delayMs} ms: ${within}/${lags.length} within ±${BOUND_MS} ms, offset p50 ${ms(median(offsets))}` +
          ` p90 ${ms(quantile(offsets, 0.9))} max ${ms(quantile(offsets, 1))} ms`,
      );
      expect(Math.abs(median(offsets))).toBeLessThanOrEqual(BOUND_MS);
      // Not only the median: nine in ten samples are within the bound too.
      expect(within / lags.length).toBeGreaterThanOrEqual(HEARTBEAT_SHARE);
    }, 60_000);
  }
});

/**
 * What the measured lag may exceed the injected delay by: the delay proxy's own timer and the replica's apply of
 * the row, 1-2 ms on an idle machine; CI read 2.01 and 2.09 ms at 50 ms with the suite around it, so the bound
 * the docs state is 3 ms. This upper bound is the local stack's on this machine, not the tool's (the docs report
 * what the system adds "as measured"): the tool's own claims are the lower bound (never below the injected
 * delay), the µs resolution and server ≤ client. With 200 probes the p50 is no longer a matter of luck, so a
 * failure here says this machine adds more than 3 ms at the median, not that the sample was thin.
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
      const outcomes = Array.from({ length: PROBES }, () => {
        const o = runProbe(store, blockingClock, key(), { timeoutMs: 2000, pollIntervalMs: 1 });
        blockingClock.sleep(5);
        return o;
      });
      store.flushAcks();
      expect(outcomes.every((o) => !o.timedOut && o.basis === 'apply-stamp')).toBe(true);
      const lags = outcomes.map((o) => o.visibilityLagMs as number);
      const excesses = lags.map((l) => l - delayMs);
      const excess = median(excesses);
      console.log(
        `visibility at ${delayMs} ms: excess p50 ${ms(excess)} p90 ${ms(quantile(excesses, 0.9))}` +
          ` max ${ms(quantile(excesses, 1))} ms, ${excesses.filter((e) => e <= EXCESS_BOUND_MS).length}/${PROBES}` +
          ` within ${EXCESS_BOUND_MS} ms`,
      );
      expect(excess).toBeGreaterThanOrEqual(0);
      expect(excess).toBeLessThanOrEqual(EXCESS_BOUND_MS);
      // Microsecond stamps: values are not whole (or tenth) milliseconds like a k6 clock would give.
      // (A µs value is a whole tenth 1 time in 100; the bound asks for two in three, as 20 of 30 did.)
      expect(lags.filter((l) => Math.abs(l * 10 - Math.round(l * 10)) > 1e-6).length).toBeGreaterThan(
        (PROBES * 2) / 3,
      );
      // The server-side figure never exceeds what the client saw (ack → read completed) plus the write itself.
      for (const o of outcomes)
        expect(o.visibilityLagMs as number).toBeLessThanOrEqual((o.clientLagMs as number) + o.writeMs + 0.01);
    }, 60_000);
  }
});

describe('the sample sizes (the figures in the comment at the top)', () => {
  it('fail a claim that holds rarely, and one that does not almost always', () => {
    const heartbeatCounts = HEARTBEAT_DELAYS_MS.flatMap((d) =>
      Array.from(
        { length: HEARTBEAT_TICKS - minHeartbeatSamples(d) + 1 },
        (_, i) => minHeartbeatSamples(d) + i,
      ),
    );
    for (const n of heartbeatCounts) {
      // 5% strays (the claim holds): a false failure about 1 in 400 per delay.
      expect(shareFailureProbability(n, HEARTBEAT_SHARE, 0.05)).toBeLessThan(0.0026);
      // 15% strays (the claim is false): caught 97 times in 100.
      expect(shareFailureProbability(n, HEARTBEAT_SHARE, 0.15)).toBeGreaterThan(0.97);
    }
    // The thin sample this replaced: 28 samples at 200 ms failed 16% of the time.
    expect(shareFailureProbability(28, HEARTBEAT_SHARE, 0.05)).toBeCloseTo(0.163, 3);
    // The visibility median, with 65% (60%) of the values within the bound.
    expect(medianFailureProbability(PROBES, 0.65)).toBeLessThan(1e-5);
    expect(medianFailureProbability(PROBES, 0.6)).toBeLessThan(0.003);
    expect(medianFailureProbability(30, 0.65)).toBeCloseTo(0.065, 2);
  });
});
