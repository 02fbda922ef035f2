/**
 * Request and response schemas (TypeBox → JSON Schema → Ajv). Every input the API takes is checked here, so a
 * bad request is a 400 before any handler runs. Ajv runs without coercion and without dropping unknown fields
 * (see app.ts), so wrong types and unknown fields are rejected, not silently fixed.
 */
import { Type } from 'typebox';
import { DIALECTS } from '../common/dialect.ts';
import { ACKS_PER_REQUEST } from '../common/ledger-sql.ts';
import { STRATEGY_NAMES } from '../common/strategies.ts';
import { CONSISTENCY_TOKEN_FORMAT } from './read/token.ts';

/**
 * Printable text only: no C0/C1 control characters and no lone UTF-16 surrogates (utf8mb4 cannot store them,
 * so they would otherwise fail inside MySQL). Ajv compiles patterns with the `u` flag, where a well-formed
 * surrogate pair is one astral code point and stays allowed.
 */
const PRINTABLE = '^[^\\u0000-\\u001F\\u007F-\\u009F\\uD800-\\uDFFF]*$';

/**
 * A MariaDB GTID list `d-s-n[,d-s-n…]` or a MySQL GTID set `uuid:1-5[:7…][:tag:1-3…][,uuid…]` (whitespace
 * removed), whatever the API's flavour: each notation comes from common/dialect.ts. Number ranges are checked by
 * the format (read/token.ts).
 */
export const GTID_TOKEN_PATTERN = `^(?:${DIALECTS.mariadb.gtidPattern}|${DIALECTS.mysql.gtidPattern})$`;

/**
 * Longest token taken: @@GLOBAL.gtid_executed of a long-lived MySQL cluster grows by a uuid_set per server
 * that ever wrote (~50 characters each) and by every gap, so 4 KiB is not enough; 64 KiB is ~1300 of them.
 */
export const TOKEN_MAX_LENGTH = 64 * 1024;

/**
 * Request headers other than the token keep Node's default 16 KiB bound (an onRequest hook answers 431 past
 * it); the HTTP parser itself allows the token on top of that, so any header block it refuses (a 431 JSON
 * answer from Fastify's client-error handler) was over both limits anyway.
 */
export const OTHER_HEADERS_MAX_BYTES = 16 * 1024;
export const MAX_HEADER_BYTES = TOKEN_MAX_LENGTH + OTHER_HEADERS_MAX_BYTES;

export const CLIENT_ID_PATTERN = '^[A-Za-z0-9._:-]{1,128}$';

/** A strategy id or an alias (common/strategies.ts STRATEGY_ALIASES); chooseStrategy makes it canonical. */
export const StrategySchema = Type.Enum(STRATEGY_NAMES);

export const ReadHeaders = Type.Object({
  'x-read-consistency': Type.Optional(StrategySchema),
  'x-consistency-token': Type.Optional(
    Type.String({
      maxLength: TOKEN_MAX_LENGTH,
      pattern: GTID_TOKEN_PATTERN,
      format: CONSISTENCY_TOKEN_FORMAT,
    }),
  ),
  'x-client-id': Type.Optional(Type.String({ pattern: CLIENT_ID_PATTERN })),
});

/** The strategy can also be a query parameter, for clients that cannot set headers. */
const consistencyQuery = { consistency: Type.Optional(StrategySchema) };

export const CreateUserBody = Type.Object(
  {
    email: Type.String({ format: 'email', minLength: 3, maxLength: 254 }),
    name: Type.String({ minLength: 1, maxLength: 200, pattern: PRINTABLE }),
  },
  { additionalProperties: false },
);

export const UserIdParams = Type.Object(
  { id: Type.String({ pattern: '^[1-9][0-9]{0,18}$' }) },
  { additionalProperties: false },
);

export const ConsistencyQuery = Type.Object(consistencyQuery, { additionalProperties: false });

export const EmailQuery = Type.Object(
  { email: Type.String({ format: 'email', minLength: 3, maxLength: 254 }), ...consistencyQuery },
  { additionalProperties: false },
);

export const User = Type.Object({
  id: Type.Number(),
  email: Type.String(),
  name: Type.String(),
  created_at: Type.String(),
});

/**
 * What POST /users answers: a User, except that `created_at` is left out when the committed row could not be
 * read back (see createUser).
 */
export const CreatedUser = Type.Object({
  id: Type.Number(),
  email: Type.String(),
  name: Type.String(),
  created_at: Type.Optional(Type.String()),
});

export const UserList = Type.Array(User);

export const ErrorResponse = Type.Object({
  statusCode: Type.Number(),
  error: Type.String(),
  message: Type.String(),
});

/** A run id or runner id of the ledger (lib/config.ts CQRS_TEST_ID / CQRS_RUNNER): what probe_acks stores. */
const ledgerId = (maxLength: number) => Type.String({ pattern: `^[A-Za-z0-9._-]{1,${maxLength}}$` });
const RunId = ledgerId(64);
const Runner = ledgerId(32);

/**
 * Body limit of POST /probe-acks alone: a full batch with the widest numbers is ~41 KB, over the default
 * CQRS_API_BODY_LIMIT_BYTES that the user routes keep.
 */
export const PROBE_ACKS_BODY_LIMIT_BYTES = 64 * 1024;

export const ProbeAcksBody = Type.Object(
  {
    runId: RunId,
    runner: Runner,
    acks: Type.Array(
      Type.Object(
        {
          // probe_acks.vu is INT UNSIGNED; seq BIGINT UNSIGNED, bounded to what a JSON number holds exactly.
          vu: Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1 }),
          seq: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: ACKS_PER_REQUEST },
    ),
  },
  { additionalProperties: false },
);

export const ProbeAcksParams = Type.Object({ runId: RunId, runner: Runner }, { additionalProperties: false });

export const ProbeAcksQuery = Type.Object(
  { endpoint: Type.Enum(['writer', 'reader']) },
  { additionalProperties: false },
);

export const ProbeAcksReport = Type.Object({
  endpoint: Type.String(),
  vus: Type.Array(Type.Object({ vu: Type.Integer(), acked: Type.Integer(), missing: Type.Integer() })),
});
