/**
 * A deterministic in-memory primary with async replicas, on a virtual clock. Lag is scripted per replica as a
 * function of the commit time, so tests know exactly which reads are stale, what lag each probe measures and
 * when it times out. Several replicas behind one reader endpoint (round-robin, like a router) make
 * monotonic-read violations reproducible. Used by unit tests and the benchmark; runtime-neutral.
 */
import { estimateHeartbeatLag } from '../../common/heartbeat.ts';
import { AckLedger } from '../../lib/ledger.ts';
import {
  type AckCheck,
  type Clock,
  type Endpoint,
  type HeartbeatSample,
  type HeartbeatSource,
  type ProbeKey,
  type ProbeTarget,
  probeTag,
  type ReconcileSource,
  type RunScope,
  type Sighting,
  type WriteAck,
} from '../../lib/store.ts';

/** Replication delay in ms for a write committed at `commitAtMs`; Infinity means never (a frozen replica). */
export type LagScript = (commitAtMs: number, index: number) => number;

export const constantLag =
  (ms: number): LagScript =>
  () =>
    ms;
export const frozen: LagScript = () => Number.POSITIVE_INFINITY;
/** Frozen until `thawAtMs`, then everything queued applies at once. */
export const frozenUntil =
  (thawAtMs: number): LagScript =>
  (commitAt) =>
    Math.max(0, thawAtMs - commitAt);

export class VirtualClock implements Clock {
  constructor(private t = 0) {}
  now(): number {
    return this.t;
  }
  sleep(ms: number): void {
    this.t += Math.max(0, ms);
  }
}

export interface FakeStoreOptions {
  /** Virtual time each write (and ledger update) takes; the commit is at its end. */
  readonly writeLatencyMs?: number;
  /** Virtual time each read takes; visibility is judged at its end. */
  readonly readLatencyMs?: number;
  /** One lag script per replica behind the reader endpoint, used round-robin. */
  readonly replicas?: readonly LagScript[];
  /**
   * Acknowledgements per ledger write, like the SQL store's batches (lib/ledger.ts); 1 (the default) writes
   * each at once. With more, `flushAcks` writes the rest.
   */
  readonly ackBatch?: number;
  /** Replicas stamp applied rows and beats with their apply time (a MariaDB replica with the triggers). */
  readonly applyStamps?: boolean;
}

interface StoredRow {
  readonly id: number;
  readonly key: ProbeKey;
  readonly commitAt: number;
  readonly visibleAt: readonly number[];
  onWriter: boolean;
}

interface Beat {
  readonly ts: number;
  readonly visibleAt: readonly number[];
}

const US = 1000;

export class FakeReplicatedStore implements ProbeTarget, HeartbeatSource, ReconcileSource {
  readonly ops = { writes: 0, reads: 0, ledger: 0 };
  private readonly ledger: AckLedger;
  private readonly applyStamps: boolean;
  private readonly rows = new Map<string, StoredRow>();
  /** The per-ack ledger: acknowledged probe keys per run and runner (replicated at once to the reader). */
  private readonly acked = new Map<string, ProbeKey[]>();
  private readonly beats: Beat[] = [];
  private readonly writeLatency: number;
  private readonly readLatency: number;
  private readonly replicas: readonly LagScript[];
  private nextId = 1;
  private cursor = 0;
  private readonly dropped = new Set<string>();

  constructor(
    readonly clock: VirtualClock,
    opts: FakeStoreOptions = {},
  ) {
    this.writeLatency = opts.writeLatencyMs ?? 0;
    this.readLatency = opts.readLatencyMs ?? 0;
    this.replicas = opts.replicas ?? [constantLag(0)];
    this.applyStamps = opts.applyStamps ?? true;
    this.ledger = new AckLedger(
      { writeAcks: (keys) => this.writeAcks(keys) },
      { maxBatch: opts.ackBatch ?? 1 },
    );
  }

  /** Heartbeats written before this store's run (an earlier run's leftovers), `ageMs` before now. */
  seedOldBeat(ageMs: number): void {
    const ts = this.clock.now() - ageMs;
    this.beats.push({ ts, visibleAt: this.replicas.map(() => ts) });
  }

  // --- fault injection for reconciliation tests ---
  /** The writer forgets an acknowledged row (and so no replica ever gets it). */
  loseOnWriter(tag: string): void {
    const row = this.rows.get(tag);
    if (row) row.onWriter = false;
    this.dropped.add(tag);
  }
  /**
   * The writer forgets an acknowledged row that had already replicated (a failover to a primary that lacked it,
   * a delete with the binlog off): the replicas keep it.
   */
  loseOnWriterOnly(tag: string): void {
    const row = this.rows.get(tag);
    if (row) row.onWriter = false;
  }
  /** The row stays on the writer but never reaches any replica. */
  neverReplicate(tag: string): void {
    this.dropped.add(tag);
  }

