/**
 * The acknowledgement ledger's SQL (table probe_acks, migration 0003), shared by the k6 SQL scenarios (which
 * write it directly) and the CQRS API (which writes it for the API scenarios, so those need no SQL in k6).
 * `?` placeholders work for the Go driver (interpolateParams) and mysql2 alike. Runtime-neutral.
 */

/**
 * Most acknowledgements per POST /probe-acks (the API's schema) and so per request the k6 side sends: one
 * INSERT of 4 × 1000 values stays far below any packet limit.
 */
export const ACKS_PER_REQUEST = 1000;

/**
 * One statement for `n` acknowledgements. IGNORE makes a retried batch (after a failure that may have
 * committed it) idempotent: an acknowledgement is a fact, recording it twice changes nothing.
 */
export function insertAcks(n: number): string {
  if (!Number.isInteger(n) || n < 1) throw new Error(`insertAcks needs at least one row, got ${n}`);
  return `INSERT IGNORE INTO probe_acks (run_id, runner, vu, seq) VALUES ${Array(n).fill('(?, ?, ?, ?)').join(', ')}`;
}

/** The bind values of insertAcks for `keys`, in order. */
export function ackValues(
  keys: readonly { runId: string; runner: string; vu: number; seq: number }[],
): (string | number)[] {
  return keys.flatMap((k) => [k.runId, k.runner, k.vu, k.seq]);
}

/**
 * Reconciliation on one endpoint, per VU of a run and runner: the acknowledgements there (`acked`) and how many
 * of them have no row there (`missing`, an anti-join by key). Read-only. Two placeholders: run id, runner.
 */
export const ACKS_BY_VU = {
  /** SQL scenarios: the probe row carries the key (run_id, runner, vu, iter). */
  probeRows:
    'SELECT a.vu AS vu, COUNT(*) AS acked, COUNT(*) - COUNT(r.id) AS missing ' +
    'FROM probe_acks a LEFT JOIN probe_rows r ' +
    'ON r.run_id = a.run_id AND r.runner = a.runner AND r.vu = a.vu AND r.iter = a.seq ' +
    'WHERE a.run_id = ? AND a.runner = ? GROUP BY a.vu',
  /** API scenarios: a probe user's unique email carries the key (probeEmail in lib/api/sql.ts). */
  users:
    'SELECT a.vu AS vu, COUNT(*) AS acked, COUNT(*) - COUNT(u.id) AS missing ' +
    'FROM probe_acks a LEFT JOIN users u ' +
    "ON u.email = CONCAT(a.run_id, '+', a.runner, '+', a.vu, '+', a.seq, '@probe.example') " +
    'WHERE a.run_id = ? AND a.runner = ? GROUP BY a.vu',
} as const;
