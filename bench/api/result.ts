/** What one benchmark case yields, and the µs histogram both sides record latencies in. */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export interface Result {
  label: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU milliseconds per successful request, by process (where the time goes). */
  cpu?: Record<string, number>;
}

export const newHistogram = (): RecordableHistogram =>
  createHistogram({ lowest: 1, highest: 60_000_000, figures: 3 });

export function summarise(
  label: string,
  h: RecordableHistogram,
  count: number,
  seconds: number,
  errors: number,
): Result {
  return { label, rps: count / seconds, p50: h.percentile(50) / 1000, p99: h.percentile(99) / 1000, errors };
}
