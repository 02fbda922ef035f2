/**
 * Where a read goes, decided from the strategy and the request alone (no I/O), so the routing rules are
 * unit-testable. `executeRead` (execute.ts) carries a plan out.
 */
import type { Strategy } from '../../common/strategies.ts';

export type ReadPlan =
  | { target: 'replica' }
  | { target: 'primary' }
  | { target: 'replica-after-gtid'; token: string }
  | { target: 'cache' }
  | { target: 'gr-before' }
  | { target: 'router-split' };

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
    case 'gr-before':
      return { target: 'gr-before' };
    case 'router-split':
      return { target: 'router-split' };
  }
}

/** The header wins over the query parameter; both are schema-checked strategy ids. */
export function chooseStrategy(
  header: Strategy | undefined,
  query: Strategy | undefined,
  fallback: Strategy,
): Strategy {
  return header ?? query ?? fallback;
}

/** Tokens travel in a header, where MySQL's multi-line GTID sets cannot go: strip the whitespace. */
export function normaliseToken(gtid: string | null | undefined): string | undefined {
  const t = (gtid ?? '').replace(/\s+/g, '');
  return t === '' ? undefined : t;
}

/**
 * Where a write goes. Only `router-split` differs: MySQL Router waits for a session's own writes, so the
 * write has to go through the same Router connections as the reads that follow it.
 */
export function writeTarget(strategy: Strategy): 'writer' | 'router-split' {
  return strategy === 'router-split' ? 'router-split' : 'writer';
}
