/**
 * What setup() checks before any load is sent, so that a run that cannot work stops at once and says why in
 * one line per cause, instead of failing every iteration for the whole duration:
 * - every endpoint the scenario uses answers a real statement over a real connection (xk6-sql connects
 *   lazily, so `sql.open` in init proves nothing);
 * - the run id is not held by an earlier run (its probe rows would make every write fail with 1062, and the
 *   reconciliation would report the earlier run), unless CQRS_REUSE_TEST_ID=1 asks to add to it.
 * The harness turns a refusal into `exec.test.abort` (exit 108). Runtime-neutral.
 */
import type { RunScope } from '../store.ts';
import { reasonOf } from './failures.ts';

/** Upper bound of one check, so an address that drops packets cannot hold setup for minutes. */
export const CHECK_TIMEOUT = '5s';

export interface EndpointCheck {
  /** `writer`, `reader`, `replica monitor`, `API`. */
  readonly name: string;
  /** Where it points, passwords redacted. */
  readonly target: string;
  /** One real statement or request; throws what the server (or the network) said. */
  run(): void;
}

/** What already holds a run id and runner, as a phrase ("the writer holds 3 probe rows …"); null for nothing. */
export interface RunHoldings {
  /** The endpoint asked, for the failure line when asking fails. */
  readonly check: Pick<EndpointCheck, 'name' | 'target'>;
  find(scope: RunScope): string | null;
}

export interface CheckFailure {
  readonly name: string;
  readonly target: string;
  readonly reason: string;
}

/** Runs every check (not just up to the first failure: each broken endpoint gets its line). */
export function runEndpointChecks(checks: readonly EndpointCheck[]): CheckFailure[] {
  const failed: CheckFailure[] = [];
  for (const c of checks) {
    try {
      c.run();
    } catch (err) {
      failed.push({ name: c.name, target: c.target, reason: reasonOf(err) });
    }
  }
  return failed;
}

export function failureLine(scenario: string, f: CheckFailure): string {
  return `${scenario} setup: ${f.name} (${f.target}) failed its check: ${f.reason}`;
}

export function abortReason(scenario: string, failed: readonly CheckFailure[], checked: number): string {
  const names = failed.map((f) => f.name).join(', ');
  return `${scenario}: ${failed.length} of ${checked} endpoints failed the setup check (${names}); no load was sent`;
}

export function reusedIdReason(scenario: string, runId: string, runner: string, holdings: string): string {
  return (
    `${scenario}: CQRS_TEST_ID=${runId} is already used (runner ${runner}): ${holdings}; ` +
    'choose a new CQRS_TEST_ID, or set CQRS_REUSE_TEST_ID=1 to add this run to it'
  );
}

export function sqlHoldings(probeRows: number, acks: number): string | null {
  if (probeRows === 0 && acks === 0) return null;
  return `the writer holds ${probeRows} probe_rows and ${acks} probe_acks rows of it`;
}

/** The API scenarios' RunHoldings, from GET /probe-acks/:runId/:runner?endpoint=writer (per VU). */
export function apiHoldings(byVu: ReadonlyMap<number, { readonly acked: number }>): string | null {
  const acked = [...byVu.values()].reduce((n, v) => n + v.acked, 0);
  return acked === 0 ? null : `the API's ledger holds ${acked} acknowledgements of it (${byVu.size} VUs)`;
}

/**
 * With CQRS_REUSE_TEST_ID=1 the new run's sequence numbers start at its start time in µs, so its keys
 * (run, runner, VU, seq) cannot collide with an earlier run's, whose VUs counted from 0 (or from their own
 * start, earlier). BIGINT seq, and under 2^53 until the year 2255.
 */
export function reuseSeqBase(startedAtMs: number): number {
  return Math.floor(startedAtMs) * 1000;
}
