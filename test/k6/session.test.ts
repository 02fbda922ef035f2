import { describe, expect, it } from 'vitest';
import { constantLag, FakeReplicatedStore, VirtualClock } from '../../lib/fake/replicated-store.ts';
import { HEARTBEAT_STREAM, sampleHeartbeat } from '../../lib/heartbeat.ts';
import { SessionChecker } from '../../lib/session.ts';

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
    const seen = [1, 2, 3].map(() => sampleHeartbeat(store, clock, s));
    expect(seen.map((x) => x?.tsMs)).toEqual([10, 0, 10]);
    // Lag is the replica's heartbeat age minus the primary's (95 ms): replica 0 is current, replica 1 lacks the
    // heartbeat written 10 ms after the one it has.
    expect(seen.map((x) => x?.lagMs)).toEqual([0, 10, 0]);
    expect(s.counts['monotonic-reads']).toBe(1);
    expect(s.examples[0]?.detail).toBe(`${HEARTBEAT_STREAM} went back from 10 (seen at 105.000ms) to 0`);
  });
});

describe('heartbeat lag on the fake store', () => {
  it('reads the age of the newest replicated heartbeat, and null before any arrived', () => {
    const clock = new VirtualClock();
    const store = new FakeReplicatedStore(clock, { replicas: [constantLag(50)] });
    expect(store.sample()).toBeNull();
    for (let t = 0; t < 200; t += 10) {
      store.beat();
      clock.sleep(10);
    }
    store.beat(); // t = 200: the primary's newest heartbeat is 0 ms old
    // t = 200: the newest heartbeat on the replica is the one from t = 150 (150 + 50 ≤ 200).
    expect(store.sample()).toEqual({ lagMs: 50, tsMs: 150 });
    expect(store.secondsBehind()).toBe(0);
  });

  it('does not count the heartbeat’s own age as lag: replica age minus primary age', () => {
    const clock = new VirtualClock();
    const store = new FakeReplicatedStore(clock, { replicas: [constantLag(0)] });
    store.beat(); // t = 0, on the replica at once
    clock.sleep(90); // the next heartbeat is due at 100: the replica's is 90 ms old, and so is the primary's
    expect(store.sample()).toEqual({ lagMs: 0, tsMs: 0 });
    const lagging = new FakeReplicatedStore(clock, { replicas: [constantLag(50)] });
    lagging.beat(); // t = 90
    clock.sleep(50);
    lagging.beat(); // t = 140, on the replica at 190
    clock.sleep(45); // t = 185: replica has the beat from 90 (95 ms old), primary the one from 140 (45 ms old)
    expect(lagging.sample()).toEqual({ lagMs: 50, tsMs: 90 });
  });

  it('grows while the replica is frozen', () => {
    const clock = new VirtualClock();
    const store = new FakeReplicatedStore(clock, {
      replicas: [(c) => (c >= 100 ? Number.POSITIVE_INFINITY : 0)],
    });
    for (let t = 0; t <= 2500; t += 100) {
      store.beat();
      clock.sleep(100);
    }
    store.beat(); // t = 2600 on the primary
    // Only the heartbeat from t = 0 replicated; at t = 2600 it is 2600 ms old.
    expect(store.sample()).toEqual({ lagMs: 2600, tsMs: 0 });
    expect(store.secondsBehind()).toBe(2);
  });
});
