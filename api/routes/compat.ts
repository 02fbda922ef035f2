/**
 * GET /get: the original FastAPI experiment's endpoint. It creates a user with a random email on the writer,
 * immediately looks it up by email through the read strategy, and returns the list; an empty list is a
 * stale read, counted in cqrs_api_stale_reads_total.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ConsistencyQuery, ReadHeaders, UserList } from '../schemas.ts';
import { userLookups } from '../users/sql.ts';
import { cacheable, createUser } from '../write/create-user.ts';

export const compatRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/get',
    { schema: { querystring: ConsistencyQuery, headers: ReadHeaders, response: { 200: UserList } } },
    async (request, reply) => {
      const email = `compat-${randomUUID()}@example.test`;
      const strategy = app.consistency.strategyOf(request);
      const created = await createUser(app.consistency.deps, email, 'compat', strategy);
      await app.consistency.afterWrite(request, reply, cacheable(created));
      // Under gtid-wait the read waits for this very write, as a client sending the token back would.
      const { users } = await app.consistency.readThrough(
        request,
        reply,
        userLookups.byEmail(email),
        created.token,
      );
      app.metrics.compatReads.inc({ strategy });
      if (users.length === 0) app.metrics.staleReads.inc({ strategy });
      return users;
    },
  );
};
