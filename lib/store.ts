/**
 * The small interfaces the probe, session checks, heartbeat sampling and reconciliation are written against.
 * xk6-sql implements them in lib/k6/sql-store.ts, the deterministic fake in test/kit/, and an HTTP-backed store
 * (the CQRS API) can implement them too. Runtime-neutral.
 */
import type { HeartbeatBasis } from '../common/heartbeat.ts';
import type { Visibility } from '../common/visibility.ts';

export type Endpoint = 'writer' | 'reader';

/** Milliseconds (fractions allowed) and a blocking sleep: k6's clock in scenarios, a virtual one in tests. */
export interface Clock {
  now(): number;
  sleep(ms: number): void;
}

/** Where a run's rows belong: one run id, one runner instance (k6-operator runs setup/teardown per runner). */
export interface RunScope {
  readonly runId: string;
  readonly runner: string;
}

/** Identity of one probe write: unique per run, runner, VU and per-VU sequence number. */
export interface ProbeKey extends RunScope {
  readonly vu: number;
  readonly seq: number;
}

export function probeTag(key: ProbeKey): string {
  return `${key.runId}:${key.runner}:${key.vu}:${key.seq}`;
}

export interface WriteAck {
  /** Row id (or any store-specific reference) returned by the write. */
  readonly id: number;
  /** Commit GTID when the strategy needs one. */
  readonly gtid?: string;
}

/** One read of a probe row. */
export interface Sighting {
  readonly seen: boolean;
  /**
   * For a seen row: when it became visible where it was read, from server-side times (common/visibility.ts).
   * Absent when the read path cannot say; the probe then has only its client-side figure.
   */
  readonly visibility?: Visibility;
}

/** What the read-after-write probe needs from a store. Every method blocks and throws on failure. */
export interface ProbeTarget {
  write(key: ProbeKey): WriteAck;
  /** The read a client makes right after its write; a strategy may wait, route or use a cache here. */
  readAfterWrite(key: ProbeKey, ack: WriteAck): Sighting;
  /** A plain read on the read side, used to poll until the write is visible. */
  poll(key: ProbeKey, ack: WriteAck): Sighting;
  /**
   * Remembers the acknowledged write for reconciliation: one ledger row per write on the writer side, written
   * in batches (lib/ledger.ts), so an acknowledgement may stay buffered until the VU flushes.
   */
  recordAck(key: ProbeKey): void;
}

export interface HeartbeatSample {
  /** Replica lag from the heartbeat history (common/heartbeat.ts estimateHeartbeatLag). */
  readonly lagMs: number;
  /** `apply-stamp` (exact on one clock) or `bracket` (no stamps: ± half a beat interval). */
  readonly basis: HeartbeatBasis;
  /** The newest heartbeat the replica holds, for monotonic-read checks. */
  readonly tsMs: number;
}

export interface HeartbeatSource {
  /** Writer side: one heartbeat. */
  beat(): void;
  /** The writer's clock now, in microseconds since the epoch: `sample` ignores beats older than this. */
  writerNowUs(): number;
  /** Reader side: null until one of the beats since `fromUs` has replicated. */
  sample(fromUs: number): HeartbeatSample | null;
  /** Seconds_Behind_Master/Source: null when unknown (thread stopped, not a replica, no privilege). */
  secondsBehind(): number | null;
}

/** One VU's acknowledged writes as one endpoint sees them. */
export interface AckCheck {
  /** Acknowledgements in the ledger there (on the reader: those replicated so far). */
  readonly acked: number;
  /** Of those, the ones whose own row is absent there: an anti-join of the ledger with the rows, by key. */
  readonly missing: number;
}

export interface ReconcileSource {
  /**
   * Per VU of one run and runner, on one endpoint: its acknowledgements and which of them have no row. Looked
   * up write by write, so a row committed but never acknowledged cannot hide a lost acknowledged one.
   */
  acks(endpoint: Endpoint, scope: RunScope): ReadonlyMap<number, AckCheck>;
}
