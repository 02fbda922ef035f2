/**
 * The read-after-write probe: write a uniquely tagged row, read it at once on the read side (stale or fresh),
 * then poll until it is visible or the timeout passes. Lag is measured from the write's acknowledgement; a
 * timeout is reported as such and never as a lag value.
 */
import type { SessionChecker } from './session.ts';
import { type Clock, type ProbeKey, type ProbeTarget, probeTag } from './store.ts';

export interface ProbeOptions {
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
}

export interface ProbeOutcome {
  readonly tag: string;
  readonly id: number;
  /** The immediate read missed the acknowledged write. */
  readonly stale: boolean;
  /** Ack → the read that first saw the row completed; null when it timed out. */
  readonly visibilityLagMs: number | null;
  readonly timedOut: boolean;
  /** Polls after the immediate read. */
  readonly polls: number;
  readonly writeMs: number;
}

export function runProbe(
  target: ProbeTarget,
  clock: Clock,
  key: ProbeKey,
  opts: ProbeOptions,
  session?: SessionChecker,
): ProbeOutcome {
  const tag = probeTag(key);
  const started = clock.now();
  const ack = target.write(key);
  const ackedAt = clock.now();
  session?.acknowledged(tag, ackedAt);

  let fresh = false;
  let lag: number | null = null;
  let polls = 0;
  try {
    fresh = target.readAfterWrite(key, ack);
    const readAt = clock.now();
    session?.readOwnWrite(tag, fresh, readAt);
    lag = fresh ? readAt - ackedAt : null;
    while (lag === null && clock.now() - ackedAt < opts.timeoutMs) {
      // Polls are measurement, not client reads: they do not count as session violations.
      if (opts.pollIntervalMs > 0) clock.sleep(opts.pollIntervalMs);
      polls++;
      if (target.poll(key, ack)) lag = clock.now() - ackedAt;
    }
    // The deadline is checked before a poll, so the last one (or a slow immediate read, e.g. a GTID wait) can
    // complete after it: a write first seen after the timeout timed out; it is never a lag above the timeout.
    if (lag !== null && lag > opts.timeoutMs) lag = null;
  } finally {
    // The write was acknowledged even if a read failed, so the ledger records it either way; it comes after
    // the measurement so it cannot delay the reads above.
    target.recordAck(key);
  }
  return {
    tag,
    id: ack.id,
    stale: !fresh,
    visibilityLagMs: lag,
    timedOut: lag === null,
    polls,
    writeMs: ackedAt - started,
  };
}
