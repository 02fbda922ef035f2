/**
 * The user write behind POST /users and GET /get: the INSERT on the writer, or on the strategy's own pool
 * where its registry entry sends writes (`writesTo`, common/strategies.ts), then the new row and the write's
 * GTID read back on the same connection. The read side's counterpart is api/read/.
 */
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Dialect } from '../../common/dialect.ts';
import { STRATEGY_REGISTRY, type Strategy, type StrategyPool } from '../../common/strategies.ts';
import { type DbCall, type DbCalls, type PoolLabel, withConnection } from '../db.ts';
import { ClientError, describe, isOutage, UnavailableError } from '../errors.ts';
import type { WarnLog } from '../log-limit.ts';
import { requireOwnPool, type StrategyPools } from '../pools.ts';
import type { CacheEntry } from '../read/cache.ts';
import {
  type CreatedUserRow,
  createdUsOf,
  INSERT_USER,
  SELECT_CREATED_USER_BY_ID,
  selectCreatedUser,
  toUser,
  type User,
} from '../users/sql.ts';

/** What a write runs on; the consistency plugin's deps (read/execute.ts ReadDeps) have all of it. */
export interface WriteDeps {
  writer: Pool;
  strategyPools: StrategyPools;
  calls: DbCalls;
  dialect: Dialect;
  log: WarnLog;
}

/** A user as POST /users acknowledges it: `created_at` is missing only when the row could not be read back. */
export type CreatedUser = Omit<User, 'created_at'> & { created_at?: string };

export interface CreateResult {
  user: CreatedUser;
  /** The write's GTID; undefined when it could not be read after the commit (the write still happened). */
  token: string | undefined;
  /** The row's write time on the primary in µs (for the cache's visibility lag); undefined when not read back. */
  writtenUs: number | undefined;
}

/**
 * Test seam, null in production: runs between the committed INSERT and the follow-up select on the same
 * connection, so tests can cut that connection for real (KILL CONNECTION) at exactly that point.
 */
export const createUserHooks: {
  afterInsert: ((conn: PoolConnection, insertId: number) => Promise<void>) | null;
} = { afterInsert: null };

/** Bound on the read-back of a created row: it only supplies created_at, so it must not hold up the answer. */
export const READ_BACK_TIMEOUT_MS = 1000;

/**
 * Where a write goes: the writer, or the strategy's own pool when the registry says so (router-split: MySQL
 * Router waits only for a session's own writes, so they go through the connections its reads use).
 */
export function writeTarget(strategy: Strategy): 'writer' | StrategyPool {
  const { writesTo, pool }: { writesTo: string; pool: StrategyPool | null } = STRATEGY_REGISTRY[strategy];
  if (writesTo === 'writer') return 'writer';
  if (pool === null)
    throw new Error(`strategy ${strategy} writes to its own pool but the registry names none`);
  return pool;
}

/** Tokens travel in a header, where MySQL's multi-line GTID sets cannot go: strip the whitespace. */
export function normaliseToken(gtid: string | null | undefined): string | undefined {
  const t = (gtid ?? '').replace(/\s+/g, '');
  return t === '' ? undefined : t;
}

const isDuplicate = (err: unknown) => (err as { code?: string } | null)?.code === 'ER_DUP_ENTRY';

/**
 * Inserts and returns the new row and its GTID. The insert and the GTID query share one connection
 * (@@last_gtid is per session) and one deadline. A duplicate email is a 409.
 *
 * Once the INSERT has returned an insertId the row is committed (autocommit), so nothing after that point may
 * turn into an error: a 503 would invite a retry that can only get a 409. If the follow-up select fails or
 * overruns the deadline, the answer is built from the insertId and the request body, without a token, with
 * `created_at` from a read on another connection when that works. Before that point a failure or the
 * deadline is a 503: the INSERT may or may not have committed, which a retry's 409 tells.
 */
export async function createUser(
  deps: WriteDeps,
  email: string,
  name: string,
  strategy: Strategy,
): Promise<CreateResult> {
  const target = writeTarget(strategy);
  const { pool, label, dependency } =
    target === 'writer'
      ? { pool: deps.writer, label: 'writer' as PoolLabel, dependency: 'writer' as const }
      : requireOwnPool(deps.strategyPools, target);
  const call = deps.calls[label];
  let insertId: number | undefined;
  try {
    return await withConnection(pool, call, async (conn) => {
      const [res] = await conn.execute<ResultSetHeader>(INSERT_USER, [email, name]);
      insertId = Number(res.insertId);
      // Committed from here on.
      await createUserHooks.afterInsert?.(conn, insertId);
      const [rows] = await conn.execute<RowDataPacket[]>(selectCreatedUser(deps.dialect), [insertId]);
      const row = rows[0] as (CreatedUserRow & { gtid: string | null }) | undefined;
      if (!row) throw new Error(`inserted user ${insertId} not found on the writer`);
      return { user: toUser(row), token: normaliseToken(row.gtid), writtenUs: createdUsOf(row) };
    });
  } catch (err) {
    // Not committed, or not known to be: a duplicate email is the client's, another statement error stays as
    // it is, an outage is a 503.
    if (insertId === undefined) {
      if (isDuplicate(err)) throw new ClientError(409, `a user with email ${email} already exists`);
      throw isOutage(err) ? new UnavailableError(dependency, err) : err;
    }
    deps.log.warn(
      { id: insertId, err: describe(err) },
      'user created, but reading it back failed; answering without a consistency token',
    );
    const readBack = await readBackCreated(
      pool,
      { ...call, timeoutMs: READ_BACK_TIMEOUT_MS },
      { id: insertId, email, name },
    );
    return { ...readBack, token: undefined };
  }
}

/** The committed row from a fresh connection, for its created_at; the known fields alone if that fails too. */
async function readBackCreated(
  pool: Pool,
  call: DbCall,
  known: CreatedUser,
): Promise<Pick<CreateResult, 'user' | 'writtenUs'>> {
  try {
    const [rows] = await withConnection(pool, call, (c) =>
      c.execute<RowDataPacket[]>(SELECT_CREATED_USER_BY_ID, [known.id]),
    );
    const row = rows[0] as CreatedUserRow | undefined;
    if (row) return { user: toUser(row), writtenUs: createdUsOf(row) };
  } catch {
    // Already logged as a missing token; created_at is the only thing lost.
  }
  return { user: known, writtenUs: undefined };
}

/**
 * Only complete users go to the cache: a cached user must satisfy the read schema, and its entry needs the
 * write time for its visibility lag.
 */
export function cacheable({ user, writtenUs }: CreateResult): CacheEntry[] {
  if (typeof user.created_at !== 'string' || writtenUs === undefined) return [];
  return [{ user: user as User, writtenUs }];
}
