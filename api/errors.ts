/**
 * How failures become HTTP answers: client mistakes are 4xx with a JSON body, an unreachable database is a
 * 503 with Retry-After, anything else a 500 without internals. No answer ever carries a stack trace.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import type { LogLimiter } from './log-limit.ts';

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

/** A dependency the request needs cannot be reached; maps to 503. */
export class UnavailableError extends Error {
  override name = 'UnavailableError';
  constructor(
    readonly dependency: 'writer' | 'reader' | 'redis' | 'router',
    cause: unknown,
  ) {
    super(`${dependency} database unavailable: ${describe(cause)}`, { cause });
  }
}

/**
 * A database call that overran the API's deadline (api/db.ts): no pooled connection in time, or no answer to
 * its statement. Counted as an outage: the server may be paused, overloaded or unreachable.
 */
export class DbTimeoutError extends Error {
  override name = 'DbTimeoutError';
  constructor(
    readonly phase: 'acquire' | 'query',
    readonly timeoutMs: number,
  ) {
    super(phase === 'acquire' ? `no connection within ${timeoutMs} ms` : `no answer within ${timeoutMs} ms`);
  }
}

/** A request the client can fix (e.g. a strategy this server cannot run); maps to its status code. */
export class ClientError extends Error {
  override name = 'ClientError';
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * mysql2 error codes that mean "the server is not there right now" rather than "this query is wrong":
 * refused/reset/lost connections, the pool's bounded queue being full, a server shutting down, and 1290
 * (read-only) when a failover left us writing to a replica.
 */
const OUTAGE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_OPTION_PREVENTS_STATEMENT',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_QUERY_INTERRUPTED',
]);

export function isOutage(err: unknown): boolean {
  if (err instanceof DbTimeoutError) return true;
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && OUTAGE_CODES.has(code)) return true;
  // mysql2 rejects with plain Errors for a dead pooled connection and a full queue.
  return (
    typeof message === 'string' &&
    /closed state|Queue limit reached|connect ETIMEDOUT|Pool is closed/.test(message)
  );
}

/** Awaits a database call and turns an outage into an UnavailableError naming the dependency. */
export async function onDb<T>(
  dependency: UnavailableError['dependency'],
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw isOutage(err) ? new UnavailableError(dependency, err) : err;
  }
}

export function describe(err: unknown): string {
  if (err instanceof DbTimeoutError) return err.message;
  if (err instanceof Error) return (err as { code?: string }).code ?? err.message;
  return String(err);
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function errorBody(statusCode: number, message: string): ErrorBody {
  return { statusCode, error: REASONS[statusCode] ?? 'Error', message };
}

/** Seconds a client should wait before retrying after an outage answer. */
export const RETRY_AFTER_SECONDS = 1;

/** `log` bounds the outage warnings: during an outage every request would log one. */
export function installErrorHandler(app: FastifyInstance, log: LogLimiter): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof UnavailableError) {
      request.server.metrics?.unavailable.inc({ dependency: err.dependency });
      log.warn(
        `unavailable:${err.dependency}`,
        { dependency: err.dependency, cause: describe(err.cause) },
        'dependency unavailable',
      );
      return reply
        .code(503)
        .header('retry-after', String(RETRY_AFTER_SECONDS))
        .send(errorBody(503, err.message));
    }
    if (err instanceof ClientError)
      return reply.code(err.statusCode).send(errorBody(err.statusCode, err.message));
    if (err.validation) {
      // Ajv says "must be equal to one of the allowed values"; say which they are.
      const allowed = err.validation[0]?.params?.allowedValues;
      const message = Array.isArray(allowed) ? `${err.message} (${allowed.join(', ')})` : err.message;
      return reply.code(400).send(errorBody(400, message));
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send(errorBody(status, err.message));
    }
    request.log.error({ err }, 'unhandled error');
    return reply.code(500).send(errorBody(500, 'internal error'));
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send(errorBody(404, `no route ${request.method} ${request.url.split('?')[0]}`));
  });
}
