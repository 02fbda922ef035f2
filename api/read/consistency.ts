/**
 * The per-request side of the strategies, as a plugin: who the client is, which strategy it asked for, and
 * a `readThrough` that runs a lookup the chosen way and labels the response (X-Read-* and X-Visibility-*
 * headers, metrics).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Dialect } from '../../common/dialect.ts';
import {
  type ReadSource,
  type Strategy,
  type StrategyName,
  strategiesFor,
  unavailableReason,
  usesInput,
} from '../../common/strategies.ts';
import type { ServerKind } from '../../common/topology.ts';
import { VISIBILITY_HEADERS } from '../../common/visibility.ts';
import { ClientError } from '../errors.ts';
import { CLIENT_ID_PATTERN } from '../schemas.ts';
import type { Lookup } from '../users/sql.ts';
import { type CacheEntry, cacheUsers } from './cache.ts';
import { executeRead, type ReadDeps, type ReadOutcome } from './execute.ts';
import { WaitPool } from './gtid-wait.ts';
import { chooseStrategy, planRead } from './plan.ts';
import { StickyWindows } from './sticky.ts';

export const CLIENT_COOKIE = 'cqrs_client';
/** The X-Client-Id schema's pattern, for the cookie (which no schema checks) and for routes without ReadHeaders. */
const CLIENT_ID_RE = new RegExp(CLIENT_ID_PATTERN);

export interface ReadLabels {
  strategy: Strategy | 'none';
  source: ReadSource | 'none';
}

export const NO_READ_LABELS: Readonly<ReadLabels> = Object.freeze({ strategy: 'none', source: 'none' });

declare module 'fastify' {
  interface FastifyInstance {
    consistency: Consistency;
  }
  interface FastifyRequest {
    /** Labels for the request-duration histogram; set by readThrough, null for other requests. */
    readLabels: ReadLabels | null;
  }
}

export interface ConsistencyOptions {
  dialect: Dialect;
  /** The servers behind the writer and reader (flavour × topology): which strategies a request may name. */
  serverKind: ServerKind;
  /** One these servers serve (api/config.ts refuses any other at boot). */
  defaultStrategy: Strategy;
  stickyWindowMs: number;
  gtidWaitTimeoutMs: number;
  /** Connections of gtid-wait's own pool (gtid-wait.ts). */
  gtidWaitPoolSize: number;
  cacheTtlS: number;
}

interface ReadRequestParts {
  headers: { 'x-read-consistency'?: StrategyName; 'x-consistency-token'?: string; 'x-client-id'?: string };
  query: { consistency?: StrategyName };
}

export interface Consistency {
  readonly dialect: Dialect;
  /**
   * What reads and writes run on (pools, deadlines, metrics, the rate-limited log); tests swap single
   * members. Writes (api/write/) take the part they need.
   */
  readonly deps: ReadDeps;
  readonly sticky: StickyWindows;
  /**
   * The request's strategy, canonical (an alias resolved); a 400 saying why when these servers cannot serve
   * it (common/strategies.ts unavailableReason), for reads and writes alike, before any pool is asked.
   */
  strategyOf(request: ReadRequestParts): Strategy;
  /** The client's id from `X-Client-Id` or the cookie; issues a cookie on writes when it has neither. */
  clientId(request: FastifyRequest, reply?: FastifyReply): string | undefined;
  readThrough(
    request: FastifyRequest & ReadRequestParts,
    reply: FastifyReply,
    lookup: Lookup,
    /** Overrides the client's token (GET /get waits for its own write). */
    token?: string,
  ): Promise<ReadOutcome>;
  /** Bookkeeping after an acknowledged write: sticky window, and the cache's write-through. */
  afterWrite(request: FastifyRequest, reply: FastifyReply, written: readonly CacheEntry[]): Promise<void>;
}

