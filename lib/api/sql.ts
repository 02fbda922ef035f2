/**
 * How API probe rows are named and found again. A probe user's email carries its probe key, so
 * reconciliation can look every acknowledged write of a run up on the writer and the reader with plain SQL (the
 * ledger is the same probe_acks table the SQL scenarios use, one row per acknowledged write). Runtime-neutral.
 */
import type { ProbeKey, RunScope } from '../store.ts';

/** `+` separates the parts: run ids and runner ids never contain it, and it is valid in an email. */
export function probeEmail(key: ProbeKey): string {
  return `${key.runId}+${key.runner}+${key.vu}+${key.seq}@probe.example`;
}

/** LIKE pattern for every probe email of one run and runner (`_` and `%` in ids matched literally). */
export function runEmailPattern(scope: RunScope): string {
  const esc = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
  return `${esc(scope.runId)}+${esc(scope.runner)}+%`;
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
  /** Probe users per VU (the VU is the third `+`-separated part of the email); reconciliation uses acksByVu. */
  usersByVu:
    "SELECT CAST(SUBSTRING_INDEX(SUBSTRING_INDEX(email, '+', 3), '+', -1) AS UNSIGNED) AS vu, COUNT(*) AS n " +
    'FROM users WHERE email LIKE ? GROUP BY vu',
} as const;
