/**
 * Where a read goes, decided from the strategy and the request alone (no I/O), so the routing rules are
 * unit-testable. `executeRead` (execute.ts) carries a plan out. This switch is the one place written per
 * strategy; everything else about a strategy is its entry in common/strategies.ts.
 */
import {
  canonicalStrategy,
  type Strategy,
  type StrategyName,
  type StrategyPool,
} from '../../common/strategies.ts';

export type ReadPlan =
  | { target: 'replica' }
  | { target: 'primary' }
  | { target: 'replica-after-gtid'; token: string }
  | { target: 'cache' }
  /**
   * A replica-side read on the strategy's own connections, which their session setup makes consistent.
   * gtid-wait's pool serves its waits only (replica-after-gtid), never a plain read.
   */
  | { target: 'own-pool'; pool: Exclude<StrategyPool, 'gtidWait'> };

/** The request inputs of common/strategies.ts `inputs`; a strategy's plan reads only those it declares. */
export interface ReadContext {
  /** The client's consistency token (the GTID of its last write), if it sent one. */
  token: string | undefined;
  /** Whether the client is inside the sticky window after its last write. */
  stickyPinned: boolean;
}

export function planRead(strategy: Strategy, ctx: ReadContext): ReadPlan {
  switch (strategy) {
    case 'eventual':
      return { target: 'replica' };
    case 'primary':
      return { target: 'primary' };
    case 'gtid-wait':
      // No token means the client has no write to wait for: the replica is as fresh as it needs.
      return ctx.token === undefined
        ? { target: 'replica' }
        : { target: 'replica-after-gtid', token: ctx.token };
    case 'sticky':
      return ctx.stickyPinned ? { target: 'primary' } : { target: 'replica' };
    case 'cache':
      return { target: 'cache' };
    case 'sync-before':
      // The reader's connections with causal reads on (wsrep_sync_wait / group_replication_consistency).
      return { target: 'own-pool', pool: 'syncBefore' };
    case 'router-split':
      return { target: 'own-pool', pool: 'routerSplit' };
  }
}

/**
 * The header wins over the query parameter; both are schema-checked strategy names, an alias (gr-before) read
 * as its canonical id, which is what metrics and the X-Read-* headers then show.
 */
export function chooseStrategy(
  header: StrategyName | undefined,
  query: StrategyName | undefined,
  fallback: Strategy,
): Strategy {
  const named = header ?? query;
  return named === undefined ? fallback : canonicalStrategy(named);
}
