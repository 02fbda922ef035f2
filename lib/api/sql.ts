/**
 * How API probe rows are named and found again. A probe user's email carries its probe key, so
 * reconciliation can look every acknowledged write of a run up on the writer and the reader with plain SQL (the
 * ledger is the same probe_acks table the SQL scenarios use, one row per acknowledged write). Runtime-neutral.
 */
import type { ProbeKey } from '../store.ts';

/** `+` separates the parts: run ids and runner ids never contain it, and it is valid in an email. */
export function probeEmail(key: ProbeKey): string {
  return `${key.runId}+${key.runner}+${key.vu}+${key.seq}@probe.example`;
}

export const API_SQL = {
  /**
   * SQL.acksByVu for API probes: per VU, the acknowledgements on one endpoint and how many have no user there
   * (an anti-join on the unique email, built exactly like probeEmail). Read-only.
   */
  acksByVu:
    'SELECT a.vu AS vu, COUNT(*) AS acked, COUNT(*) - COUNT(u.id) AS missing ' +
    'FROM probe_acks a LEFT JOIN users u ' +
    "ON u.email = CONCAT(a.run_id, '+', a.runner, '+', a.vu, '+', a.seq, '@probe.example') " +
    'WHERE a.run_id = ? AND a.runner = ? GROUP BY a.vu',
} as const;
