/**
 * Every connection pool the API opens, from its config: the writer, the reader, and each strategy's own
 * (`pool` in common/strategies.ts). A strategy's pool is missing where its server feature is (no Group
 * Replication on MariaDB, no Router URL given); requests with that strategy are then a 400 that says why.
 */
import type { Pool } from 'mysql2/promise';
import { dialectFor, type Flavor } from '../common/dialect.ts';
import { grBeforeSessionSql, routerSplitSessionSql } from '../common/mysql-strategies.ts';
import { STRATEGY_POOLS, type StrategyPool } from '../common/strategies.ts';
import type { ApiConfig } from './config.ts';
import type { PoolLabel } from './db.ts';
import { ClientError, type UnavailableError } from './errors.ts';

export interface PoolSettings {
  /** null: this API opens no such pool. */
  url: string | null;
  size: number;
  /** Statements run once on every new connection, before it serves any query. */
  sessionSql?: readonly string[];
}

export interface StrategyPoolSpec {
  settings(config: ApiConfig): PoolSettings;
  /** What a 503 names when this pool's server fails. */
  dependency: UnavailableError['dependency'];
  /** The 400's message for a request that needs this pool on an API that has none. */
  missing(flavor: Flavor): string;
}

/** One entry per strategy pool: the type makes a new `pool` in the registry come with its entry here. */
export const STRATEGY_POOL_SPECS: { readonly [P in StrategyPool]: StrategyPoolSpec } = {
  // A wait holds its connection for up to the wait timeout, so waits get their own (read/gtid-wait.ts).
  gtidWait: {
    settings: (c) => ({ url: c.readerUrl, size: c.gtidWaitPoolSize }),
    dependency: 'reader',
    // Never: it is opened wherever the reader is.
    missing: () => 'strategy gtid-wait has no wait connections',
  },
  grBefore: {
    settings: (c) => ({
      url: dialectFor(c.flavor).groupReplication ? c.readerUrl : null,
      size: c.readerPoolSize,
      sessionSql: grBeforeSessionSql(),
    }),
    dependency: 'reader',
    missing: (flavor) => `strategy gr-before needs MySQL Group Replication; this API runs on ${flavor}`,
  },
  routerSplit: {
    settings: (c) => ({
      url: c.routerSplitUrl ?? null,
      size: c.routerPoolSize,
      sessionSql: routerSplitSessionSql(c.routerWaitTimeoutS),
    }),
    dependency: 'router',
    missing: () => 'strategy router-split needs MySQL Router; set CQRS_ROUTER_SPLIT_URL on the API',
  },
};

/** The shared pools always have a URL; a strategy's may not. */
export type AllPoolSettings = {
  readonly [L in PoolLabel]: L extends StrategyPool ? PoolSettings : PoolSettings & { url: string };
};

export function poolSettings(config: ApiConfig): AllPoolSettings {
  const own = Object.fromEntries(STRATEGY_POOLS.map((p) => [p, STRATEGY_POOL_SPECS[p].settings(config)]));
  return {
    writer: { url: config.writerUrl, size: config.writerPoolSize },
    reader: { url: config.readerUrl, size: config.readerPoolSize },
    ...(own as Record<StrategyPool, PoolSettings>),
  };
}

/** Each strategy's own connections by pool label; null where this API has none. */
export type StrategyPools = Readonly<Record<StrategyPool, Pool | null>>;

export interface OwnPool {
  label: StrategyPool;
  pool: Pool;
  dependency: UnavailableError['dependency'];
}

/** A strategy's own pool, for its reads and (router-split) its writes; a 400 that says why if there is none. */
export function requireOwnPool(pools: StrategyPools, label: StrategyPool, flavor: Flavor): OwnPool {
  const pool = pools[label];
  const spec = STRATEGY_POOL_SPECS[label];
  if (!pool) throw new ClientError(400, spec.missing(flavor));
  return { label, pool, dependency: spec.dependency };
}
