/**
 * Carries out a ReadPlan: runs one lookup on the pool the plan names, waits for a GTID first when asked, and
 * reads through Redis for `cache`. Reports where the answer came from, how long it waited, why it fell back to
 * the primary if it did, and when the row it found became visible there (common/visibility.ts).
 */

import type { Pool } from 'mysql2/promise';
import type { ReadFallback, ReadSource, StrategyPool } from '../../common/strategies.ts';
import type { Visibility } from '../../common/visibility.ts';
import { type PoolLabel, withConnection } from '../db.ts';
import { ClientError, describe, isOutage, onDb, type UnavailableError } from '../errors.ts';
import { requireOwnPool, type StrategyPools } from '../pools.ts';
import type { Lookup, User } from '../users/sql.ts';
import { type CacheDeps, cacheUsers, decodeCached } from './cache.ts';
import { type WaitDeps, waitThenRead } from './gtid-wait.ts';
import type { ReadPlan } from './plan.ts';
import { type Found, selectPrimary, selectReplica } from './select.ts';

export interface ReadOutcome {
  users: User[];
  source: ReadSource;
  /** Milliseconds spent waiting for the replica to reach the client's GTID. */
  waitMs?: number;
  fallback?: ReadFallback;
  /** When the first user became visible on the source that answered; undefined when nothing was found. */
  visibility?: Visibility;
}

/** Everything a read runs on; gtid-wait.ts and cache.ts each say which part of it they need. */
export interface ReadDeps extends WaitDeps, CacheDeps {
  writer: Pool;
  reader: Pool;
  /** Each strategy's own connections (api/pools.ts); gtid-wait's are also inside `gtidWait`. */
  strategyPools: StrategyPools;
}

/**
 * Why each target may leave its source for the primary. The registry's `fallbacks` (common/strategies.ts) says
 * the same per strategy, and a test holds the two together.
 */
export const TARGET_FALLBACKS: { readonly [T in ReadPlan['target']]: readonly ReadFallback[] } = {
  replica: [],
  primary: [],
  'replica-after-gtid': ['timeout', 'wait_busy', 'replica_unavailable'],
  cache: ['cache_unavailable', 'replica_unavailable'],
  'own-pool': [],
};

/** The strategy pool a plan reads on, if any: the registry's `pool` must name it. */
export function planPool(plan: ReadPlan): StrategyPool | null {
  if (plan.target === 'own-pool') return plan.pool;
  return plan.target === 'replica-after-gtid' ? 'gtidWait' : null;
}

/** The primary read: the `primary` plan, and every fallback when the replica or the cache cannot answer. */
export const readPrimary = (deps: ReadDeps, lookup: Lookup) =>
  onDb('writer', () => withConnection(deps.writer, deps.calls.writer, (c) => selectPrimary(c, lookup)));

/** A read on a replica-side pool, within that pool's deadline; an outage is a 503 naming `dependency`. */
const readReplica = (
  deps: ReadDeps,
  pool: Pool,
  label: PoolLabel,
  dependency: UnavailableError['dependency'],
  lookup: Lookup,
) => onDb(dependency, () => withConnection(pool, deps.calls[label], (c) => selectReplica(c, lookup)));

export async function executeRead(deps: ReadDeps, plan: ReadPlan, lookup: Lookup): Promise<ReadOutcome> {
  switch (plan.target) {
    case 'primary':
      return { ...(await readPrimary(deps, lookup)), source: 'primary' };
    case 'replica':
      // No fallback: `eventual` (and `sticky` outside its window) mean the replica; a 503 says it is gone.
      return { ...(await readReplica(deps, deps.reader, 'reader', 'reader', lookup)), source: 'replica' };
    case 'replica-after-gtid':
      return readAfterGtid(deps, plan.token, lookup);
    case 'cache':
      return readThroughCache(deps, lookup);
    case 'own-pool': {
      // The pool's session setup makes the read consistent (common/mysql-strategies.ts); from here on it is a
      // replica read (Router decides per statement which server answers).
      const own = requireOwnPool(deps.strategyPools, plan.pool);
      return { ...(await readReplica(deps, own.pool, own.label, own.dependency, lookup)), source: 'replica' };
    }
  }
}

/**
 * gtid-wait with a token: the replica once it has the token's GTID, else the primary, counted by reason. The
 * wait itself is bounded (gtid-wait.ts); an outage of the replica is a fallback, never a 503.
 */
async function readAfterGtid(deps: ReadDeps, token: string, lookup: Lookup): Promise<ReadOutcome> {
  let result: Awaited<ReturnType<typeof waitThenRead>>;
  try {
    result = await waitThenRead(deps, token, lookup);
  } catch (err) {
    if (isUnparsableGtid(deps, err))
      throw new ClientError(400, `x-consistency-token is not a GTID the server accepts: ${describe(err)}`);
    // Only an outage of the replica (refused, lost, past a deadline) is a fallback; anything else (a missing
    // privilege, a bug) is the error itself. A wait connection that never came while all were busy is not an
    // error: waitThenRead already answered wait_busy for it.
    if (!isOutage(err)) throw err;
    result = { fallback: 'replica_unavailable', waitMs: 0 };
  }
  const { waitMs } = result;
  if ('found' in result) return { ...result.found, source: 'replica', waitMs };
  deps.metrics.gtidWaitFallbacks.inc({ reason: result.fallback });
  return { ...(await readPrimary(deps, lookup)), source: 'primary', waitMs, fallback: result.fallback };
}

/**
 * The server refused to parse the token. The schema's range check (read/token.ts) should have caught it
 * first; this keeps any token it misses a client error rather than a 500.
 */
function isUnparsableGtid(deps: ReadDeps, err: unknown): boolean {
  return (err as { errno?: unknown } | null)?.errno === deps.dialect.unparsableGtidErrno;
}

async function readThroughCache(deps: ReadDeps, lookup: Lookup): Promise<ReadOutcome> {
  const m = deps.metrics;
  let cached: string | null;
  try {
    cached = await deps.redis.get(lookup.cacheKey);
  } catch (err) {
    // Without Redis the write-through may have been skipped too, so only the primary is sure to be fresh.
    m.cacheRequests.inc({ result: 'error' });
    deps.log.warn({ err: describe(err) }, 'cache read failed; reading the primary');
    return { ...(await readPrimary(deps, lookup)), source: 'primary', fallback: 'cache_unavailable' };
  }
  if (cached !== null) {
    m.cacheRequests.inc({ result: 'hit' });
    const { user, visibility } = decodeCached(cached);
    return { users: [user], source: 'cache', visibility };
  }
  m.cacheRequests.inc({ result: 'miss' });
  let found: Found;
  try {
    found = await withConnection(deps.reader, deps.calls.reader, (c) => selectReplica(c, lookup));
  } catch (err) {
    if (!isOutage(err)) throw err;
    // The primary is at least as fresh as the replica: a miss can always be answered there.
    return { ...(await readPrimary(deps, lookup)), source: 'primary', fallback: 'replica_unavailable' };
  }
  const [user] = found.users;
  // Only found rows are cached: caching a stale "not found" would hide the row for a whole TTL. The entry
  // keeps this read's visibility: that is when the row became visible to this read path.
  if (user) await cacheUsers(deps, [{ user, visibility: found.visibility }]);
  return { ...found, source: 'replica' };
}
