/**
 * The acknowledgement ledger of one VU, batched. Reconciliation must look every acknowledged write up by its
 * key (lib/reconcile.ts), so every acknowledgement becomes its own ledger row; but one statement per write
 * would double the writer load the tool measures. Acknowledgements are therefore buffered per VU and written
 * `maxBatch` at a time in one statement, and the rest at the end of the run (the `ledger_flush` scenario,
 * lib/k6/harness-core.ts, runs one flush in every VU). Runtime-neutral.
 *
 * Exactness: a buffered acknowledgement that never reaches the ledger (a run interrupted before its final
 * flush) is not checked, and so can never be reported missing; the report counts such writes as unverified
 * (acknowledged minus flushed), never as lost.
 */
import type { ProbeKey } from './store.ts';

/** Writes many acknowledgements at once (one statement or request); idempotent for keys written before. */
export interface AckSink {
  writeAcks(keys: readonly ProbeKey[]): void;
}

/** 64 per statement: ≤ 1/64 ≈ 1.6% extra writer statements per acknowledged write. */
export const ACK_BATCH = 64;

export interface AckLedgerOptions {
  /** Acknowledgements per write; ACK_BATCH by default. */
  readonly maxBatch?: number;
  /** Told of every acknowledgement recorded (the `acked_writes` counter). */
  readonly onRecorded?: () => void;
  /** Told how many acknowledgements each successful flush wrote (the `ledger_flushed` counter). */
  readonly onFlushed?: (n: number) => void;
}

export class AckLedger {
  private buffer: ProbeKey[] = [];
  private readonly maxBatch: number;

  constructor(
    private readonly sink: AckSink,
    private readonly opts: AckLedgerOptions = {},
  ) {
    this.maxBatch = opts.maxBatch ?? ACK_BATCH;
  }

  /** Buffered acknowledgements not yet in the ledger. */
  get pending(): number {
    return this.buffer.length;
  }

  record(key: ProbeKey): void {
    this.opts.onRecorded?.();
    this.buffer.push(key);
    if (this.buffer.length >= this.maxBatch) this.flush();
  }

  /**
   * Writes everything buffered. On failure the acknowledgements stay buffered for the next flush (the sink is
   * idempotent, so a retry after a partial failure is safe) and the error propagates.
   */
  flush(): void {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.sink.writeAcks(batch);
    this.buffer = [];
    this.opts.onFlushed?.(batch.length);
  }
}
