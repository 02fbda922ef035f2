/**
 * The read-after-write probe: write a uniquely tagged row, read it at once on the read side (stale or fresh),
 * then poll until it is visible or the timeout passes. A timeout is reported as such and never as a lag value.
 *
 * Two lags per probe:
 * - `visibilityLagMs`, the figure the reports use: from server-side times that the read path returns with the
 *   row (common/visibility.ts), e.g. the replica's own apply time minus the primary's write time. It does not
 *   contain the client's round trips or queueing, and has microsecond resolution.
 * - `clientLagMs`: from the client's receipt of the acknowledgement to the completion of the first read that saw
 *   the row, on the client's clock (whole milliseconds in k6). It adds a read round trip and any generator
 *   delay; it is kept because it is what a client of the read path experiences.
 *
 * A read that fails after the write was acknowledged (the replica died, say) ends the probe as an error-probe
 * (`readError`), and the probe still counts: leaving it out would bias the stale rate and the timeouts towards
 * the reads that survived an outage. An immediate read that failed is neither stale nor fresh; a failed poll
 * leaves the write neither seen nor timed out. A failed write is no probe: nothing was acknowledged.
 */
import type { VisibilityBasis } from '../common/visibility.ts';
import type { SessionChecker } from './session.ts';
import { type Clock, type ProbeKey, type ProbeTarget, probeTag, type Sighting } from './store.ts';

export interface ProbeOptions {
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
}

export interface ProbeOutcome {
  readonly tag: string;
  readonly id: number;
  /** The immediate read missed the acknowledged write. */
  readonly stale: boolean;
  /** Server-side visibility lag of the read that first saw the row; null when it timed out or had no times. */
  readonly visibilityLagMs: number | null;
  /** How visibilityLagMs was taken; null with it. */
  readonly basis: VisibilityBasis | null;
  /** Ack → completion of the read that first saw the row, on the client's clock; null when it timed out. */
  readonly clientLagMs: number | null;
  readonly timedOut: boolean;
  /**
   * Which read failed, ending the probe: `timedOut` is then false and the lags null; `stale` is what the
   * immediate read answered (false when it was the one that failed).
   */
  readonly readError: 'immediate' | 'poll' | null;
  /** What that read threw, for the harness to classify and log. */
  readonly error?: unknown;
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

  let first: Sighting | null = null;
  let clientLag: number | null = null;
  let fresh: boolean;
  let polls = 0;
  try {
    let immediate: Sighting;
    try {
      immediate = target.readAfterWrite(key, ack);
    } catch (err) {
      return errorOutcome(tag, ack.id, false, 'immediate', err, 0, ackedAt - started);
    }
    const readAt = clock.now();
    fresh = immediate.seen;
    session?.readOwnWrite(tag, fresh, readAt);
    if (fresh) {
      first = immediate;
      clientLag = readAt - ackedAt;
    }
    while (first === null && clock.now() - ackedAt < opts.timeoutMs) {
      // Polls are measurement, not client reads: they do not count as session violations.
      if (opts.pollIntervalMs > 0) clock.sleep(opts.pollIntervalMs);
      polls++;
      let seen: Sighting;
      try {
        seen = target.poll(key, ack);
      } catch (err) {
        return errorOutcome(tag, ack.id, !fresh, 'poll', err, polls, ackedAt - started);
      }
      if (seen.seen) {
        first = seen;
        clientLag = clock.now() - ackedAt;
      }
    }
    // The deadline is checked before a poll, so the last one (or a slow immediate read, e.g. a GTID wait) can
    // complete after it: a write first seen after the timeout timed out; it is never a lag above the timeout.
    if (clientLag !== null && clientLag > opts.timeoutMs) {
      first = null;
      clientLag = null;
    }
  } finally {
    // The write was acknowledged even if a read failed, so the ledger records it either way; it comes after
    // the measurement so it cannot delay the reads above.
    target.recordAck(key);
  }
  const visibility = first?.visibility;
  return {
    tag,
    id: ack.id,
    stale: !fresh,
    // Clamped at 0: below 0 only with clocks that disagree (docs/k6-scenarios.md says how to check skew).
    visibilityLagMs: visibility ? Math.max(0, visibility.lagUs) / 1000 : null,
    basis: visibility?.basis ?? null,
    clientLagMs: clientLag,
    timedOut: first === null,
    readError: null,
    polls,
    writeMs: ackedAt - started,
  };
}

function errorOutcome(
  tag: string,
  id: number,
  stale: boolean,
  readError: 'immediate' | 'poll',
  error: unknown,
  polls: number,
  writeMs: number,
): ProbeOutcome {
  return {
    tag,
    id,
    stale,
    visibilityLagMs: null,
    basis: null,
    clientLagMs: null,
    timedOut: false,
    readError,
    error,
    polls,
    writeMs,
  };
}
