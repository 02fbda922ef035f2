/**
 * The probe, heartbeat and reconciliation interfaces (lib/store.ts) on xk6-sql: writes go to the writer, reads
 * to the reader (or, by strategy, to the writer, or after a GTID wait), the ledger (one row per acknowledged
 * write) lives on the writer.
 */
import type { Dialect } from '../../common/dialect.ts';
import type { SqlStrategy } from '../config.ts';
import { numberCell, stringCell } from '../decode.ts';
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
  type WriteAck,
} from '../store.ts';

export interface SqlStoreOptions {
  readonly dialect: Dialect;
  readonly strategy: SqlStrategy;
  readonly payloadBytes: number;
  /** Upper bound of one GTID wait, in seconds, fractions allowed (the server functions take seconds). */
  readonly gtidWaitSeconds: number;
}

export class SqlStore implements ProbeTarget, HeartbeatSource, ReconcileSource {
  private readonly payload: string;
  private monitorBroken = false;

  constructor(
    private readonly writer: SqlHandle,
    private readonly reader: SqlHandle,
    /** A replica login allowed to read replica status; null skips Seconds_Behind sampling. */
    private readonly monitor: SqlHandle | null,
    private readonly opts: SqlStoreOptions,
    private readonly warn: (line: string) => void = () => {},
  ) {
    this.payload = probePayload(opts.payloadBytes);
  }

  write(key: ProbeKey): WriteAck {
    return this.insert('probe_insert', key, true);
  }

  readAfterWrite(key: ProbeKey, ack: WriteAck): boolean {
    return this.visible(this.readSide(ack), 'probe_read', key);
  }

  /**
   * A client reading back its own write by id, routed by CQRS_SQL_STRATEGY like the probe's immediate read:
   * the writer under `primary`, the reader after waiting for the write's GTID under `gtid-wait`, else the
   * reader. `ack` comes from writeAndRecord(key, true), which carries the GTID when the strategy needs it.
   */
  readBack(ack: WriteAck): boolean {
    return this.readSide(ack).query('point_read', SQL.pointRead, ack.id).length > 0;
  }

  /** Where a read after a write goes under the strategy (after the GTID wait, under gtid-wait). */
  readBackEndpoint(): Endpoint {
    return this.opts.strategy === 'primary' ? 'writer' : 'reader';
  }

  poll(key: ProbeKey): boolean {
    return this.visible(this.reader, 'probe_poll', key);
  }

  recordAck(key: ProbeKey): void {
    this.writer.exec('ledger', SQL.ackWrite, key.runId, key.runner, key.vu, key.seq);
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

  beat(): void {
    this.writer.exec('heartbeat_write', SQL.heartbeatBeat);
  }

  /**
   * Replica heartbeat age minus the primary's, read right after it: the replica's newest heartbeat is up to one
   * heartbeat interval old even with no lag, and so is the primary's, so the difference is what the replica is
   * behind. Reader first, so a zero lag reads as 0 (clamped), never as the gap between the two queries.
   */
  sample(): HeartbeatSample | null {
    const row = this.reader.query('heartbeat_read', SQL.heartbeatSample)[0];
    const ageUs = row ? numberCell(row, 'lag_us') : null;
    const tsUs = row ? numberCell(row, 'ts_us') : null;
    if (ageUs === null || tsUs === null) return null;
    const primary = this.writer.query('heartbeat_age', SQL.heartbeatAge)[0];
    const primaryAgeUs = (primary && numberCell(primary, 'age_us')) ?? 0;
    return { lagMs: Math.max(0, ageUs - primaryAgeUs) / 1000, tsMs: tsUs / 1000 };
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

  private visible(db: SqlHandle, op: string, key: ProbeKey): boolean {
    return db.query(op, SQL.probeVisible, probeTag(key)).length > 0;
  }
}
