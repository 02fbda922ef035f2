/**
 * The `cache` strategy's Redis entries: a user as the read schema has it, plus when it became visible on the
 * path that put it there (common/visibility.ts), so a cache hit can report a visibility lag like any other read.
 * Write-through entries get the API's own clock at the SET minus the row's write time (`cache-set`); read-through
 * entries keep the lag and basis of the replica read that found the row.
 */
import type { Redis } from 'ioredis';
import type { Visibility } from '../../common/visibility.ts';
import { isVisibilityBasis } from '../../common/visibility.ts';
import { describe } from '../errors.ts';
import type { WarnLog } from '../log-limit.ts';
import type { ApiMetrics } from '../metrics.ts';
import { cacheKeys, type User } from '../users/sql.ts';

/** What the cache's writes need; execute.ts's ReadDeps has all of it. */
export interface CacheDeps {
  redis: Redis;
  metrics: ApiMetrics;
  cacheTtlS: number;
  log: WarnLog;
}

/**
 * What one cached user's visibility comes from: known already (a read-through), or the row's write time in µs
 * since the epoch (a write-through, lag taken at the SET). Without either the entry records none.
 */
export type CacheEntry = { user: User; visibility?: Visibility } | { user: User; writtenUs: number };

/** The stored JSON: a valid User (the read schema ignores the extra field) with its visibility beside it. */
interface Stored extends User {
  visibility?: Visibility;
}

/** The API's wall clock in µs, below the millisecond (Date.now() has whole ms only). */
export const nowUs = (): number => (performance.timeOrigin + performance.now()) * 1000;

/** A cached entry back as the user (only its User fields) and its visibility, if it recorded a valid one. */
export function decodeCached(json: string): { user: User; visibility: Visibility | undefined } {
  const s = JSON.parse(json) as Stored;
  const user: User = { id: s.id, email: s.email, name: s.name, created_at: s.created_at };
  const v = s.visibility;
  const valid =
    typeof v === 'object' &&
    v !== null &&
    Number.isInteger(v.lagUs) &&
    v.lagUs >= 0 &&
    isVisibilityBasis(String(v.basis));
  return { user, visibility: valid ? { lagUs: v.lagUs, basis: v.basis } : undefined };
}

/** Write-through / read-through: store a user under every key it is looked up by. Never fails the request. */
export async function cacheUsers(deps: CacheDeps, entries: readonly CacheEntry[]): Promise<void> {
  if (entries.length === 0) return;
  try {
    // A plain pipeline: one write, one round trip; the two keys need no transaction between them.
    const pipeline = deps.redis.pipeline();
    // Taken as the SETs are sent: from here on a `cache` read can be answered from this entry.
    const setUs = nowUs();
    for (const e of entries) {
      const visibility: Visibility | undefined =
        'writtenUs' in e
          ? { lagUs: Math.max(0, Math.round(setUs - e.writtenUs)), basis: 'cache-set' }
          : e.visibility;
      const json = JSON.stringify({ ...e.user, visibility } satisfies Stored);
      pipeline.set(cacheKeys.byId(e.user.id), json, 'EX', deps.cacheTtlS);
      pipeline.set(cacheKeys.byEmail(e.user.email), json, 'EX', deps.cacheTtlS);
    }
    // A pipeline reports per-command failures in its results instead of rejecting.
    const failed = (await pipeline.exec())?.find(([err]) => err !== null);
    if (failed) throw failed[0];
  } catch (err) {
    deps.metrics.cacheRequests.inc({ result: 'set_error' });
    deps.log.warn({ err: describe(err) }, 'cache write failed');
  }
}
