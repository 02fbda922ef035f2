/**
 * The probe, heartbeat and reconciliation interfaces (lib/store.ts) on xk6-sql: writes go to the writer, reads
 * to the reader (or, by strategy, to the writer, or after a GTID wait), the ledger (one row per acknowledged
 * write, written in batches) lives on the writer. Under `sync-before` reads go to the reader as under
 * `eventual`: the harness opened the reader with the cluster's causal-read session variable in its DSN
 * (common/mysql-strategies.ts syncBeforeDsnParams), so the server makes each read wait.
 */
import type { Dialect } from '../../common/dialect.ts';
import {
  BEAT_STATEMENTS,
  estimateHeartbeatLag,
  oldestMissingFromRow,
  replicaBeatFromRow,
} from '../../common/heartbeat.ts';
import { ackValues, insertAcks } from '../../common/ledger-sql.ts';
import type { SqlProbeStrategy } from '../../common/strategies.ts';
import { type DecodedRow, numberCell, stringCell } from '../decode.ts';
import { ACK_BATCH, AckLedger } from '../ledger.ts';
import { ackChecks } from '../reconcile.ts';
import type { SqlHandle } from '../sql/handle.ts';
import { probePayload, SQL } from '../sql/statements.ts';
import {
  type AckCheck,
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
} from '../store.ts';

/** The writer prunes heartbeat_log once per this many beats (at 10 Hz: once a minute). */
const PRUNE_EVERY_BEATS = 600;

/** A probeSighting result: no row is "not seen"; a row carries its server-side visibility lag. */
export function sightingFromRows(rows: readonly DecodedRow[], onWriter: boolean): Sighting {
  const row = rows[0];
  if (!row) return { seen: false };
  // On the primary a row is visible from its own commit: by definition no lag.
  if (onWriter) return { seen: true, visibility: { lagUs: 0, basis: 'commit' } };
  const lagUs = numberCell(row, 'lag_us');
  if (lagUs === null) return { seen: true };
  return {
    seen: true,
    visibility: { lagUs, basis: numberCell(row, 'stamped') === 1 ? 'apply-stamp' : 'read-time' },
  };
}

export interface SqlStoreOptions {
  readonly dialect: Dialect;
  readonly strategy: SqlProbeStrategy;
  readonly payloadBytes: number;
  /** Upper bound of one GTID wait, in seconds, fractions allowed (the server functions take seconds). */
  readonly gtidWaitSeconds: number;
  /** Acknowledgements per ledger statement (lib/ledger.ts). */
  readonly ackBatch?: number;
  /** Told of every acknowledgement handed to the ledger, and of how many each flush wrote. */
  readonly onAck?: () => void;
  readonly onAcksFlushed?: (n: number) => void;
}

export class SqlStore implements ProbeTarget, HeartbeatSource, ReconcileSource {
  private readonly payload: string;
  private readonly ledger: AckLedger;
  private monitorBroken = false;
  private beats = 0;

  constructor(
    private readonly writer: SqlHandle,
    private readonly reader: SqlHandle,
    /** A replica login allowed to read replica status; null skips Seconds_Behind sampling. */
    private readonly monitor: SqlHandle | null,
    private readonly opts: SqlStoreOptions,
    private readonly warn: (line: string) => void = () => {},
  ) {
    this.payload = probePayload(opts.payloadBytes);
    this.ledger = new AckLedger(
      {
        writeAcks: (keys) => {
          this.writer.exec('ledger', insertAcks(keys.length), ...ackValues(keys));
        },
      },
      { maxBatch: opts.ackBatch ?? ACK_BATCH, onRecorded: opts.onAck, onFlushed: opts.onAcksFlushed },
    );
  }

  write(key: ProbeKey): WriteAck {
    return this.insert('probe_insert', key, true);
  }

  readAfterWrite(key: ProbeKey, ack: WriteAck): Sighting {
    return this.sighting(this.readSide(ack), 'probe_read', key);
  }

  /**
   * A client reading back its own write by id, routed by CQRS_SQL_STRATEGY like the probe's immediate read:
   * the writer under `primary`, the reader after waiting for the write's GTID under `gtid-wait`, else the
   * reader. `ack` comes from writeAndRecord(key, true), which carries the GTID when the strategy needs it.
   */
  readBack(ack: WriteAck): boolean {
    return this.readSide(ack).query('point_read', SQL.pointRead, ack.id).length > 0;
  }

  /**
   * Where a read after a write goes under the strategy (after the GTID wait, under gtid-wait; with causal
   * reads on, under sync-before).
   */
  readBackEndpoint(): Endpoint {
    return this.opts.strategy === 'primary' ? 'writer' : 'reader';
  }

  poll(key: ProbeKey): Sighting {
    return this.sighting(this.reader, 'probe_poll', key);
  }

  /** Buffered: written to the ledger `ackBatch` at a time, and by flushAcks at the end of the run. */
  recordAck(key: ProbeKey): void {
    this.ledger.record(key);
  }

