/**
 * How API probe rows are named and found again. A probe user's email carries its probe key, so the API's
 * reconciliation (GET /probe-acks, common/ledger-sql.ts ACKS_BY_VU.users) can look every acknowledged write of
 * a run up on the writer and the reader by key: the ledger is the same probe_acks table the SQL scenarios use,
 * one row per acknowledged write. Runtime-neutral.
 */
import type { ProbeKey } from '../store.ts';

/** `+` separates the parts: run ids and runner ids never contain it, and it is valid in an email. */
export function probeEmail(key: ProbeKey): string {
  return `${key.runId}+${key.runner}+${key.vu}+${key.seq}@probe.example`;
}
