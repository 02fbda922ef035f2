/**
 * The API's variables (api/config.ts reads them). Defaults are the local stack's values (common/stack-defaults.ts,
 * common/stack-credentials.ts), so the API runs against `npm run stack:up` with no env at all, except the cache:
 * the stack's Redis wants the password it generated, which CQRS_REDIS_URL in .stack/stack.env carries.
 */
import { z } from 'zod';
import type { Flavor } from '../common/dialect.ts';
import { dbEndpoint, mysqlUrl } from '../common/endpoints.ts';
import { STACK_DEFAULT_USERS } from '../common/stack-credentials.ts';
import { redisUrl, STACK_DATABASE, STACK_DEFAULT_PORTS, STACK_HOST } from '../common/stack-defaults.ts';
import { canonicalStrategy, STRATEGY_NAMES, strategyNamesExpected } from '../common/strategies.ts';
import { DEFAULT_TOPOLOGY, TOPOLOGIES, TOPOLOGY_ENV } from '../common/topology.ts';
import { envVar, int, intExpected } from './env.ts';

const defaultDbUrl = (role: 'writer' | 'reader') =>
  mysqlUrl(
    dbEndpoint(
      { host: STACK_HOST, database: STACK_DATABASE, ports: STACK_DEFAULT_PORTS, users: STACK_DEFAULT_USERS },
      role,
    ),
  );

const mysqlUrlSchema = z.url({ protocol: /^mysql$/ });
const MYSQL_URL = 'a mysql://user:pass@host:port/db URL';
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const FLAVORS = ['mariadb', 'mysql'] as const satisfies readonly Flavor[];

/** An integer variable; `expected` is written from the bounds, so the two cannot disagree. */
const intVar = (name: string, min: number, max: number, def: number, help: string) =>
  envVar(name, int(min, max).default(def), intExpected(min, max), help);

export const API_VARS = {
  flavor: envVar('CQRS_FLAVOR', z.enum(FLAVORS).default('mariadb'), 'one of mariadb|mysql', 'SQL dialect'),
  /**
   * How the reader gets the writer's rows (common/topology.ts): with the flavour, which strategies this API
   * serves (a request naming another is a 400) and whether the sync-before pool opens.
   */
  topology: envVar(
    TOPOLOGY_ENV,
    z.enum(TOPOLOGIES).default(DEFAULT_TOPOLOGY),
    `one of ${TOPOLOGIES.join('|')}`,
    'async replica, or synchronous cluster (Galera, Group Replication)',
  ),
  writerUrl: envVar(
    'CQRS_WRITER_URL',
    mysqlUrlSchema.default(defaultDbUrl('writer')),
    MYSQL_URL,
    'The primary',
  ),
  readerUrl: envVar(
    'CQRS_READER_URL',
    mysqlUrlSchema.default(defaultDbUrl('reader')),
    MYSQL_URL,
    'The replica',
  ),
  redisUrl: envVar(
    'CQRS_REDIS_URL',
    z.url({ protocol: /^rediss?$/ }).default(redisUrl(STACK_DEFAULT_PORTS.redis)),
    'a redis://host:port URL',
    'Redis, for the cache strategy',
  ),
  /** MySQL Router's read/write-split port (6450); only the `router-split` strategy uses it. */
  routerSplitUrl: envVar(
    'CQRS_ROUTER_SPLIT_URL',
    mysqlUrlSchema.optional(),
    MYSQL_URL,
    "MySQL Router's split port",
  ),
  host: envVar(
    'CQRS_API_HOST',
    z.string().min(1).default(STACK_HOST),
    'a host name or address',
    'Listen address',
  ),
  port: intVar('CQRS_API_PORT', 0, 65535, STACK_DEFAULT_PORTS.api, 'Listen port'),
  writerPoolSize: intVar('CQRS_API_WRITER_POOL', 1, 1000, 10, 'Writer pool connections'),
  readerPoolSize: intVar('CQRS_API_READER_POOL', 1, 1000, 10, 'Reader pool connections'),
  /**
   * Router waits only for writes made on the same connection: with 1 connection every router-split read
   * follows every router-split write (exact read-your-writes, serialised); more trade that for throughput.
   */
  routerPoolSize: intVar('CQRS_API_ROUTER_POOL', 1, 1000, 1, "Connections to Router's split port"),
  /** An alias (gr-before) is read as its strategy; one these servers cannot serve is refused (api/config.ts). */
  defaultStrategy: envVar(
    'CQRS_API_DEFAULT_STRATEGY',
    z.enum(STRATEGY_NAMES).default('eventual').transform(canonicalStrategy),
    strategyNamesExpected(),
    'Strategy when a request names none',
  ),
  /** Rails' automatic role switching uses 2 s. */
  stickyWindowMs: intVar('CQRS_API_STICKY_WINDOW_MS', 0, 3_600_000, 2000, 'sticky window after a write'),
  gtidWaitTimeoutMs: intVar('CQRS_API_GTID_WAIT_TIMEOUT_MS', 1, 60_000, 1000, 'gtid-wait timeout'),
  /** MySQL Router's own default is documented as 1 s and coded as 2 s: always set it. */
  routerWaitTimeoutS: intVar('CQRS_API_ROUTER_WAIT_TIMEOUT_S', 0, 3600, 1, 'wait_for_my_writes_timeout'),
  cacheTtlS: intVar('CQRS_API_CACHE_TTL_S', 1, 86_400, 60, 'Cache entry lifetime'),
  bodyLimitBytes: intVar('CQRS_API_BODY_LIMIT_BYTES', 64, 1_048_576, 16_384, 'Larger bodies get 413'),
  logLevel: envVar(
    'CQRS_API_LOG_LEVEL',
    z.enum(LOG_LEVELS).default('warn'),
    `one of ${LOG_LEVELS.join('|')}`,
    'pino level',
  ),
  /** Every database call: the wait for a pooled connection and its statements together (api/db.ts). */
  dbTimeoutMs: intVar('CQRS_API_DB_TIMEOUT_MS', 10, 60_000, 1000, 'Deadline of every database call'),
  /** Replica connections for gtid-wait's waits, apart from the reader pool (api/read/gtid-wait.ts). */
  gtidWaitPoolSize: intVar(
    'CQRS_API_GTID_WAIT_POOL',
    1,
    1000,
    10,
    "Replica connections for gtid-wait's waits",
  ),
  /** A request's headers must have arrived within this; 408 after (capped at the request timeout). */
  headersTimeoutMs: intVar('CQRS_API_HEADERS_TIMEOUT_MS', 100, 600_000, 5000, 'Request headers deadline'),
  /** The whole request, body included, must have arrived within this; 408 after. */
  requestTimeoutMs: intVar('CQRS_API_REQUEST_TIMEOUT_MS', 100, 600_000, 10_000, 'Whole request deadline'),
  /** The API's own heartbeat on the writer, for /readyz's replica lag; 0 writes none. */
  heartbeatIntervalMs: intVar('CQRS_API_HEARTBEAT_INTERVAL_MS', 0, 60_000, 1000, 'Heartbeat interval'),
} as const;
