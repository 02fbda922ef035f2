/**
 * The API's configuration: one zod schema over the environment, read once at boot. Defaults are the local
 * stack's values (common/stack-defaults.ts, common/stack-credentials.ts), so `node --import tsx api/server.ts` works against
 * `npm run stack:up` with no env at all, except the cache: the stack's Redis wants the password it generated,
 * which CQRS_REDIS_URL in .stack/stack.env carries (without it the cache strategy reads the database).
 */
import { z } from 'zod';
import type { Flavor } from '../common/dialect.ts';
import { redact } from '../common/dsn.ts';
import { dbEndpoint, mysqlUrl } from '../common/endpoints.ts';
import { STACK_DEFAULT_USERS } from '../common/stack-credentials.ts';
import { redisUrl, STACK_DATABASE, STACK_DEFAULT_PORTS, STACK_HOST } from '../common/stack-defaults.ts';
import { STRATEGIES } from '../common/strategies.ts';

const defaultDbUrl = (role: 'writer' | 'reader') =>
  mysqlUrl(
    dbEndpoint(
      { host: STACK_HOST, database: STACK_DATABASE, ports: STACK_DEFAULT_PORTS, users: STACK_DEFAULT_USERS },
      role,
    ),
  );

const mysqlUrlSchema = z.url({ protocol: /^mysql$/, error: 'expected a mysql://user:pass@host:port/db URL' });
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const ConfigSchema = z.object({
  CQRS_FLAVOR: z.enum(['mariadb', 'mysql'] satisfies Flavor[]).default('mariadb'),
  CQRS_WRITER_URL: mysqlUrlSchema.default(defaultDbUrl('writer')),
  CQRS_READER_URL: mysqlUrlSchema.default(defaultDbUrl('reader')),
  CQRS_REDIS_URL: z
    .url({ protocol: /^rediss?$/, error: 'expected a redis://host:port URL' })
    .default(redisUrl(STACK_DEFAULT_PORTS.redis)),
  /** MySQL Router's read/write-split port (6450); only the `router-split` strategy uses it. */
  CQRS_ROUTER_SPLIT_URL: mysqlUrlSchema.optional(),
  CQRS_API_HOST: z.string().min(1).default(STACK_HOST),
  CQRS_API_PORT: int(0, 65535).default(STACK_DEFAULT_PORTS.api),
  CQRS_API_WRITER_POOL: int(1, 1000).default(10),
  CQRS_API_READER_POOL: int(1, 1000).default(10),
  /**
   * Router waits only for writes made on the same connection: with 1 connection every router-split read
   * follows every router-split write (exact read-your-writes, serialised); more trade that for throughput.
   */
  CQRS_API_ROUTER_POOL: int(1, 1000).default(1),
  CQRS_API_DEFAULT_STRATEGY: z.enum(STRATEGIES).default('eventual'),
  /** Rails' automatic role switching uses 2 s. */
  CQRS_API_STICKY_WINDOW_MS: int(0, 3_600_000).default(2000),
  CQRS_API_GTID_WAIT_TIMEOUT_MS: int(1, 60_000).default(1000),
  /** MySQL Router's own default is documented as 1 s and coded as 2 s: always set it. */
  CQRS_API_ROUTER_WAIT_TIMEOUT_S: int(0, 3600).default(1),
  CQRS_API_CACHE_TTL_S: int(1, 86_400).default(60),
  CQRS_API_BODY_LIMIT_BYTES: int(64, 1_048_576).default(16_384),
  CQRS_API_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('warn'),
  // issue 8 part B
  /** Every database call: the wait for a pooled connection and its statements together (api/db.ts). */
  CQRS_API_DB_TIMEOUT_MS: int(10, 60_000).default(1000),
  /** Replica connections for gtid-wait's waits, apart from the reader pool (api/read/gtid-wait.ts). */
  CQRS_API_GTID_WAIT_POOL: int(1, 1000).default(10),
  /** A request's headers must have arrived within this; 408 after (capped at the request timeout). */
  CQRS_API_HEADERS_TIMEOUT_MS: int(100, 600_000).default(5000),
  /** The whole request, body included, must have arrived within this; 408 after. */
  CQRS_API_REQUEST_TIMEOUT_MS: int(100, 600_000).default(10_000),
  /** The API's own heartbeat on the writer, for /readyz's replica lag; 0 writes none. */
  CQRS_API_HEARTBEAT_INTERVAL_MS: int(0, 60_000).default(1000),
});

type Env = z.infer<typeof ConfigSchema>;

export interface ApiConfig {
  flavor: Flavor;
  writerUrl: string;
  readerUrl: string;
  redisUrl: string;
  routerSplitUrl: string | undefined;
  host: string;
  port: number;
  writerPoolSize: number;
  readerPoolSize: number;
  routerPoolSize: number;
  defaultStrategy: Env['CQRS_API_DEFAULT_STRATEGY'];
  stickyWindowMs: number;
  gtidWaitTimeoutMs: number;
  routerWaitTimeoutS: number;
  cacheTtlS: number;
  bodyLimitBytes: number;
  logLevel: Env['CQRS_API_LOG_LEVEL'];
  // issue 8 part B
  dbTimeoutMs: number;
  gtidWaitPoolSize: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  heartbeatIntervalMs: number;
}

/** Thrown for bad configuration; its message is one line, ready to print without a stack trace. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates the environment (only the names above are read; empty strings count as unset). */
export function loadConfig(env: Record<string, string | undefined> = process.env): ApiConfig {
  const present = Object.fromEntries(
    Object.keys(ConfigSchema.shape)
      .map((k) => [k, env[k]] as const)
      .filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = ConfigSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? 'config');
    throw new ConfigError(
      `invalid ${key}; reason: ${issue?.message ?? 'unknown'}, got ${JSON.stringify(redact(present[key] ?? ''))}`,
    );
  }
  const e = parsed.data;
  return {
    flavor: e.CQRS_FLAVOR,
    writerUrl: e.CQRS_WRITER_URL,
    readerUrl: e.CQRS_READER_URL,
    redisUrl: e.CQRS_REDIS_URL,
    routerSplitUrl: e.CQRS_ROUTER_SPLIT_URL,
    host: e.CQRS_API_HOST,
    port: e.CQRS_API_PORT,
    writerPoolSize: e.CQRS_API_WRITER_POOL,
    readerPoolSize: e.CQRS_API_READER_POOL,
    routerPoolSize: e.CQRS_API_ROUTER_POOL,
    defaultStrategy: e.CQRS_API_DEFAULT_STRATEGY,
    stickyWindowMs: e.CQRS_API_STICKY_WINDOW_MS,
    gtidWaitTimeoutMs: e.CQRS_API_GTID_WAIT_TIMEOUT_MS,
    routerWaitTimeoutS: e.CQRS_API_ROUTER_WAIT_TIMEOUT_S,
    cacheTtlS: e.CQRS_API_CACHE_TTL_S,
    bodyLimitBytes: e.CQRS_API_BODY_LIMIT_BYTES,
    logLevel: e.CQRS_API_LOG_LEVEL,
    // issue 8 part B
    dbTimeoutMs: e.CQRS_API_DB_TIMEOUT_MS,
    gtidWaitPoolSize: e.CQRS_API_GTID_WAIT_POOL,
    headersTimeoutMs: e.CQRS_API_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: e.CQRS_API_REQUEST_TIMEOUT_MS,
    heartbeatIntervalMs: e.CQRS_API_HEARTBEAT_INTERVAL_MS,
  };
}
