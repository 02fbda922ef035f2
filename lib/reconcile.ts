/**
 * End-of-run reconciliation: every write acknowledged in this run and runner (the ledger, one row per
 * acknowledged write) must have its own row on the writer and, after a bounded catch-up wait, on the reader;
 * each is looked up by key (an anti-join), never compared as a count. Read-only, so running it again (every
 * k6-operator runner runs teardown) gives the same answer; scoped by run id and runner so runners never count
 * each other's rows.
 */
import { type DecodedRow, numberCell } from './decode.ts';
import type { AckCheck, Clock, ReconcileSource, RunScope } from './store.ts';

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

export function reconcile(
  source: ReconcileSource,
  clock: Clock,
  scope: RunScope,
  opts: ReconcileOptions,
): ReconcileResult {
  // The writer holds the ledger: what was acknowledged, and which acknowledged writes have no row there.
  const onWriter = source.acks('writer', scope);
  let acked = 0;
  let missingWriter = 0;
  for (const { acked: n, missing } of onWriter.values()) {
    acked += n;
    missingWriter += missing;
  }
  // On the reader an acknowledgement that has not replicated yet cannot be checked, so its write counts as
  // missing until it has (the catch-up wait is for both).
  const readerGaps = (onReader: ReadonlyMap<number, AckCheck>): Map<number, number> => {
    const gaps = new Map<number, number>();
    for (const [vu, w] of onWriter) {
      const r = onReader.get(vu);
      const n = (r?.missing ?? 0) + Math.max(0, w.acked - (r?.acked ?? 0));
      if (n > 0) gaps.set(vu, n);
    }
    return gaps;
  };
  const sum = (m: ReadonlyMap<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);

  const started = clock.now();
  let onReader = readerGaps(source.acks('reader', scope));
  while (onReader.size > 0 && clock.now() - started < opts.catchupTimeoutMs) {
    clock.sleep(opts.pollIntervalMs);
    onReader = readerGaps(source.acks('reader', scope));
  }
  const missingReader = sum(onReader);
  const vusWithGaps = [...onWriter]
    .filter(([vu, w]) => w.missing > 0 || onReader.has(vu))
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

/** Rows of an ACKS_BY_VU query (common/ledger-sql.ts; columns vu, acked, missing) as per-VU checks. */
export function ackChecks(rows: readonly DecodedRow[]): Map<number, AckCheck> {
  const out = new Map<number, AckCheck>();
  for (const row of rows) {
    out.set(numberCell(row, 'vu') ?? 0, {
      acked: numberCell(row, 'acked') ?? 0,
      missing: numberCell(row, 'missing') ?? 0,
    });
  }
  return out;
}
