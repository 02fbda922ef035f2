/**
 * How a read says when the row it returned became visible where it was read. The SQL probe and the CQRS API
 * both report a visibility lag in microseconds (server-side times, never the client's clock) together with its
 * basis, so the k6 side records the same figure, with the same meaning, on both paths. Runtime-neutral.
 */

/**
 * - `apply-stamp`: the replica's own apply time of the row (replica-only trigger, SYSDATE(6)) minus the primary's
 *   write time: exact to the microsecond on one clock.
 * - `read-time`: no apply stamp (e.g. MySQL, or a replica without the trigger): the replica's time at the read
 *   that saw the row minus the write time, an upper bound (it adds the time between the write and that read).
 * - `commit`: read on the primary, where a row is visible from its own commit: 0.
 * - `cache-set`: read from the write-through cache: the API's time when it cached the row minus the write time.
 */
export const VISIBILITY_BASES = ['apply-stamp', 'read-time', 'commit', 'cache-set'] as const;
export type VisibilityBasis = (typeof VISIBILITY_BASES)[number];

export function isVisibilityBasis(value: string): value is VisibilityBasis {
  return (VISIBILITY_BASES as readonly string[]).includes(value);
}

/** Response headers of the API's reads (lower-case as Node sends them; k6 canonicalises them on receipt). */
export const VISIBILITY_HEADERS = {
  /** Integer microseconds, ≥ 0: how long after its write the row became visible on the source that answered. */
  lagUs: 'x-visibility-lag-us',
  basis: 'x-visibility-basis',
} as const;

/** What one read that found a row reports about its visibility; null lag when the source cannot say. */
export interface Visibility {
  readonly lagUs: number;
  readonly basis: VisibilityBasis;
}
