/**
 * End-of-run reconciliation: every write acknowledged in this run and runner (the ledger) must be present on
 * the writer and, after a bounded catch-up wait, on the reader. Read-only, so running it again (every
 * k6-operator runner runs teardown) gives the same answer; scoped by run id and runner so runners never count
 * each other's rows.
 */
import type { Clock, ReconcileSource, RunScope } from './store.ts';

export interface ReconcileOptions {
  readonly catchupTimeoutMs: number;
  readonly pollIntervalMs: number;
}

export interface ReconcileResult {
  readonly acked: number;
  readonly missingWriter: number;
  readonly missingReader: number;
  /** Time until the reader had every row present on the writer; null if it never caught up. */
  readonly catchupMs: number | null;
  /** VUs with missing rows on either side, for the report. */
  readonly vusWithGaps: readonly number[];
}

function missing(ledger: ReadonlyMap<number, number>, present: ReadonlyMap<number, number>): number {
  let n = 0;
  for (const [vu, acked] of ledger) n += Math.max(0, acked - (present.get(vu) ?? 0));
  return n;
}

export function reconcile(
  source: ReconcileSource,
  clock: Clock,
  scope: RunScope,
  opts: ReconcileOptions,
): ReconcileResult {
  const ledger = source.ledger(scope);
  let acked = 0;
  for (const n of ledger.values()) acked += n;
  const onWriter = source.rowCounts('writer', scope);
  const missingWriter = missing(ledger, onWriter);

  const started = clock.now();
  let onReader = source.rowCounts('reader', scope);
  let missingReader = missing(ledger, onReader);
  while (missingReader > 0 && clock.now() - started < opts.catchupTimeoutMs) {
    clock.sleep(opts.pollIntervalMs);
    onReader = source.rowCounts('reader', scope);
    missingReader = missing(ledger, onReader);
  }
  const vusWithGaps = [...ledger]
    .filter(([vu, n]) => (onWriter.get(vu) ?? 0) < n || (onReader.get(vu) ?? 0) < n)
    .map(([vu]) => vu)
    .sort((a, b) => a - b);
  return {
    acked,
    missingWriter,
    missingReader,
    catchupMs: missingReader === 0 ? clock.now() - started : null,
    vusWithGaps,
  };
}
