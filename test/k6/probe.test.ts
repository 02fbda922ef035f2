import { describe, expect, it } from 'vitest';
import { type ProbeOutcome, runProbe } from '../../lib/probe.ts';
import { SessionChecker } from '../../lib/session.ts';
import type { ProbeKey } from '../../lib/store.ts';
import {
  constantLag,
  FakeReplicatedStore,
  frozen,
  type LagScript,
  VirtualClock,
} from '../kit/replicated-store.ts';

// Virtual costs: a write takes 0.5 ms, a read 0.25 ms, polls are 1 ms apart. So the immediate read completes
// 0.25 ms after the ack, and poll k completes 0.25 + 1.25·k ms after it: the client-side lag for a replication
// delay L is the first such value ≥ L, while the server-side lag (the replica's apply stamp minus the write
// time) is L itself. (All of these are exact in binary floating point.)
const WRITE_MS = 0.5;
const READ_MS = 0.25;
const opts = { timeoutMs: 100, pollIntervalMs: 1 };
const key = (seq: number, vu = 1): ProbeKey => ({ runId: 'run', runner: '0', vu, seq });

function probeRun(lag: LagScript, n: number, timeoutMs = opts.timeoutMs, session?: SessionChecker) {
  const clock = new VirtualClock();
  const store = new FakeReplicatedStore(clock, {
    writeLatencyMs: WRITE_MS,
    readLatencyMs: READ_MS,
    replicas: [lag],
  });
  const outcomes: ProbeOutcome[] = [];
  for (let i = 0; i < n; i++) outcomes.push(runProbe(store, clock, key(i), { ...opts, timeoutMs }, session));
  return { outcomes, store, clock };
}