  /** Writes this VU's buffered acknowledgements (the ledger_flush scenario calls it once per VU). */
  flushAcks(): void {
    this.ledger.flush();
  }

  /** Acknowledgements buffered and not yet in the ledger. */
  get pendingAcks(): number {
    return this.ledger.pending;
  }

  /**
   * Writes a tagged row and records its acknowledgement; used by the load scenarios. With `readBack`, the ack
   * also carries what the strategy needs to read the row back (its GTID under gtid-wait; see readBack).
   */
  writeAndRecord(key: ProbeKey, readBack = false): WriteAck {
    const ack = this.insert('insert', key, readBack);
    this.recordAck(key);
    return ack;
  }

  /** A point read by id on the reader; true when the row exists there. */
  pointRead(id: number): boolean {
    return this.reader.query('point_read', SQL.pointRead, id).length > 0;
  }

  /** Highest probe row id on an endpoint (0 for an empty table). */
  maxId(endpoint: Endpoint): number {
    const db = endpoint === 'writer' ? this.writer : this.reader;
    const row = db.query('max_id', SQL.maxProbeId)[0];
    return (row && numberCell(row, 'max_id')) ?? 0;
  }

  /** A history row (heartbeat_log) and the pt-heartbeat row; now and then old history is pruned. */
  beat(): void {
    for (const sql of BEAT_STATEMENTS) this.writer.exec('heartbeat_write', sql);
    if (++this.beats % PRUNE_EVERY_BEATS === 0) this.writer.exec('heartbeat_prune', SQL.heartbeatPrune);
  }

  writerNowUs(): number {
    const row = this.writer.query('heartbeat_now', SQL.heartbeatNow)[0];
    const now = row ? numberCell(row, 'now_us') : null;
    if (now === null) throw new Error('the writer did not return its time (SYSDATE)');
    return now;
  }

  /**
   * The replica's newest beat (with its apply stamp and the replica's time), then the oldest beat the primary
   * has after it: the estimator (common/heartbeat.ts) takes the larger of the beat's own apply lag and the age
   * of the oldest beat the replica lacks. Reader first, so a beat committed in between is not counted missing.
   */
  sample(fromUs: number): HeartbeatSample | null {
    const newest = replicaBeatFromRow(this.reader.query('heartbeat_read', SQL.heartbeatReplicaNewest)[0]);
    if (newest === null || newest.tsUs < fromUs) return null;
    const missing = oldestMissingFromRow(
      this.writer.query('heartbeat_history', SQL.heartbeatOldestAfter, newest.tsUs)[0],
    );
    const estimate = estimateHeartbeatLag(newest, missing, fromUs);
    return estimate && { lagMs: estimate.lagUs / 1000, basis: estimate.basis, tsMs: estimate.beatUs / 1000 };
  }

  secondsBehind(): number | null {
    if (!this.monitor || this.monitorBroken) return null;
    try {
      const row = this.monitor.queryQuiet('replica_status', this.opts.dialect.showReplicaStatus)[0];
      return row ? numberCell(row, this.opts.dialect.secondsBehindColumn) : null;
    } catch (err) {
      // Usually a missing privilege: say so once, then stop asking (it is only a coarse signal).
      this.monitorBroken = true;
      this.warn(`Seconds_Behind sampling disabled: ${String(err)}`);
      return null;
    }
  }

  acks(endpoint: Endpoint, scope: RunScope): ReadonlyMap<number, AckCheck> {
    const db = endpoint === 'writer' ? this.writer : this.reader;
    return ackChecks(db.query('reconcile_acks', SQL.acksByVu, scope.runId, scope.runner));
  }

  private insert(op: string, key: ProbeKey, readBack: boolean): WriteAck {
    const r = this.writer.exec(
      op,
      SQL.insertProbe,
      probeTag(key),
      key.runId,
      key.runner,
      key.vu,
      key.seq,
      this.payload,
    );
    if (!readBack || this.opts.strategy !== 'gtid-wait') return { id: r.lastInsertId };
    // Same VU, same single-connection pool: the session that wrote is the one asked for its GTID.
    const row = this.writer.query('last_gtid', this.opts.dialect.lastWriteGtid)[0];
    return { id: r.lastInsertId, gtid: (row && stringCell(row, 'gtid')) ?? '' };
  }

  private readSide(ack: WriteAck): SqlHandle {
    if (this.opts.strategy === 'primary') return this.writer;
    if (this.opts.strategy === 'gtid-wait' && ack.gtid) {
      this.reader.query('gtid_wait', this.opts.dialect.waitForGtid, ack.gtid, this.opts.gtidWaitSeconds);
    }
    return this.reader;
  }

  private sighting(db: SqlHandle, op: string, key: ProbeKey): Sighting {
    return sightingFromRows(db.query(op, SQL.probeSighting, probeTag(key)), db === this.writer);
  }
}
