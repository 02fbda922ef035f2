/**
 * Carries out a ReadPlan: runs one lookup on the pool the plan names, waits for a GTID first when asked, and
 * reads through Redis for `cache`. Reports where the answer came from, how long it waited, why it fell back to
 * the primary if it did, and when the row it found became visible there (common/visibility.ts).
 */

import type { Redis } from 'ioredis';
import type { Pool } from 'mysql2/promise';
import type { Dialect } from '../../common/dialect.ts';
import type { ReadSource } from '../../common/strategies.ts';
import type { Visibility } from '../../common/visibility.ts';
import { type DbCalls, type PoolLabel, withConnection } from '../db.ts';
import { ClientError, DbTimeoutError, describe, isOutage, onDb, type UnavailableError } from '../errors.ts';
import type { WarnLog } from '../log-limit.ts';
import type { ApiMetrics } from '../metrics.ts';
import type { User } from '../users/sql.ts';
import { cacheUsers, decodeCached } from './cache.ts';
import { type WaitPool, waitThenRead } from './gtid-wait.ts';
import type { ReadPlan } from './plan.ts';
import { type Found, type Lookup, selectPrimary, selectReplica } from './select.ts';

export type { Lookup } from './select.ts';

/**
 * Why a read left its strategy's source for the primary: the GTID wait timed out (`timeout`), every wait
 * connection stayed busy for the whole wait timeout (`wait_busy`), the replica did not answer in time or at
 * all (`replica_unavailable`), or Redis did not (`cache_unavailable`).
 */
export type Fallback = 'timeout' | 'wait_busy' | 'replica_unavailable' | 'cache_unavailable';

export interface ReadOutcome {
  users: User[];
  source: ReadSource;
  /** Milliseconds spent waiting for the replica to reach the client's GTID. */
  waitMs?: number;
  fallback?: Fallback;
  /** When the first user became visible on the source that answered; undefined when nothing was found. */
  visibility?: Visibility;
}

export interface ReadDeps {
  writer: Pool;
  reader: Pool;
  /** gtid-wait's own connections to the replica (gtid-wait.ts). */
  gtidWait: WaitPool;
  grBeforePool: Pool | null;
  routerSplitPool: Pool | null;
  redis: Redis;
  dialect: Dialect;
  metrics: ApiMetrics;
  /** The deadline of each pool's calls (db.ts). */
  calls: DbCalls;
  gtidWaitTimeoutMs: number;
  cacheTtlS: number;
  log: WarnLog;
}

/** `router-split` on an API started without Router: a client error, for its reads and its writes alike. */
export const routerSplitMissing = () =>
  new ClientError(400, 'strategy router-split needs MySQL Router; set CQRS_ROUTER_SPLIT_URL on the API');

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
    case 'gr-before':
      if (!deps.grBeforePool) {
        throw new ClientError(
          400,
          `strategy gr-before needs MySQL Group Replication; this API runs on ${deps.dialect.flavor}`,
        );
      }
      return {
        ...(await readReplica(deps, deps.grBeforePool, 'grBefore', 'reader', lookup)),
        source: 'replica',
      };
    case 'router-split':
      if (!deps.routerSplitPool) {
        throw routerSplitMissing();
      }
      // Router decides per statement; from here the read is indistinguishable from a replica read.
      return {
        ...(await readReplica(deps, deps.routerSplitPool, 'routerSplit', 'router', lookup)),
        source: 'replica',
      };
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
    if (isUnparsableGtid(deps.dialect, err))
      throw new ClientError(400, `x-consistency-token is not a GTID the server accepts: ${describe(err)}`);
    if (!isOutage(err)) throw err;
    const busy = err instanceof DbTimeoutError && err.phase === 'acquire' && deps.gtidWait.full;
    result = { fallback: busy ? 'wait_busy' : 'replica_unavailable', waitMs: 0 };
  }
  const { waitMs } = result;
  if ('found' in result) return { ...result.found, source: 'replica', waitMs };
  deps.metrics.gtidWaitFallbacks.inc({ reason: result.fallback });
  return { ...(await readPrimary(deps, lookup)), source: 'primary', waitMs, fallback: result.fallback };
}

/**
 * The server refused to parse the token (MariaDB 1941 "Could not parse GTID list", MySQL 1772 "Malformed GTID
 * set specification"). The schema's range check (read/token.ts) should have caught it first; this keeps any
 * token it misses a client error rather than a 500.
 */
function isUnparsableGtid(dialect: Dialect, err: unknown): boolean {
  const errno = (err as { errno?: unknown } | null)?.errno;
  return errno === (dialect.flavor === 'mariadb' ? 1941 : 1772);
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
