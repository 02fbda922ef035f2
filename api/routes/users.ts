/** POST /users, GET /users/:id, GET /users?email= — writes go to the primary, reads through the strategy. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { Strategy } from '../../common/strategies.ts';
import { ClientError, onDb } from '../errors.ts';
import { normaliseToken, writeTarget } from '../read/plan.ts';
import {
  ConsistencyQuery,
  CreateUserBody,
  EmailQuery,
  ErrorResponse,
  ReadHeaders,
  User,
  UserIdParams,
  UserList,
} from '../schemas.ts';
import {
  cacheKeys,
  INSERT_USER,
  SELECT_USER_BY_EMAIL,
  SELECT_USER_BY_ID,
  selectCreatedUser,
  toUser,
  type UserRow,
} from '../users/sql.ts';

/**
 * Inserts on the writer (through Router for `router-split`) and returns the new row and its GTID. The
 * insert and the GTID query share one connection: @@last_gtid is per session. The row is acknowledged only
 * after the commit succeeded.
 */
export async function createUser(app: FastifyInstance, email: string, name: string, strategy: Strategy) {
  const viaRouter = writeTarget(strategy) === 'router-split';
  const pool = viaRouter ? app.routerSplitPool : app.writer;
  if (!pool)
    throw new ClientError(
      400,
      'strategy router-split needs MySQL Router; set CQRS_ROUTER_SPLIT_URL on the API',
    );
  return onDb(viaRouter ? 'router' : 'writer', async () => {
    const conn = await pool.getConnection();
    try {
      const [res] = await conn.execute<ResultSetHeader>(INSERT_USER, [email, name]);
      const [rows] = await conn.execute<RowDataPacket[]>(selectCreatedUser(app.consistency.dialect), [
        res.insertId,
      ]);
      const row = rows[0] as (UserRow & { gtid: string | null }) | undefined;
      if (!row) throw new Error(`inserted user ${res.insertId} not found on the writer`);
      return { user: toUser(row), token: normaliseToken(row.gtid) };
    } finally {
      conn.release();
    }
  });
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
        response: { 201: User, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      try {
        const { user, token } = await createUser(
          app,
          request.body.email,
          request.body.name,
          app.consistency.strategyOf(request),
        );
        if (token) reply.header('x-consistency-token', token);
        await app.consistency.afterWrite(request, reply, [user]);
        return reply.code(201).send(user);
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
      const { users } = await app.consistency.readThrough(request, reply, {
        sql: SELECT_USER_BY_ID,
        params: [id],
        cacheKey: cacheKeys.byId(id),
      });
      const [user] = users;
      if (!user) throw new ClientError(404, `user ${id} not found`);
      return user;
    },
  );

  app.get(
    '/users',
    { schema: { querystring: EmailQuery, headers: ReadHeaders, response: { 200: UserList } } },
    async (request, reply) => {
      const { email } = request.query;
      const { users } = await app.consistency.readThrough(request, reply, {
        sql: SELECT_USER_BY_EMAIL,
        params: [email],
        cacheKey: cacheKeys.byEmail(email),
      });
      return users;
    },
  );
};
