/**
 * Every SQL statement the k6 SQL scenarios send, in one place, so test/sql can run exactly these against a real
 * MariaDB through mysql2. `?` placeholders work for both the Go driver (interpolateParams) and mysql2.
 * Flavour-specific statements (replica status, GTID) come from common/dialect.ts.
 */
export const SQL = {
  insertProbe: 'INSERT INTO probe_rows (tag, run_id, runner, vu, iter, payload) VALUES (?, ?, ?, ?, ?, ?)',
  probeVisible: 'SELECT id FROM probe_rows WHERE tag = ?',
  /** One row per acknowledged write (migration 0003): a single statement per probe. */
  ackWrite: 'INSERT INTO probe_acks (run_id, runner, vu, seq) VALUES (?, ?, ?, ?)',
  /**
   * Reconciliation on one endpoint, per VU of a run and runner: the acknowledgements there (`acked`) and how
   * many of them have no probe row there (`missing`, an anti-join by key). Read-only.
   */
  acksByVu:
    'SELECT a.vu AS vu, COUNT(*) AS acked, COUNT(*) - COUNT(r.id) AS missing ' +
    'FROM probe_acks a LEFT JOIN probe_rows r ' +
    'ON r.run_id = a.run_id AND r.runner = a.runner AND r.vu = a.vu AND r.iter = a.seq ' +
    'WHERE a.run_id = ? AND a.runner = ? GROUP BY a.vu',
  /**
   * pt-heartbeat shape: the primary stamps its own server_id row. GREATEST keeps it monotonic when heartbeat
   * writers race (a statement that took NOW(6) earlier but commits later must not move the heartbeat back).
   */
  heartbeatBeat:
    'INSERT INTO heartbeat (server_id, ts) VALUES (@@server_id, NOW(6)) ' +
    'ON DUPLICATE KEY UPDATE ts = GREATEST(ts, NOW(6))',
  /**
   * On the replica: the age of the newest heartbeat there (`lag_us`) and the heartbeat time itself, both as
   * integers in microseconds (no driver-specific time types). The age alone is up to one heartbeat interval
   * more than the lag, so the store subtracts the primary's own heartbeat age (heartbeatAge).
   */
  heartbeatSample:
    'SELECT TIMESTAMPDIFF(MICROSECOND, MAX(ts), NOW(6)) AS lag_us, ' +
    'CAST(UNIX_TIMESTAMP(MAX(ts)) * 1000000 AS UNSIGNED) AS ts_us FROM heartbeat',
  /** On the primary: the age of its newest heartbeat in microseconds (0 ≤ age < one heartbeat interval). */
  heartbeatAge: 'SELECT TIMESTAMPDIFF(MICROSECOND, MAX(ts), NOW(6)) AS age_us FROM heartbeat',
  maxProbeId: 'SELECT MAX(id) AS max_id FROM probe_rows',
  pointRead: 'SELECT id, tag, payload FROM probe_rows WHERE id = ?',
} as const;

/** Deterministic filler for probe payloads (same bytes each time: the content is irrelevant, its size is not). */
export function probePayload(bytes: number): string {
  return 'x'.repeat(bytes);
}
