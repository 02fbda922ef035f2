/**
 * The acknowledgement ledger of the k6 API scenarios, so that they need no SQL in k6 (they run on a stock k6):
 * POST /probe-acks records a batch of acknowledged probe writes on the writer, GET /probe-acks/:runId/:runner
 * reconciles them on one endpoint, per VU, with the same statements the SQL scenarios run themselves
 * (common/ledger-sql.ts). Both only touch the ledger and read users; nothing here goes through a strategy.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { RowDataPacket } from 'mysql2/promise';
import { ACKS_BY_VU, ackValues, insertAcks } from '../../common/ledger-sql.ts';
import { withConnection } from '../db.ts';
import { onDb } from '../errors.ts';
import {
  PROBE_ACKS_BODY_LIMIT_BYTES,
  ProbeAcksBody,
  ProbeAcksParams,
  ProbeAcksQuery,
  ProbeAcksReport,
} from '../schemas.ts';

/**
 * The ledger's calls get longer than the pools' deadline: a run's final flush posts from every VU at once, and a
 * reconciliation joins all of a run's acknowledgements. A 503 there would leave acknowledged writes unchecked.
 */
export const LEDGER_TIMEOUT_MS = 30_000;

interface AckRow {
  vu: number | string;
  acked: number | string;
  missing: number | string;
}

export const probeAcksRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/probe-acks',
    { bodyLimit: PROBE_ACKS_BODY_LIMIT_BYTES, schema: { body: ProbeAcksBody } },
    async (request, reply) => {
      const { runId, runner, acks } = request.body;
      const keys = acks.map((a) => ({ runId, runner, vu: a.vu, seq: a.seq }));
      // `query`, not `execute`: the statement's width varies with the batch, and a prepared statement per width
      // and connection would pile up against max_prepared_stmt_count. mysql2 escapes the values, which the
      // schema has already limited to ids of [A-Za-z0-9._-] and integers.
      await onDb('writer', () =>
        withConnection(app.writer, { ...app.dbCalls.writer, timeoutMs: LEDGER_TIMEOUT_MS }, (c) =>
          c.query(insertAcks(keys.length), ackValues(keys)),
        ),
      );
      return reply.code(204).send();
    },
  );

  app.get(
    '/probe-acks/:runId/:runner',
    { schema: { params: ProbeAcksParams, querystring: ProbeAcksQuery, response: { 200: ProbeAcksReport } } },
    async (request) => {
      const { runId, runner } = request.params;
      const { endpoint } = request.query;
      const pool = endpoint === 'writer' ? app.writer : app.reader;
      const call = { ...app.dbCalls[endpoint], timeoutMs: LEDGER_TIMEOUT_MS };
      const [rows] = await onDb(endpoint, () =>
        withConnection(pool, call, (c) => c.execute<RowDataPacket[]>(ACKS_BY_VU.users, [runId, runner])),
      );
      const vus = (rows as unknown as AckRow[])
        .map((r) => ({ vu: Number(r.vu), acked: Number(r.acked), missing: Number(r.missing) }))
        .sort((a, b) => a.vu - b.vu);
      return { endpoint, vus };
    },
  );
};