describe('read-after-write probe on the fake replicated store', () => {
  it('sees its write at once when replication is faster than one read', () => {
    const { outcomes } = probeRun(constantLag(0), 3);
    expect(outcomes.map((o) => o.stale)).toEqual([false, false, false]);
    expect(outcomes.map((o) => o.clientLagMs)).toEqual([0.25, 0.25, 0.25]);
    expect(outcomes.map((o) => [o.visibilityLagMs, o.basis])).toEqual(Array(3).fill([0, 'apply-stamp']));
    expect(outcomes.every((o) => o.polls === 0 && !o.timedOut)).toBe(true);
  });

  it('measures a 50 ms lag exactly on the server side, and to one poll interval on the client side', () => {
    const { outcomes } = probeRun(constantLag(50), 4);
    // ceil((50 - 0.25) / 1.25) = 40 polls; 0.25 + 40 · 1.25 = 50.25 ms.
    for (const o of outcomes)
      expect(o).toMatchObject({
        stale: true,
        visibilityLagMs: 50,
        basis: 'apply-stamp',
        clientLagMs: 50.25,
        polls: 40,
        timedOut: false,
      });
    expect(outcomes[0]?.writeMs).toBe(WRITE_MS);
    // Each probe's own write, also for those that start later on the clock.
    expect(outcomes.map((o) => o.writeMs)).toEqual([WRITE_MS, WRITE_MS, WRITE_MS, WRITE_MS]);
  });

  it('counts exactly the stale reads of a mixed lag script', () => {
    // Every third write replicates after 5 ms, the others instantly.
    const lag: LagScript = (_, index) => (index % 3 === 0 ? 5 : 0);
    const { outcomes } = probeRun(lag, 9);
    expect(outcomes.filter((o) => o.stale)).toHaveLength(3);
    // ceil(4.75 / 1.25) = 4 polls → 5.25 ms.
    expect(outcomes.filter((o) => o.stale).map((o) => o.clientLagMs)).toEqual([5.25, 5.25, 5.25]);
    expect(outcomes.filter((o) => o.stale).map((o) => o.visibilityLagMs)).toEqual([5, 5, 5]);
    expect(outcomes.filter((o) => !o.stale).every((o) => o.clientLagMs === 0.25)).toBe(true);
    expect(outcomes.filter((o) => !o.stale).every((o) => o.visibilityLagMs === 0)).toBe(true);
  });

  it('reports a frozen replica as timeouts, never as lag values', () => {
    const { outcomes, clock } = probeRun(frozen, 2, 10);
    // Polls continue while 0.25 + 1.25·k < 10: k = 0..7, so 8 polls, then the deadline.
    for (const o of outcomes)
      expect(o).toMatchObject({
        stale: true,
        timedOut: true,
        clientLagMs: null,
        visibilityLagMs: null,
        basis: null,
        polls: 8,
      });
    // Two probes: write, immediate read, 8 × (1 + 0.25), ledger write.
    expect(clock.now()).toBe(2 * (WRITE_MS + READ_MS + 8 * 1.25 + WRITE_MS));
  });

  it('starts no poll at the deadline itself', () => {
    // Polls are checked at 0.25 + 1.25·k ms after the ack; with a 10.25 ms timeout the check at k = 8 is exactly
    // at the deadline, so it is the end: 8 polls, as with a 10 ms timeout.
    const { outcomes, clock } = probeRun(frozen, 1, 10.25);
    expect(outcomes[0]).toMatchObject({ timedOut: true, polls: 8 });
    expect(clock.now()).toBe(WRITE_MS + READ_MS + 8 * 1.25 + WRITE_MS);
  });

  it('counts a write first seen after the timeout as a timeout, never as a lag above it', () => {
    // Lag 9.5 ms, timeout 10 ms: poll 7 starts at 9 ms (before the deadline) and completes at 10.25 ms.
    const { outcomes } = probeRun(constantLag(9.5), 1, 10);
    expect(outcomes[0]).toMatchObject({ stale: true, timedOut: true, clientLagMs: null, polls: 8 });
    // A slow immediate read (a GTID wait, say) that returns fresh after the timeout is a timeout too.
    const clock = new VirtualClock();
    const store = new FakeReplicatedStore(clock, { readLatencyMs: 600, replicas: [constantLag(0)] });
    const o = runProbe(store, clock, key(0), { timeoutMs: 500, pollIntervalMs: 1 });
    expect(o).toMatchObject({
      stale: false,
      timedOut: true,
      clientLagMs: null,
      visibilityLagMs: null,
      polls: 0,
    });
    // At exactly the timeout it is still a lag.
    expect(probeRun(constantLag(10), 1, 10.25).outcomes[0]).toMatchObject({ clientLagMs: 10.25 });
  });

  it('a slow read after a fast replication: the server-side lag is the replication, not the read', () => {
    // The replica applies 1 ms after the commit; the read takes 20 ms (a loaded generator, a slow network).
    const clock = new VirtualClock();
    const store = new FakeReplicatedStore(clock, { readLatencyMs: 20, replicas: [constantLag(1)] });
    const o = runProbe(store, clock, key(0), opts);
    expect(o).toMatchObject({ stale: false, visibilityLagMs: 1, basis: 'apply-stamp', clientLagMs: 20 });
    // Without apply stamps the replica's time at the read is all there is: an upper bound, labelled so.
    const unstamped = new FakeReplicatedStore(clock, {
      readLatencyMs: 20,
      replicas: [constantLag(1)],
      applyStamps: false,
    });
    expect(runProbe(unstamped, clock, key(1), opts)).toMatchObject({
      visibilityLagMs: 20,
      basis: 'read-time',
    });
  });

  it('batches acknowledgements: one ledger write per batch, the rest at the flush, each one checked', () => {
    const clock = new VirtualClock();
    const store = new FakeReplicatedStore(clock, { ackBatch: 4, replicas: [constantLag(0)] });
    for (let i = 0; i < 10; i++) runProbe(store, clock, key(i), opts);
    const scope = { runId: 'run', runner: '0' };
    expect(store.ops.ledger).toBe(2); // 4 + 4 written, 2 still buffered
    expect(store.acks('writer', scope).get(1)).toEqual({ acked: 8, missing: 0 });
    store.flushAcks();
    expect(store.ops.ledger).toBe(3);
    expect(store.acks('writer', scope).get(1)).toEqual({ acked: 10, missing: 0 });
  });

  it('gives every probe a distinct tag and records each acknowledgement in the ledger', () => {
    const { outcomes, store } = probeRun(constantLag(0), 5);
    expect(new Set(outcomes.map((o) => o.tag)).size).toBe(5);
    expect(outcomes[2]?.tag).toBe('run:0:1:2');
    expect(store.acks('writer', { runId: 'run', runner: '0' }).get(1)?.acked).toBe(5);
    expect(store.ops).toEqual({ writes: 5, reads: 5, ledger: 5 });
  });

  it('polls back to back when the poll interval is 0', () => {
    const { outcomes } = probeRun(constantLag(1), 1);
    // Lag 1 ms: the first poll completes at 0.25 + 1.25 = 1.5 ms.
    expect(outcomes[0]).toMatchObject({ stale: true, clientLagMs: 1.5, polls: 1 });
    const clock = new VirtualClock();
    const store = new FakeReplicatedStore(clock, { readLatencyMs: READ_MS, replicas: [constantLag(1)] });
    const o = runProbe(store, clock, key(0), { timeoutMs: 100, pollIntervalMs: 0 });
    // Reads every 0.25 ms: visible at 1 ms after 4 reads (the immediate one and 3 polls).
    expect(o).toMatchObject({ stale: true, clientLagMs: 1, polls: 3 });
  });

  it('an immediate read that fails makes an error-probe: acknowledged and ledgered, neither stale nor timed out', () => {
    const clock = new VirtualClock(1000);
    const store = new FakeReplicatedStore(clock, { writeLatencyMs: WRITE_MS });
    const down = new Error('reader down');
    store.readAfterWrite = () => {
      throw down;
    };
    const o = runProbe(store, clock, key(0), opts);
    expect(o).toMatchObject({ readError: 'immediate', error: down, stale: false, timedOut: false, polls: 0 });
    expect(o).toMatchObject({ tag: 'run:0:1:0', id: 1, writeMs: WRITE_MS, basis: null });
    expect(o.visibilityLagMs).toBeNull();
    expect(o.clientLagMs).toBeNull();
    expect(store.acks('writer', { runId: 'run', runner: '0' }).get(1)?.acked).toBe(1);
  });

  it('a poll that fails after a stale read ends the probe: stale (the read answered), not timed out', () => {
    const clock = new VirtualClock(1000);
    const store = new FakeReplicatedStore(clock, { writeLatencyMs: WRITE_MS, replicas: [constantLag(50)] });
    let polls = 0;
    store.poll = () => {
      if (++polls === 3) throw new Error('replica killed');
      return { seen: false };
    };
    const o = runProbe(store, clock, key(0), opts);
    expect(o).toMatchObject({ readError: 'poll', stale: true, timedOut: false, polls: 3 });
    expect(o).toMatchObject({
      tag: 'run:0:1:0',
      id: 1,
      writeMs: WRITE_MS,
      visibilityLagMs: null,
      clientLagMs: null,
      basis: null,
    });
    expect(String(o.error)).toContain('replica killed');
    expect(store.acks('writer', { runId: 'run', runner: '0' }).get(1)?.acked).toBe(1);
  });

  it('a failed write is no probe: the error goes through and nothing is acknowledged', () => {
    const clock = new VirtualClock();
    const store = new FakeReplicatedStore(clock);
    store.write = () => {
      throw new Error('writer down');
    };
    expect(() => runProbe(store, clock, key(0), opts)).toThrow('writer down');
    expect(store.acks('writer', { runId: 'run', runner: '0' }).size).toBe(0);
  });

  it('answers readError null when every read answered', () => {
    const { outcomes } = probeRun(constantLag(0), 1);
    expect(outcomes[0]?.readError).toBeNull();
  });

  it('counts one read-your-writes violation per stale immediate read, not per poll', () => {
    const lines: string[] = [];
    const session = new SessionChecker(1, 2, (l) => lines.push(l));
    const lag: LagScript = (_, index) => (index % 2 === 0 ? 50 : 0);
    probeRun(lag, 6, 100, session);
    expect(session.counts['read-your-writes']).toBe(3);
    expect(session.examples).toHaveLength(2);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      'read-your-writes violation (vu 1, t=0.750ms): tag=run:0:1:0 missing 0.250ms after its acknowledgement',
    );
  });
});
