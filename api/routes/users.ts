/**
 * POST /users, GET /users/:id, GET /users?email=: routes only. Writes go through api/write/ (the primary, or
 * the strategy's own pool), reads through the strategy (api/read/).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ClientError } from '../errors.ts';
import {
  ConsistencyQuery,
  CreatedUser,
  CreateUserBody,
  EmailQuery,
  ErrorResponse,
  ReadHeaders,
  User,
  UserIdParams,
  UserList,
} from '../schemas.ts';
import { userLookups } from '../users/sql.ts';
import { cacheable, createUser } from '../write/create-user.ts';

export const usersRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/users',
    {
      schema: {
        body: CreateUserBody,
        querystring: ConsistencyQuery,
        headers: ReadHeaders,
        response: { 201: CreatedUser, 409: ErrorResponse },
      },
    },
    async (request, reply) => {
      const { email, name } = request.body;
      const created = await createUser(
        app.consistency.deps,
        email,
        name,
        app.consistency.strategyOf(request),
      );
      if (created.token) reply.header('x-consistency-token', created.token);
      await app.consistency.afterWrite(request, reply, cacheable(created));
      return reply.code(201).send(created.user);
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
