/**
 * The read-consistency strategies: one registry, one entry per strategy, and one vocabulary for the API, the
 * k6 scenarios, dashboards, reports and docs. The list, the types, validation, the docs table and the API's
 * per-strategy wiring (pools, write routing, fallback series) all derive from the entries; only the read plan
 * (api/read/plan.ts) is written per strategy. docs/adding-a-strategy.md has the checklist.
 * Runtime-neutral: imported by k6-side and Node-side code alike.
 */

/** Where a read was served from; the API reports it in `X-Read-Source`. */
export const READ_SOURCES = ['replica', 'primary', 'cache'] as const;
export type ReadSource = (typeof READ_SOURCES)[number];

/**
 * Why a read left its strategy's source for the primary (`X-Read-Fallback`): the GTID wait timed out
 * (`timeout`), every wait connection stayed busy for the whole wait timeout (`wait_busy`), the replica did not
 * answer in time or at all (`replica_unavailable`), or Redis did not (`cache_unavailable`).
 */
export const READ_FALLBACKS = ['timeout', 'wait_busy', 'replica_unavailable', 'cache_unavailable'] as const;
export type ReadFallback = (typeof READ_FALLBACKS)[number];

/**
 * What of a request a read plan may look at besides the strategy: the client's consistency token (the GTID of
 * its last write), and whether the client (X-Client-Id or the cookie) wrote within the sticky window.
 */
export type StrategyInput = 'token' | 'write-window';

export interface StrategyDef {
  /** Where its reads go, in a few words (the docs' "reads go to"). */
  readonly readsFrom: string;
  /** Needs MySQL-only server features (Group Replication, MySQL Router): not runnable on the local MariaDB stack. */
  readonly mysqlOnly: boolean;
  /** The request inputs its read plan uses; the API computes only these (the write window costs a cookie parse). */
  readonly inputs: readonly StrategyInput[];
  /**
   * Connections of its own, apart from the writer and reader pools: the label of its pool in /metrics and of
   * its deadline. api/pools.ts says how to open it; null when it reads and writes on the shared pools.
   */
  readonly pool: string | null;
  /** Where its writes go: the writer, or its own pool (MySQL Router waits only for writes on its connections). */
  readonly writesTo: 'writer' | 'own-pool';
  /** Why its reads may fall back to the primary; each series of cqrs_api_read_fallbacks_total starts at 0. */
  readonly fallbacks: readonly ReadFallback[];
  /** The SQL probe (lib/k6/sql-store.ts, CQRS_SQL_STRATEGY) implements it too, without the API. */
  readonly sqlProbe: boolean;
}

/** In the order that lists, docs and reports show them: the baseline first. */
export const STRATEGY_REGISTRY = {
  eventual: {
    readsFrom: 'replica',
    mysqlOnly: false,
    inputs: [],
    pool: null,
    writesTo: 'writer',
    fallbacks: [],
    sqlProbe: true,
  },
  primary: {
    readsFrom: 'primary',
    mysqlOnly: false,
    inputs: [],
    pool: null,
    writesTo: 'writer',
    fallbacks: [],
    sqlProbe: true,
  },
  'gtid-wait': {
    readsFrom: "replica, after waiting for the token's GTID (timeout, then primary)",
    mysqlOnly: false,
    inputs: ['token'],
    pool: 'gtidWait',
    writesTo: 'writer',
    fallbacks: ['timeout', 'wait_busy', 'replica_unavailable'],
    sqlProbe: true,
  },
  sticky: {
    readsFrom: "primary for a window after the client's last write, else replica",
    mysqlOnly: false,
    inputs: ['write-window'],
    pool: null,
    writesTo: 'writer',
    fallbacks: [],
    sqlProbe: false,
  },
  cache: {
    readsFrom: 'Redis (write-through), then replica',
    mysqlOnly: false,
    inputs: [],
    pool: null,
    writesTo: 'writer',
    fallbacks: ['cache_unavailable', 'replica_unavailable'],
    sqlProbe: false,
  },
  'gr-before': {
    readsFrom: 'Group Replication secondary with `group_replication_consistency=BEFORE`',
    mysqlOnly: true,
    inputs: [],
    pool: 'grBefore',
    writesTo: 'writer',
    fallbacks: [],
    sqlProbe: false,
  },
  'router-split': {
    readsFrom: "MySQL Router's read/write-split port with `wait_for_my_writes`",
    mysqlOnly: true,
    inputs: [],
    pool: 'routerSplit',
    writesTo: 'own-pool',
    fallbacks: [],
    sqlProbe: false,
  },
} as const satisfies Record<string, StrategyDef>;

type Registry = typeof STRATEGY_REGISTRY;
export type Strategy = keyof Registry;
/** The label of a strategy's own pool (STRATEGY_REGISTRY's `pool`). */
export type StrategyPool = NonNullable<Registry[Strategy]['pool']>;
/** The strategies the SQL probe implements (`sqlProbe`). */
export type SqlProbeStrategy = {
  [S in Strategy]: Registry[S]['sqlProbe'] extends true ? S : never;
}[Strategy];

const ids = Object.keys(STRATEGY_REGISTRY) as Strategy[];
const where = (keep: (def: StrategyDef) => boolean) =>
  ids.filter((s) => keep(STRATEGY_REGISTRY[s])) as readonly Strategy[];

/** Every strategy id, in registry order; a non-empty tuple, as zod's and TypeBox's enums want it. */
export const STRATEGIES = ids as readonly Strategy[] as readonly [Strategy, ...Strategy[]];

/** Strategies that need MySQL-only server features (Group Replication, MySQL Router). */
export const MYSQL_ONLY_STRATEGIES: readonly Strategy[] = where((d) => d.mysqlOnly);

/** What runs on every server, the local MariaDB stack included: every strategy but the MySQL-only ones. */
export const LOCAL_STACK_STRATEGIES: readonly Strategy[] = where((d) => !d.mysqlOnly);

/** What CQRS_SQL_STRATEGY can name: the strategies the SQL probe implements. */
export const SQL_PROBE_STRATEGIES = where((d) => d.sqlProbe) as readonly SqlProbeStrategy[];

/** Every strategy's own pool, in registry order. */
export const STRATEGY_POOLS = ids.flatMap((s) => {
  const pool: StrategyPool | null = STRATEGY_REGISTRY[s].pool;
  return pool === null ? [] : [pool];
}) as readonly StrategyPool[];

export function isStrategy(value: string): value is Strategy {
  return (STRATEGIES as readonly string[]).includes(value);
}

/** A strategy's entry, typed as the interface (the registry's literal types are for the derived types above). */
export function strategyDef(strategy: Strategy): StrategyDef {
  return STRATEGY_REGISTRY[strategy];
}

/** Whether `strategy`'s read plan looks at `input`. */
export function usesInput(strategy: Strategy, input: StrategyInput): boolean {
  return strategyDef(strategy).inputs.includes(input);
}