export const consistencyPlugin = fp<ConsistencyOptions>(
  async (app, opts) => {
    const sticky = new StickyWindows(opts.stickyWindowMs);
    const waitConnections = app.strategyPools.gtidWait;
    // api/pools.ts opens it wherever there is a reader.
    if (!waitConnections) throw new Error('gtid-wait has no pool of its own');
    // Once per app: the log is the app's rate-limited one, not the request's (an outage would repeat a line
    // per request).
    const deps: ReadDeps = {
      writer: app.writer,
      reader: app.reader,
      gtidWait: new WaitPool(waitConnections, opts.gtidWaitPoolSize),
      strategyPools: app.strategyPools,
      redis: app.redis,
      dialect: opts.dialect,
      metrics: app.metrics,
      calls: app.dbCalls,
      gtidWaitTimeoutMs: opts.gtidWaitTimeoutMs,
      cacheTtlS: opts.cacheTtlS,
      log: app.logLimiter.byMessage,
    };

    const clientId = (request: FastifyRequest, reply?: FastifyReply): string | undefined => {
      const header = request.headers['x-client-id'];
      if (typeof header === 'string' && CLIENT_ID_RE.test(header)) return header;
      const cookieHeader = request.headers.cookie;
      if (cookieHeader) {
        const fromCookie = app.parseCookie(cookieHeader)[CLIENT_COOKIE];
        if (fromCookie && CLIENT_ID_RE.test(fromCookie)) return fromCookie;
      }
      if (!reply) return undefined;
      // A cookie-jar client (browsers, k6 VUs) becomes stickable without knowing about the header.
      const issued = randomUUID();
      reply.setCookie(CLIENT_COOKIE, issued, { path: '/', httpOnly: true, sameSite: 'lax' });
      return issued;
    };

    // The one place a strategy's availability on these servers is decided, per request.
    const available: ReadonlySet<Strategy> = new Set(strategiesFor(opts.serverKind));
    const strategyOf = (request: ReadRequestParts): Strategy => {
      const strategy = chooseStrategy(
        request.headers['x-read-consistency'],
        request.query.consistency,
        opts.defaultStrategy,
      );
      if (!available.has(strategy)) throw new ClientError(400, unavailableReason(strategy, opts.serverKind));
      return strategy;
    };

    const consistency: Consistency = {
      dialect: opts.dialect,
      deps,
      sticky,
      strategyOf,
      clientId,
      async readThrough(request, reply, lookup, token) {
        const strategy = strategyOf(request);
        const plan = planRead(strategy, {
          token: token ?? request.headers['x-consistency-token'],
          // Only for a strategy that reads it: finding the client may mean parsing its cookie.
          stickyPinned: usesInput(strategy, 'write-window') && sticky.pinned(clientId(request), Date.now()),
        });
        const labels: ReadLabels = { strategy, source: 'none' };
        request.readLabels = labels;
        const outcome = await executeRead(deps, plan, lookup);
        labels.source = outcome.source;
        if (outcome.fallback) app.metrics.readFallbacks.inc({ strategy, reason: outcome.fallback });
        reply.header('x-read-source', outcome.source);
        reply.header('x-read-strategy', strategy);
        if (outcome.waitMs !== undefined) reply.header('x-read-wait-ms', outcome.waitMs.toFixed(3));
        if (outcome.fallback) reply.header('x-read-fallback', outcome.fallback);
        // Only on a read that found its row: there is no visibility of a row that is not there.
        if (outcome.visibility) {
          reply.header(VISIBILITY_HEADERS.lagUs, String(outcome.visibility.lagUs));
          reply.header(VISIBILITY_HEADERS.basis, outcome.visibility.basis);
        }
        return outcome;
      },
      async afterWrite(request, reply, written) {
        const id = clientId(request, reply);
        if (id !== undefined) sticky.recordWrite(id, Date.now());
        // Write-through for every write, whatever strategy the writer asked for: a later `cache` read by
        // anyone must not miss a row that exists.
        await cacheUsers(deps, written);
      },
    };
    app.decorate('consistency', consistency);
    // null for non-reads (no per-request allocation); readThrough gives a read its labels.
    app.decorateRequest('readLabels', null);
  },
  {
    name: 'consistency',
    dependencies: ['mysql-pool', 'redis', 'metrics', 'db-calls', '@fastify/cookie'],
    fastify: '5.x',
  },
);
