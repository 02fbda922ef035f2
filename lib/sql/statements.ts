/**
 * Every SQL statement the k6 SQL scenarios send, in one place, so test/sql can run exactly these against a real
 * MariaDB through mysql2. `?` placeholders work for both the Go driver (interpolateParams) and mysql2.
 * Flavour-specific statements (replica status, GTID) come from common/dialect.ts, the heartbeat's from
 * common/heartbeat.ts and the ledger's from common/ledger-sql.ts.
 */
import { HEARTBEAT_SQL } from '../../common/heartbeat.ts';
import { ACKS_BY_VU } from '../../common/ledger-sql.ts';

export const SQL = {
  insertProbe: 'INSERT INTO probe_rows (tag, run_id, runner, vu, iter, payload) VALUES (?, ?, ?, ?, ?, ?)',
  /**
   * A probe read by tag on the read side: the row's id and how long after its write it became visible there
   * (`lag_us`, server-side): the replica's apply stamp minus the primary's write time when the replica stamps
   * rows (`stamped` = 1, migration 0004), else the replica's time at this read minus the write time (an upper
   * bound). No row when the write is not visible yet.
   */
  probeSighting:
    'SELECT id, TIMESTAMPDIFF(MICROSECOND, written_at, COALESCE(applied_at, SYSDATE(6))) AS lag_us, ' +
    'applied_at IS NOT NULL AS stamped FROM probe_rows WHERE tag = ?',
  /** Reconciliation per VU on one endpoint (acknowledgements and how many have no row there). Read-only. */
  acksByVu: ACKS_BY_VU.probeRows,
  heartbeatBeat: HEARTBEAT_SQL.beatRow,
  heartbeatLog: HEARTBEAT_SQL.logBeat,
  heartbeatPrune: HEARTBEAT_SQL.prune,
  heartbeatNow: HEARTBEAT_SQL.now,
  heartbeatReplicaNewest: HEARTBEAT_SQL.replicaNewest,
  heartbeatOldestAfter: HEARTBEAT_SQL.oldestAfter,
  /**
   * The writer's count of a run's probe rows and acknowledgements (setup refuses a reused run id unless asked):
   * four placeholders, (run id, runner) twice.
   */
  runHoldings:
    'SELECT (SELECT COUNT(*) FROM probe_rows WHERE run_id = ? AND runner = ?) AS probe_rows_held, ' +
    '(SELECT COUNT(*) FROM probe_acks WHERE run_id = ? AND runner = ?) AS probe_acks_held',
  maxProbeId: 'SELECT MAX(id) AS max_id FROM probe_rows',
  pointRead: 'SELECT id, tag, payload FROM probe_rows WHERE id = ?',
} as const;

/** Deterministic filler for probe payloads (same bytes each time: the content is irrelevant, its size is not). */
export function probePayload(bytes: number): string {
  return 'x'.repeat(bytes);
}
