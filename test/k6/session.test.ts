import { describe, expect, it } from 'vitest';
import { HEARTBEAT_STREAM, sampleHeartbeat } from '../../lib/heartbeat.ts';
import { SessionChecker } from '../../lib/session.ts';
import { constantLag, FakeReplicatedStore, VirtualClock } from '../kit/replicated-store.ts';

describe('session guarantees', () => {
  it('flags a read that misses this VU’s acknowledged write, and nothing else', () => {
    const s = new SessionChecker(7, 10);
    s.acknowledged('a', 10);
    expect(s.readOwnWrite('a', true, 11)).toBe(false);
    expect(s.readOwnWrite('b', false, 11)).toBe(false); // never acknowledged by this VU
    expect(s.readOwnWrite('a', false, 12.5)).toBe(true);
    expect(s.counts).toEqual({ 'read-your-writes': 1, 'monotonic-reads': 0 });
    expect(s.examples).toEqual([
      {
        kind: 'read-your-writes',
        vu: 7,
        atMs: 12.5,
        detail: 'tag=a missing 2.500ms after its acknowledgement',
      },
    ]);
  });

  it('flags a stream going backwards, once per backwards read', () => {
    const s = new SessionChecker(1, 10);
    expect([5, 7, 7, 6, 8, 3].map((v, i) => s.observe('max_id', v, i))).toEqual([
      false,
      false,
      false,
      true,
      false,
      true,
    ]);
    expect(s.counts['monotonic-reads']).toBe(2);
    expect(s.examples[0]?.detail).toBe('max_id went back from 7 (seen at 1.000ms) to 6');
    // Streams are independent.
    expect(s.observe('heartbeat', 1, 9)).toBe(false);
  });

  it('keeps the high-water mark through a violation: 10, 0, 5 is two violations, both against 10', () => {
    const s = new SessionChecker(3, 10);
    expect([10, 0, 5].map((v, i) => s.observe('max_id', v, i * 10))).toEqual([false, true, true]);
    expect(s.counts).toEqual({ 'read-your-writes': 0, 'monotonic-reads': 2 });
    expect(s.examples.map((e) => [e.atMs, e.detail])).toEqual([
      [10, 'max_id went back from 10 (seen at 0.000ms) to 0'],
      [20, 'max_id went back from 10 (seen at 0.000ms) to 5'],
    ]);
    // Reaching the mark again is no violation, and going above it moves it (with its time).
    expect(s.observe('max_id', 10, 30)).toBe(false);
    expect(s.observe('max_id', 11, 40)).toBe(false);
    expect(s.observe('max_id', 10, 50)).toBe(true);
    expect(s.examples[2]?.detail).toBe('max_id went back from 11 (seen at 40.000ms) to 10');
  });

  it('remembers the newest 10 000 acknowledgements, forgetting the oldest first', () => {
    const s = new SessionChecker(1, 0);
    for (let i = 0; i < 10_000; i++) s.acknowledged(`t${i}`, i);
    // At the cap nothing is forgotten yet.
    expect(s.readOwnWrite('t0', false, 20_000)).toBe(true);
    s.acknowledged('t10000', 10_000);
    // The 10 001st forgets only the oldest: the newest (what a long run checks next) is still counted.
    expect(s.readOwnWrite('t0', false, 20_000)).toBe(false);
    expect(s.readOwnWrite('t1', false, 20_000)).toBe(true);
    expect(s.readOwnWrite('t10000', false, 20_000)).toBe(true);
    expect(s.readOwnWrite('t9999', false, 20_000)).toBe(true);
    s.acknowledged('t10001', 10_001);
    expect(s.readOwnWrite('t1', false, 20_000)).toBe(false);
    expect(s.readOwnWrite('t2', false, 20_000)).toBe(true);
    expect(s.readOwnWrite('t10001', false, 20_000)).toBe(true);
    expect(s.counts['read-your-writes']).toBe(6);
    expect(s.examples).toEqual([]);
  });

  it('keeps only the first examples but counts every violation', () => {
    const logged: string[] = [];
    const s = new SessionChecker(1, 2, (l) => logged.push(l));
    for (let i = 0; i < 5; i++) s.observe('x', 10 - i, i);
    expect(s.counts['monotonic-reads']).toBe(4);
    expect(s.examples).toHaveLength(2);
    expect(logged).toHaveLength(2);
  });

  it('catches the replica going backwards behind a round-robin reader (two replicas, 0 and 100 ms behind)', () => {
    const clock = new VirtualClock();
    const store = new FakeReplicatedStore(clock, { replicas: [constantLag(0), constantLag(100)] });
    const s = new SessionChecker(1, 10);
    store.beat(); // ts 0
    clock.sleep(10);
    store.beat(); // ts 10
    clock.sleep(95); // t = 105: replica 0 has ts 10, replica 1 only ts 0
    const seen = [1, 2, 3].map(() => sampleHeartbeat(store, 0, clock, s));
    expect(seen.map((x) => x?.tsMs)).toEqual([10, 0, 10]);
    // Replica 0 is current; replica 1's newest beat was applied 100 ms after it was written (and it still lacks
    // the beat from t = 10, 95 ms old, which is less).
    expect(seen.map((x) => x?.lagMs)).toEqual([0, 100, 0]);
    expect(s.counts['monotonic-reads']).toBe(1);
    expect(s.examples[0]?.detail).toBe(`${HEARTBEAT_STREAM} went back from 10 (seen at 105.000ms) to 0`);
  });
});

