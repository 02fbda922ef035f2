/** POST /users, GET /users/:id, GET /users?email= — writes go to the primary, reads through the strategy. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Strategy } from '../../common/strategies.ts';
import { type DbCall, withConnection } from '../db.ts';
import { ClientError, describe, isOutage, UnavailableError } from '../errors.ts';
import type { CacheEntry } from '../read/cache.ts';
import { routerSplitMissing } from '../read/execute.ts';
import { normaliseToken, writeTarget } from '../read/plan.ts';
import {
  ConsistencyQuery,
  CreatedUser as CreatedUserSchema,
  CreateUserBody,
  EmailQuery,
  ErrorResponse,
  ReadHeaders,
  User,
  UserIdParams,
  UserList,
} from '../schemas.ts';
import {
  type CreatedUserRow,
  createdUsOf,
  INSERT_USER,
  SELECT_CREATED_USER_BY_ID,
  selectCreatedUser,
  toUser,
  type User as UserRecord,
  userLookups,
} from '../users/sql.ts';

/** A user as POST /users acknowledges it: `created_at` is missing only when the row could not be read back. */
export type CreatedUser = Omit<UserRecord, 'created_at'> & { created_at?: string };

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

/**
 * Inserts on the writer (through Router for `router-split`) and returns the new row and its GTID. The
 * insert and the GTID query share one connection (@@last_gtid is per session) and one deadline.
 *
 * Once the INSERT has returned an insertId the row is committed (autocommit), so nothing after that point may
 * turn into an error: a 503 would invite a retry that can only get a 409. If the follow-up select fails or
 * overruns the deadline, the answer is built from the insertId and the request body, without a token, with
 * `created_at` from a read on another connection when that works. Before that point a failure or the
 * deadline is a 503: the INSERT may or may not have committed, which a retry's 409 tells.
 */
export async function createUser(
  app: FastifyInstance,
  email: string,
  name: string,
  strategy: Strategy,
): Promise<CreateResult> {
  const viaRouter = writeTarget(strategy) === 'router-split';
  const pool = viaRouter ? app.routerSplitPool : app.writer;
  if (!pool) throw routerSplitMissing();
  const dependency = viaRouter ? 'router' : 'writer';
  const call = viaRouter ? app.dbCalls.routerSplit : app.dbCalls.writer;
  let insertId: number | undefined;
  try {
    return await withConnection(pool, call, async (conn) => {
      const [res] = await conn.execute<ResultSetHeader>(INSERT_USER, [email, name]);
      insertId = Number(res.insertId);
      // Committed from here on.
      await createUserHooks.afterInsert?.(conn, insertId);
      const [rows] = await conn.execute<RowDataPacket[]>(selectCreatedUser(app.consistency.dialect), [
        insertId,
      ]);
      const row = rows[0] as (CreatedUserRow & { gtid: string | null }) | undefined;
      if (!row) throw new Error(`inserted user ${insertId} not found on the writer`);
      return { user: toUser(row), token: normaliseToken(row.gtid), writtenUs: createdUsOf(row) };
    });
  } catch (err) {
    // Not committed, or not known to be: a statement error (e.g. a duplicate email) as it is, an outage a 503.
    if (insertId === undefined) throw isOutage(err) ? new UnavailableError(dependency, err) : err;
    app.logLimiter.warn(
      'read-back',
      { id: insertId, err: describe(err) },
      'user created, but reading it back failed; answering without a consistency token',
    );
    const readBack = await readBackCreated(
      pool,
      { ...call, timeoutMs: READ_BACK_TIMEOUT_MS },
      {
        id: insertId,
        email,
        name,
      },
    );
    return { ...readBack, token: undefined };
  }
}

/** Bound on the read-back of a created row: it only supplies created_at, so it must not hold up the answer. */
export const READ_BACK_TIMEOUT_MS = 1000;

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
  return [{ user: user as UserRecord, writtenUs }];
}

export const isDuplicate = (err: unknown) => (err as { code?: string } | null)?.code === 'ER_DUP_ENTRY';

export const usersRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/users',
    {
      schema: {
        body: CreateUserBody,
        querystring: ConsistencyQuery,
        headers: ReadHeaders,
        response: { 201: CreatedUserSchema, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      try {
        const created = await createUser(
          app,
          request.body.email,
          request.body.name,
          app.consistency.strategyOf(request),
        );
        if (created.token) reply.header('x-consistency-token', created.token);
        await app.consistency.afterWrite(request, reply, cacheable(created));
        return reply.code(201).send(created.user);
      } catch (err) {
        if (isDuplicate(err))
          throw new ClientError(409, `a user with email ${request.body.email} already exists`);
        throw err;
      }
    },
  );

  app.get(
    '/users/:id',
    {
      schema: {
        params: UserIdParams,
        querystring: ConsistencyQuery,
        headers: ReadHeaders,
        response: { 200: User },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const { users } = await app.consistency.readThrough(request, reply, userLookups.byId(id));
      const [user] = users;
      if (!user) throw new ClientError(404, `user ${id} not found`);
      return user;
    },
  );

  app.get(
    '/users',
    { schema: { querystring: EmailQuery, headers: ReadHeaders, response: { 200: UserList } } },
    async (request, reply) => {
      const { users } = await app.consistency.readThrough(
        request,
        reply,
        userLookups.byEmail(request.query.email),
      );
      return users;
    },
  );
};
