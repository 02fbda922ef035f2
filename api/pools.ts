/**
 * Every connection pool the API opens, from its config: the writer, the reader, and each strategy's own
 * (`pool` in common/strategies.ts). A strategy's pool is missing where its server feature is (no synchronous
 * cluster behind the reader, no Router URL given). A request naming a strategy these servers cannot serve at
 * all is refused before any pool is asked (read/consistency.ts `strategyOf`); one whose pool is missing for
 * another reason (router-split without CQRS_ROUTER_SPLIT_URL) is a 400 that says why, from here.
 */
import type { Pool } from 'mysql2/promise';
import { routerSplitSessionSql, syncBeforeSessionSql } from '../common/mysql-strategies.ts';
import { STRATEGY_POOLS, type StrategyPool, strategyAvailable } from '../common/strategies.ts';
import { serverKind } from '../common/topology.ts';
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
  readonly missing: string;
}

/** One entry per strategy pool: the type makes a new `pool` in the registry come with its entry here. */
export const STRATEGY_POOL_SPECS: { readonly [P in StrategyPool]: StrategyPoolSpec } = {
  // A wait holds its connection for up to the wait timeout, so waits get their own (read/gtid-wait.ts).
  gtidWait: {
    settings: (c) => ({ url: c.readerUrl, size: c.gtidWaitPoolSize }),
    dependency: 'reader',
    // Never: it is opened wherever the reader is.
    missing: 'strategy gtid-wait has no wait connections',
  },
  // The reader's connections with causal reads switched on: only where the reader is a synchronous cluster's
  // node (an async replica has no such setting, and MariaDB would take wsrep_sync_wait there and do nothing).
  syncBefore: {
    settings: (c) => ({
      url: strategyAvailable('sync-before', serverKind(c.flavor, c.topology)) ? c.readerUrl : null,
      size: c.readerPoolSize,
      sessionSql: syncBeforeSessionSql(c.flavor),
    }),
    dependency: 'reader',
    // Never in practice: strategyOf refuses sync-before first wherever this pool is not opened.
    missing: 'strategy sync-before has no causal-read connections on this API',
  },
  routerSplit: {
    settings: (c) => ({
      url: c.routerSplitUrl ?? null,
      size: c.routerPoolSize,
      sessionSql: routerSplitSessionSql(c.routerWaitTimeoutS),
    }),
    dependency: 'router',
    missing: 'strategy router-split needs MySQL Router; set CQRS_ROUTER_SPLIT_URL on the API',
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
export function requireOwnPool(pools: StrategyPools, label: StrategyPool): OwnPool {
  const pool = pools[label];
  const spec = STRATEGY_POOL_SPECS[label];
  if (!pool) throw new ClientError(400, spec.missing);
  return { label, pool, dependency: spec.dependency };
}
