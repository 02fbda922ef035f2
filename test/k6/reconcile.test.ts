import { describe, expect, it } from 'vitest';
import { runProbe } from '../../lib/probe.ts';
import { reconcile } from '../../lib/reconcile.ts';
import { type ProbeKey, probeTag, type ReconcileSource, type RunScope } from '../../lib/store.ts';
import {
  constantLag,
  FakeReplicatedStore,
  frozenUntil,
  type LagScript,
  VirtualClock,
} from '../kit/replicated-store.ts';

const A: RunScope = { runId: 'run1', runner: '0' };
const B: RunScope = { runId: 'run1', runner: '1' };
const opts = { catchupTimeoutMs: 10_000, pollIntervalMs: 100 };

function world(lag: LagScript = constantLag(0)) {
  const clock = new VirtualClock();
  const store = new FakeReplicatedStore(clock, { replicas: [lag] });
  const probe = (scope: RunScope, vu: number, seq: number) => {
    const key: ProbeKey = { ...scope, vu, seq };
    runProbe(store, clock, key, { timeoutMs: 5, pollIntervalMs: 1 });
    return probeTag(key);
  };
  return { clock, store, probe };
}

describe('reconciliation', () => {
  it('finds every acknowledged write on both sides', () => {
    const { clock, store, probe } = world();
    for (let vu = 1; vu <= 3; vu++) for (let i = 0; i < 4; i++) probe(A, vu, i);
    expect(reconcile(store, clock, A, opts)).toEqual({
      acked: 12,
      missingWriter: 0,
      missingReader: 0,
      catchupMs: 0,
      vusWithGaps: [],
    });
  });

  it('reports an acknowledged write the writer lost as missing on both sides', () => {
    const { clock, store, probe } = world();
    probe(A, 1, 0);
    const lost = probe(A, 2, 0);
    store.loseOnWriter(lost);
    const r = reconcile(store, clock, A, opts);
    expect(r).toMatchObject({
      acked: 2,
      missingWriter: 1,
      missingReader: 1,
      catchupMs: null,
      vusWithGaps: [2],
    });
  });

  it('lists a VU whose row the writer lost but the reader still has (a gap on the writer alone)', () => {
    const { clock, store, probe } = world();
    probe(A, 1, 0);
    store.loseOnWriterOnly(probe(A, 2, 0));
    probe(A, 2, 1);
    expect(reconcile(store, clock, A, opts)).toEqual({
      acked: 3,
      missingWriter: 1,
      missingReader: 0,
      catchupMs: 0,
      vusWithGaps: [2],
    });
  });

  it('lists the VUs with gaps in numeric order, from either side, and no others', () => {
    const { clock, store, probe } = world();
    store.neverReplicate(probe(A, 10, 0)); // the reader lacks it
    probe(A, 3, 0);
    store.loseOnWriterOnly(probe(A, 9, 0)); // the writer lacks it
    store.loseOnWriter(probe(A, 2, 0)); // both lack it
    probe(A, 1, 0);
    const r = reconcile(store, clock, A, { catchupTimeoutMs: 0, pollIntervalMs: 100 });
    expect(r).toEqual({
      acked: 5,
      missingWriter: 2,
      missingReader: 2,
      catchupMs: null,
      vusWithGaps: [2, 9, 10],
    });
  });

  it('waits a bounded time for the reader, then reports what never replicated', () => {
    const { clock, store, probe } = world();
    probe(A, 1, 0);
    store.neverReplicate(probe(A, 1, 1));
    const started = clock.now();
    const r = reconcile(store, clock, A, opts);
    expect(r).toMatchObject({
      acked: 2,
      missingWriter: 0,
      missingReader: 1,
      catchupMs: null,
      vusWithGaps: [1],
    });
    expect(clock.now() - started).toBe(10_000);
  });

  it('measures the catch-up wait from the start of reconciliation, however late in the run that is', () => {
    const { clock, store, probe } = world(frozenUntil(3_603_000));
    probe(A, 1, 0);
    clock.sleep(3_600_000 - clock.now()); // teardown after an hour-long run
    const r = reconcile(store, clock, A, opts);
    expect(r).toMatchObject({ acked: 1, missingReader: 0, catchupMs: 3000 });
    store.neverReplicate(probe(A, 1, 1));
    const started = clock.now();
    expect(reconcile(store, clock, A, opts)).toMatchObject({ acked: 2, missingReader: 1, catchupMs: null });
    expect(clock.now() - started).toBe(10_000);
  });

  it('counts rows that arrive during the catch-up wait, and how long it took', () => {
    // The replica is frozen until t = 3000 ms, then applies everything.
    const { clock, store, probe } = world(frozenUntil(3000));
    for (let i = 0; i < 5; i++) probe(A, 1, i);
    const t0 = clock.now(); // 5 probes × 5 ms timeouts plus polls: well before 3000
    const r = reconcile(store, clock, A, opts);
    expect(r).toMatchObject({ acked: 5, missingWriter: 0, missingReader: 0 });
    // Polls every 100 ms from t0 until the first poll at or after 3000 ms.
    expect(r.catchupMs).toBe(Math.ceil((3000 - t0) / 100) * 100);
  });

  it('gives up when catch-up takes longer than allowed', () => {
    const { clock, store, probe } = world(frozenUntil(3000));
    for (let i = 0; i < 5; i++) probe(A, 1, i);
    const r = reconcile(store, clock, A, { catchupTimeoutMs: 1000, pollIntervalMs: 100 });
    expect(r).toMatchObject({ acked: 5, missingReader: 5, catchupMs: null });
  });

  it('scopes by run and runner, so each k6-operator runner only answers for its own writes', () => {
    const { clock, store, probe } = world();
    for (let i = 0; i < 3; i++) probe(A, 1, i);
    for (let i = 0; i < 2; i++) store.loseOnWriter(probe(B, 1, i));
    probe({ runId: 'other-run', runner: '0' }, 1, 0);
    expect(reconcile(store, clock, A, opts)).toMatchObject({ acked: 3, missingWriter: 0, missingReader: 0 });
    expect(reconcile(store, clock, B, opts)).toMatchObject({ acked: 2, missingWriter: 2, missingReader: 2 });
  });

  it('is idempotent: teardown in every runner, or twice, gives the same answer', () => {
    const { clock, store, probe } = world();
    for (let i = 0; i < 3; i++) probe(A, 1, i);
    store.neverReplicate(probe(A, 2, 0));
    const first = reconcile(store, clock, A, { catchupTimeoutMs: 0, pollIntervalMs: 100 });
    const second = reconcile(store, clock, A, { catchupTimeoutMs: 0, pollIntervalMs: 100 });
    expect(second).toEqual(first);
    expect(first).toMatchObject({ acked: 4, missingReader: 1 });
  });

  it('finds a lost acknowledged write even when an unacknowledged committed row of the same VU is there', () => {
    const { clock, store, probe } = world();
    store.loseOnWriter(probe(A, 1, 0));
    // Committed but never acknowledged (the client gave up before the ack, say): same VU, one row either way.
    store.write({ ...A, vu: 1, seq: 1 });
    expect(reconcile(store, clock, A, opts)).toMatchObject({
      acked: 1,
      missingWriter: 1,
      missingReader: 1,
      catchupMs: null,
      vusWithGaps: [1],
    });
  });

  it('counts a write as missing on the reader until its acknowledgement has replicated there too', () => {
    const clock = new VirtualClock();
    let readerAcks = 1;
    const source: ReconcileSource = {
      acks: (endpoint) =>
        new Map([[7, endpoint === 'writer' ? { acked: 3, missing: 0 } : { acked: readerAcks, missing: 0 }]]),
    };
    const stuck = reconcile(source, clock, A, { catchupTimeoutMs: 0, pollIntervalMs: 100 });
    expect(stuck).toMatchObject({ acked: 3, missingWriter: 0, missingReader: 2, vusWithGaps: [7] });
    readerAcks = 3;
    expect(reconcile(source, clock, A, opts)).toEqual({
      acked: 3,
      missingWriter: 0,
      missingReader: 0,
      catchupMs: 0,
      vusWithGaps: [],
    });
  });

  it('has nothing to check for a run without writes', () => {
    const { clock, store } = world();
    expect(reconcile(store, clock, A, opts)).toEqual({
      acked: 0,
      missingWriter: 0,
      missingReader: 0,
      catchupMs: 0,
      vusWithGaps: [],
    });
  });
});
