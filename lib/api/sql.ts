/**
 * How API probe rows are named and found again. A probe user's email carries its probe key, so
 * reconciliation can count a run's users per VU on the writer and the reader with plain SQL (the ledger is
 * the same probe_ledger table the SQL scenarios use). Runtime-neutral.
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
  /** Probe users per VU: the VU is the third `+`-separated part of the email. */
  usersByVu:
    "SELECT CAST(SUBSTRING_INDEX(SUBSTRING_INDEX(email, '+', 3), '+', -1) AS UNSIGNED) AS vu, COUNT(*) AS n " +
    'FROM users WHERE email LIKE ? GROUP BY vu',
} as const;