describe('heartbeat lag on the fake store (the estimator of common/heartbeat.ts)', () => {
  /** Writer and sampler at the same rate and phase, as the scenarios run them: beat, then sample at once. */
  function samePhase(lagMs: number, hz: number, ticks: number) {
    const clock = new VirtualClock();
    const store = new FakeReplicatedStore(clock, { replicas: [constantLag(lagMs)] });
    const from = store.writerNowUs();
    const lags: number[] = [];
    for (let i = 0; i < ticks; i++) {
      store.beat();
      const sample = store.sample(from);
      if (sample) lags.push(sample.lagMs);
      clock.sleep(1000 / hz);
    }
    return lags;
  }

  it('a beat in flight is not lag: the newest applied beat carries its own apply lag', () => {
    // At 10 Hz and 50 ms of lag every sample is taken while the newest beat is still in flight; the old
    // "replica age minus primary age" read 100 ms (the beat interval) for every one of them.
    for (const lag of [0, 5, 50, 200, 1000]) {
      const lags = samePhase(lag, 10, 40);
      expect(lags.length).toBeGreaterThan(25);
      expect(new Set(lags)).toEqual(new Set([lag]));
    }
  });

  it('a run that starts on an old heartbeat: nothing is reported until one of its own beats has replicated', () => {
    const clock = new VirtualClock(1_000_000);
    const store = new FakeReplicatedStore(clock, { replicas: [constantLag(50)] });
    store.seedOldBeat(343_000); // left by a run 343 s ago
    const from = store.writerNowUs();
    expect(store.sample(0)).toMatchObject({ lagMs: 0, tsMs: 1_000_000 - 343_000 }); // what an unanchored sampler saw
    store.beat();
    clock.sleep(20);
    expect(store.sample(from)).toBeNull(); // this run's beat is still in flight
    clock.sleep(40);
    expect(store.sample(from)).toMatchObject({ lagMs: 50, basis: 'apply-stamp' });
  });

  it('null before any beat arrived; Seconds_Behind stays the coarse signal', () => {
    const clock = new VirtualClock();
    const store = new FakeReplicatedStore(clock, { replicas: [constantLag(50)] });
    expect(store.sample(0)).toBeNull();
    for (let t = 0; t <= 200; t += 10) {
      store.beat();
      clock.sleep(10);
    }
    expect(store.sample(0)).toEqual({ lagMs: 50, basis: 'apply-stamp', tsMs: 160 });
    expect(store.secondsBehind()).toBe(0);
  });

  it('grows while the replica is frozen: the age of the oldest beat it lacks', () => {
    const clock = new VirtualClock();
    const store = new FakeReplicatedStore(clock, {
      replicas: [(c) => (c >= 100 ? Number.POSITIVE_INFINITY : 0)],
    });
    for (let t = 0; t <= 2500; t += 100) {
      store.beat();
      clock.sleep(100);
    }
    store.beat(); // t = 2600 on the primary
    // Only the beat from t = 0 replicated (at once); the one from t = 100 has been missing for 2500 ms.
    expect(store.sample(0)).toEqual({ lagMs: 2500, basis: 'apply-stamp', tsMs: 0 });
    clock.sleep(1000);
    expect(store.sample(0)?.lagMs).toBe(3500);
    expect(store.secondsBehind()).toBe(3);
  });

  it('without apply stamps (MySQL): the middle of the bracket, within half a beat interval', () => {
    const clock = new VirtualClock();
    const store = new FakeReplicatedStore(clock, { replicas: [constantLag(50)], applyStamps: false });
    const from = store.writerNowUs();
    const errors: number[] = [];
    for (let i = 0; i < 100; i++) {
      store.beat();
      clock.sleep(37); // sample at every phase of the 100 ms beat interval
      const sample = store.sample(from);
      if (sample) errors.push(Math.abs(sample.lagMs - 50));
      expect(sample === null || sample.basis === 'bracket').toBe(true);
      clock.sleep(63);
    }
    expect(Math.max(...errors)).toBeLessThanOrEqual(50);
  });
});
