/**
 * Carries out a ReadPlan: runs one lookup on the pool the plan names, waits for a GTID first when asked, and
 * reads through Redis for `cache`. Reports where the answer came from, how long it waited, why it fell back to
 * the primary if it did, and when the row it found became visible there (common/visibility.ts).
 */

import type { Redis } from 'ioredis';
import type { Pool, PoolConnection, RowDataPacket } from 'mysql2/promise';
import type { Dialect } from '../../common/dialect.ts';
import type { ReadSource } from '../../common/strategies.ts';
import type { Visibility } from '../../common/visibility.ts';
import { ClientError, describe, isOutage, onDb } from '../errors.ts';
import type { ApiMetrics } from '../metrics.ts';
import { replicaVisibility, toUser, type User, type UserRow, type VisibleUserRow } from '../users/sql.ts';
import { cacheUsers, decodeCached } from './cache.ts';
import type { ReadPlan } from './plan.ts';

export interface Lookup {
  /** On the primary. */
  sql: string;
  /** Everywhere else: the same rows plus their visibility columns (users/sql.ts). */
  replicaSql: string;
  params: (string | number)[];
  cacheKey: string;
}

export type Fallback = 'timeout' | 'replica_unavailable' | 'cache_unavailable';

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
  grBeforePool: Pool | null;
  routerSplitPool: Pool | null;
  redis: Redis;
  dialect: Dialect;
  metrics: ApiMetrics;
  gtidWaitTimeoutMs: number;
  cacheTtlS: number;
  log: { warn(obj: object, msg: string): void };
}

interface Found {
  users: User[];
  visibility: Visibility | undefined;
}

/** A row is visible on the primary from its own commit. */
const COMMITTED: Visibility = Object.freeze({ lagUs: 0, basis: 'commit' });

async function selectPrimary(pool: Pool, lookup: Lookup): Promise<Found> {
  const [rows] = await pool.execute<RowDataPacket[]>(lookup.sql, lookup.params);
  const users = (rows as unknown as UserRow[]).map(toUser);
  return { users, visibility: users.length > 0 ? COMMITTED : undefined };
}

/** Any read that is not on the primary: the replica, a GR secondary, or whatever Router picked. */
async function selectReplica(pool: Pool | PoolConnection, lookup: Lookup): Promise<Found> {
  const [rows] = await pool.execute<RowDataPacket[]>(lookup.replicaSql, lookup.params);
  const typed = rows as unknown as VisibleUserRow[];
  const first = typed[0];
  return { users: typed.map(toUser), visibility: first && replicaVisibility(first) };
}

/** `router-split` on an API started without Router: a client error, for its reads and its writes alike. */
export const routerSplitMissing = () =>
  new ClientError(400, 'strategy router-split needs MySQL Router; set CQRS_ROUTER_SPLIT_URL on the API');

/** The primary read: the `primary` plan, and every fallback when the replica or the cache cannot answer. */
const readPrimary = (deps: ReadDeps, lookup: Lookup) =>
  onDb('writer', () => selectPrimary(deps.writer, lookup));

export async function executeRead(deps: ReadDeps, plan: ReadPlan, lookup: Lookup): Promise<ReadOutcome> {
  switch (plan.target) {
    case 'primary':
      return { ...(await readPrimary(deps, lookup)), source: 'primary' };
    case 'replica':
      return { ...(await onDb('reader', () => selectReplica(deps.reader, lookup))), source: 'replica' };
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
        ...(await onDb('reader', () => selectReplica(deps.grBeforePool as Pool, lookup))),
        source: 'replica',
      };
    case 'router-split':
      if (!deps.routerSplitPool) {
        throw routerSplitMissing();
      }
      // Router decides per statement; from here the read is indistinguishable from a replica read.
      return {
        ...(await onDb('router', () => selectReplica(deps.routerSplitPool as Pool, lookup))),
        source: 'replica',
      };
  }
}

async function readAfterGtid(deps: ReadDeps, token: string, lookup: Lookup): Promise<ReadOutcome> {
  const m = deps.metrics;
  let conn: PoolConnection | undefined;
  let waitMs = 0;
  let fallback: Fallback;
  try {
    conn = await deps.reader.getConnection();
    const started = performance.now();
    const [rows] = await conn.execute<RowDataPacket[]>(deps.dialect.waitForGtid, [
      token,
      deps.gtidWaitTimeoutMs / 1000,
    ]);
    waitMs = performance.now() - started;
    m.gtidWaitDuration.observe(waitMs / 1000);
    // No row or a NULL result means the wait did not say "reached" (the server could not wait): never read
    // the replica on that, whatever the dialect makes of NULL.
    const waited = rows[0]?.waited as number | string | null | undefined;
    const noResult = waited === null || waited === undefined;
    if (noResult) deps.log.warn({ token }, 'GTID wait returned no result; reading the primary');
    if (!noResult && deps.dialect.gtidWaitReached(waited)) {
      // Same connection: no second pool checkout between the wait and the read.
      return { ...(await selectReplica(conn, lookup)), source: 'replica', waitMs };
    }
    // Counted as a timeout fallback (the wait did not reach the token); only a real timeout is a timeout.
    if (!noResult) m.gtidWaitTimeouts.inc();
    fallback = 'timeout';
  } catch (err) {
    if (isUnparsableGtid(deps.dialect, err))
      throw new ClientError(400, `x-consistency-token is not a GTID the server accepts: ${describe(err)}`);
    if (!isOutage(err)) throw err;
    // The replica is down: the primary still answers, and that is counted.
    fallback = 'replica_unavailable';
  } finally {
    // Back to the pool before the primary read: the fallback does not need it.
    conn?.release();
  }
  m.gtidWaitFallbacks.inc({ reason: fallback });
  return { ...(await readPrimary(deps, lookup)), source: 'primary', waitMs, fallback };
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
  const found = await onDb('reader', () => selectReplica(deps.reader, lookup));
  const [user] = found.users;
  // Only found rows are cached: caching a stale "not found" would hide the row for a whole TTL. The entry
  // keeps this read's visibility: that is when the row became visible to this read path.
  if (user) await cacheUsers(deps, [{ user, visibility: found.visibility }]);
  return { ...found, source: 'replica' };
}
