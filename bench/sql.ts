/**
 * `npm run bench -- sql`: what the read-after-write probe logic itself costs. On the same in-memory fake store
 * (no lag, so no polls: only logic differs), batches of probes and of bare write+read pairs alternate in one
 * run; the median per-iteration time of each is printed with their ratio, and the extra time is put next to
 * a real point select on the local stack (~0.4 ms p95 measured here). The probe also updates its ledger
 * (one more store call), which the bare pair does not: that is part of what it costs.
 */

import { runProbe } from '../lib/probe.ts';
import { SessionChecker } from '../lib/session.ts';
import type { ProbeKey } from '../lib/store.ts';
import { constantLag, FakeReplicatedStore, VirtualClock } from '../test/kit/replicated-store.ts';

const BATCH = 5000;
const ROUNDS = 21;
const WARMUP_ROUNDS = 3;
const REAL_POINT_SELECT_US = 400;

type Variant = 'bare write+read' | 'probe' | 'probe + session checks';

function batch(variant: Variant): number {
  const clock = new VirtualClock();
  const store = new FakeReplicatedStore(clock, { replicas: [constantLag(0)] });
  const session = new SessionChecker(1, 5);
  const opts = { timeoutMs: 2000, pollIntervalMs: 1 };
  let sink = 0;
  const started = performance.now();
  for (let i = 0; i < BATCH; i++) {
    const key: ProbeKey = { runId: 'bench', runner: '0', vu: 1, seq: i };
    if (variant === 'bare write+read') {
      const ack = store.write(key);
      if (store.readAfterWrite(key).seen) sink += ack.id;
    } else {
      const o = runProbe(store, clock, key, opts, variant === 'probe' ? undefined : session);
      if (!o.stale) sink += o.id;
    }
  }
  const elapsed = performance.now() - started;
  if (sink < 0) console.log(sink); // keep the work observable
  return (elapsed * 1e6) / BATCH; // ns per iteration
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

export default async function (): Promise<void> {
  const variants: Variant[] = ['bare write+read', 'probe', 'probe + session checks'];
  const times = new Map<Variant, number[]>(variants.map((v) => [v, []]));
  for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
    // Rotate the order each round so neither variant always runs first (warm caches, GC timing).
    const order = variants.map((_, i) => variants[(i + round) % variants.length] as Variant);
    for (const v of order) {
      const ns = batch(v);
      if (round >= WARMUP_ROUNDS) times.get(v)?.push(ns);
    }
  }
  const bare = median(times.get('bare write+read') ?? []);
  console.log(
    `${ROUNDS} rounds × ${BATCH} iterations per variant, fake store, no lag (median per iteration):`,
  );
  for (const v of variants) {
    const ns = median(times.get(v) ?? []);
    const extraUs = (ns - bare) / 1000;
    const vsReal =
      v === 'bare write+read'
        ? ''
        : `; extra ${extraUs.toFixed(2)} µs = ${((extraUs / REAL_POINT_SELECT_US) * 100).toFixed(2)}% of one real point select`;
    console.log(
      `  ${v.padEnd(24)} ${(ns / 1000).toFixed(2).padStart(7)} µs  ratio ${(ns / bare).toFixed(2)}×${vsReal}`,
    );
  }
}