  // --- ProbeTarget ---
  write(key: ProbeKey): WriteAck {
    this.clock.sleep(this.writeLatency);
    this.ops.writes++;
    const commitAt = this.clock.now();
    const index = this.nextId - 1;
    const row: StoredRow = {
      id: this.nextId++,
      key,
      commitAt,
      visibleAt: this.replicas.map((lag) => commitAt + lag(commitAt, index)),
      onWriter: true,
    };
    this.rows.set(probeTag(key), row);
    return { id: row.id };
  }
  readAfterWrite(key: ProbeKey): Sighting {
    return this.readReplica(probeTag(key));
  }
  poll(key: ProbeKey): Sighting {
    return this.readReplica(probeTag(key));
  }
  recordAck(key: ProbeKey): void {
    this.ledger.record(key);
  }
  flushAcks(): void {
    this.ledger.flush();
  }
  /** One ledger statement for all of `keys`. */
  private writeAcks(keys: readonly ProbeKey[]): void {
    this.clock.sleep(this.writeLatency);
    this.ops.ledger++;
    for (const key of keys) {
      const k = scopeKey(key);
      const list = this.acked.get(k) ?? [];
      list.push(key);
      this.acked.set(k, list);
    }
  }

  // --- HeartbeatSource ---
  beat(): void {
    this.clock.sleep(this.writeLatency);
    const ts = this.clock.now();
    const index = this.beats.length;
    this.beats.push({ ts, visibleAt: this.replicas.map((lag) => ts + lag(ts, index)) });
  }
  writerNowUs(): number {
    return this.clock.now() * US;
  }
  /**
   * Like the SQL store: the newest beat the replica holds (with its apply stamp), then the oldest beat the
   * primary has after it, through the same estimator (common/heartbeat.ts).
   */
  sample(fromUs: number): HeartbeatSample | null {
    this.clock.sleep(this.readLatency);
    const replica = this.nextReplica();
    const now = this.clock.now();
    let newest: Beat | undefined;
    for (const beat of this.beats) {
      if ((beat.visibleAt[replica] as number) <= now && (!newest || beat.ts > newest.ts)) newest = beat;
    }
    if (!newest) return null;
    const held = newest;
    const missing = this.beats
      .filter((b) => b.ts > held.ts)
      .reduce<number | null>((min, b) => (min === null || b.ts < min ? b.ts : min), null);
    const estimate = estimateHeartbeatLag(
      {
        tsUs: held.ts * US,
        appliedUs: this.applyStamps ? (held.visibleAt[replica] as number) * US : null,
        nowUs: now * US,
      },
      missing === null ? null : missing * US,
      fromUs,
    );
    return estimate && { lagMs: estimate.lagUs / US, basis: estimate.basis, tsMs: estimate.beatUs / US };
  }
  secondsBehind(): number | null {
    const now = this.clock.now();
    const applied = this.beats.filter((b) => (b.visibleAt[0] as number) <= now);
    const last = applied[applied.length - 1];
    return last ? Math.floor((now - last.ts) / 1000) : null;
  }

  // --- ReconcileSource ---
  acks(endpoint: Endpoint, scope: RunScope): ReadonlyMap<number, AckCheck> {
    this.clock.sleep(this.readLatency);
    const now = this.clock.now();
    const out = new Map<number, AckCheck>();
    for (const key of this.acked.get(scopeKey(scope)) ?? []) {
      const tag = probeTag(key);
      const row = this.rows.get(tag);
      const present =
        row !== undefined &&
        (endpoint === 'writer'
          ? row.onWriter
          : !this.dropped.has(tag) && (row.visibleAt[0] as number) <= now);
      const prev = out.get(key.vu) ?? { acked: 0, missing: 0 };
      out.set(key.vu, { acked: prev.acked + 1, missing: prev.missing + (present ? 0 : 1) });
    }
    return out;
  }

  /**
   * Visibility is judged at the end of the read (its latency is spent first), and a seen row reports its apply
   * lag, as the SQL store's apply stamp does (or, without stamps, the replica's time at the read).
   */
  private readReplica(tag: string): Sighting {
    this.clock.sleep(this.readLatency);
    const at = this.clock.now();
    this.ops.reads++;
    const replica = this.nextReplica();
    const row = this.rows.get(tag);
    if (!row || this.dropped.has(tag)) return { seen: false };
    const visibleAt = row.visibleAt[replica] as number;
    if (visibleAt > at) return { seen: false };
    const lagMs = this.applyStamps ? visibleAt - row.commitAt : at - row.commitAt;
    return {
      seen: true,
      visibility: { lagUs: lagMs * US, basis: this.applyStamps ? 'apply-stamp' : 'read-time' },
    };
  }
  private nextReplica(): number {
    const r = this.cursor % this.replicas.length;
    this.cursor++;
    return r;
  }
}

function scopeKey(scope: RunScope): string {
  return `${scope.runId}\u0000${scope.runner}`;
}
