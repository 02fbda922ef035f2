/**
 * Request and response schemas (TypeBox → JSON Schema → Ajv). Every input the API takes is checked here, so a
 * bad request is a 400 before any handler runs. Ajv runs without coercion and without dropping unknown fields
 * (see app.ts), so wrong types and unknown fields are rejected, not silently fixed.
 */
import { Type } from 'typebox';
import { STRATEGIES } from '../common/strategies.ts';
import { CONSISTENCY_TOKEN_FORMAT } from './read/token.ts';

/**
 * Printable text only: no C0/C1 control characters and no lone UTF-16 surrogates (utf8mb4 cannot store them,
 * so they would otherwise fail inside MySQL). Ajv compiles patterns with the `u` flag, where a well-formed
 * surrogate pair is one astral code point and stays allowed.
 */
const PRINTABLE = '^[^\\u0000-\\u001F\\u007F-\\u009F\\uD800-\\uDFFF]*$';

/** MariaDB `d-s-n[,d-s-n…]` or a MySQL GTID set `uuid[:tag]:1-5[:7…][,…]` (whitespace removed). */
export const GTID_TOKEN_PATTERN =
  '^(?:\\d{1,10}-\\d{1,10}-\\d{1,20}(?:,\\d{1,10}-\\d{1,10}-\\d{1,20})*' +
  '|[0-9a-fA-F-]{36}(?::[a-z_][a-z0-9_]{0,31})?(?::\\d{1,20}(?:-\\d{1,20})?)+' +
  '(?:,[0-9a-fA-F-]{36}(?::[a-z_][a-z0-9_]{0,31})?(?::\\d{1,20}(?:-\\d{1,20})?)+)*)$';

export const CLIENT_ID_PATTERN = '^[A-Za-z0-9._:-]{1,128}$';

export const StrategySchema = Type.Enum(STRATEGIES);

export const ReadHeaders = Type.Object({
  'x-read-consistency': Type.Optional(StrategySchema),
  'x-consistency-token': Type.Optional(
    Type.String({ maxLength: 4096, pattern: GTID_TOKEN_PATTERN, format: CONSISTENCY_TOKEN_FORMAT }),
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
