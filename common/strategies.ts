/**
 * The read-consistency strategies: one registry, one entry per strategy, and one vocabulary for the API, the
 * k6 scenarios, dashboards, reports and docs. The list, the types, validation, the docs table and the API's
 * per-strategy wiring (pools, write routing, fallback series) all derive from the entries; only the read plan
 * (api/read/plan.ts) is written per strategy. docs/adding-a-strategy.md has the checklist.
 * Which strategies a server setup can serve (flavour × topology, common/topology.ts) is part of each entry too.
 * Runtime-neutral: imported by k6-side and Node-side code alike.
 */
import type { Flavor } from './dialect.ts';
import {
  SERVER_KIND_NAMES,
  type ServerKind,
  serverKind,
  TOPOLOGIES,
  TOPOLOGY_ENV,
  type Topology,
} from './topology.ts';

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
  /**
   * The server setups (common/topology.ts) where it keeps its promise. Elsewhere the API answers its requests
   * with a 400 and the k6 side refuses it at init, both saying `unavailableReason`.
   */
  readonly servers: readonly ServerKind[];
  /**
   * What it needs that the setups left out of `servers` lack, completing "strategy X needs …"
   * (unavailableReason); unset when `servers` has every kind.
   */
  readonly needs?: string;
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
    servers: ['mariadb-async', 'mariadb-galera', 'mysql-async', 'mysql-group-replication'],
    inputs: [],
    pool: null,
    writesTo: 'writer',
    fallbacks: [],
    sqlProbe: true,
  },
  primary: {
    readsFrom: 'primary',
    servers: ['mariadb-async', 'mariadb-galera', 'mysql-async', 'mysql-group-replication'],
    inputs: [],
    pool: null,
    writesTo: 'writer',
    fallbacks: [],
    sqlProbe: true,
  },
  /**
   * Not on MariaDB Galera: MASTER_GTID_WAIT waits for the replication SQL thread's gtid_slave_pos, which
   * Galera's applier does not advance, so every wait would run into its timeout and fall back to the primary.
   * (MariaDB's WSREP_SYNC_WAIT_UPTO_GTID would be the Galera way to wait for a token; it is not built.) MySQL's
   * WAIT_FOR_EXECUTED_GTID_SET follows gtid_executed, which Group Replication's applier does advance.
   */
  'gtid-wait': {
    readsFrom: "replica, after waiting for the token's GTID (timeout, then primary)",
    servers: ['mariadb-async', 'mysql-async', 'mysql-group-replication'],
    needs:
      "an async replica or MySQL Group Replication (on MariaDB Galera MASTER_GTID_WAIT waits for gtid_slave_pos, which Galera's applier never advances: every wait would time out)",
    inputs: ['token'],
    pool: 'gtidWait',
    writesTo: 'writer',
    fallbacks: ['timeout', 'wait_busy', 'replica_unavailable'],
    sqlProbe: true,
  },
  sticky: {
    readsFrom: "primary for a window after the client's last write, else replica",
    servers: ['mariadb-async', 'mariadb-galera', 'mysql-async', 'mysql-group-replication'],
    inputs: ['write-window'],
    pool: null,
    writesTo: 'writer',
    fallbacks: [],
    sqlProbe: false,
  },
  cache: {
    readsFrom: 'Redis (write-through), then replica',
    servers: ['mariadb-async', 'mariadb-galera', 'mysql-async', 'mysql-group-replication'],
    inputs: [],
    pool: null,
    writesTo: 'writer',
    fallbacks: ['cache_unavailable', 'replica_unavailable'],
    sqlProbe: false,
  },
  /**
   * Server-side causal reads: the reader's session waits, before each read, until the node has applied every
   * transaction the cluster committed before the read began (no token needed). Only a virtually synchronous
   * cluster has that wait; an async replica has no such session setting. Accepted as `gr-before` too
   * (STRATEGY_ALIASES), its name from when it was Group Replication's alone.
   */
  'sync-before': {
    readsFrom:
      'reader with server-side causal reads: `wsrep_sync_wait=1` on Galera, `group_replication_consistency=BEFORE` on Group Replication',
    servers: ['mariadb-galera', 'mysql-group-replication'],
    needs: 'a synchronous cluster (MariaDB Galera or MySQL Group Replication)',
    inputs: [],
    pool: 'syncBefore',
    writesTo: 'writer',
    fallbacks: [],
    sqlProbe: true,
  },
  'router-split': {
    readsFrom: "MySQL Router's read/write-split port with `wait_for_my_writes`",
    servers: ['mysql-async', 'mysql-group-replication'],
    needs: 'MySQL Router (MySQL only)',
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

/** The flavour and topology that make one kind of server setup (the inverse of serverKind). */
const FLAVORS = ['mariadb', 'mysql'] as const satisfies readonly Flavor[];
const SETUPS = FLAVORS.flatMap((flavor) => TOPOLOGIES.map((topology) => ({ flavor, topology })));
function setupOf(kind: ServerKind): { flavor: Flavor; topology: Topology } {
  const setup = SETUPS.find((s) => serverKind(s.flavor, s.topology) === kind);
  if (!setup) throw new Error(`no flavour and topology make server kind ${kind}`);
  return setup;
}

/** Strategies that no MariaDB setup serves (router-split: MySQL Router). */
export const MYSQL_ONLY_STRATEGIES: readonly Strategy[] = where(
  (d) => !d.servers.some((k) => setupOf(k).flavor === 'mariadb'),
);

/** The strategies `kind` of servers can serve, in registry order. */
export function strategiesFor(kind: ServerKind): readonly Strategy[] {
  return where((d) => d.servers.includes(kind));
}

/** What the default local stack (a MariaDB primary and its async replica) serves. */
export const LOCAL_STACK_STRATEGIES: readonly Strategy[] = strategiesFor('mariadb-async');

/** What CQRS_SQL_STRATEGY can name: the strategies the SQL probe implements. */
export const SQL_PROBE_STRATEGIES = where((d) => d.sqlProbe) as readonly SqlProbeStrategy[];

/** Every strategy's own pool, in registry order. */
export const STRATEGY_POOLS = ids.flatMap((s) => {
  const pool: StrategyPool | null = STRATEGY_REGISTRY[s].pool;
  return pool === null ? [] : [pool];
}) as readonly StrategyPool[];

/** A canonical id (aliases are not: see resolveStrategy). */
export function isStrategy(value: string): value is Strategy {
  return (STRATEGIES as readonly string[]).includes(value);
}

/**
 * Old names still accepted wherever a strategy is named (request header and query, CQRS_API_DEFAULT_STRATEGY,
 * the k6 variables), each meaning its canonical id; metrics, headers and reports show only the canonical id.
 */
export const STRATEGY_ALIASES = { 'gr-before': 'sync-before' } as const satisfies Record<string, Strategy>;
export type StrategyAlias = keyof typeof STRATEGY_ALIASES;
/** What a user may write for a strategy: a canonical id or an alias. */
export type StrategyName = Strategy | StrategyAlias;

/** Every accepted name, the canonical ids first (registry order), then the aliases; non-empty, for enums. */
export const STRATEGY_NAMES = [
  ...STRATEGIES,
  ...Object.keys(STRATEGY_ALIASES),
] as readonly StrategyName[] as readonly [StrategyName, ...StrategyName[]];

/** The canonical id of an id or alias; undefined for anything else. */
export function resolveStrategy(raw: string): Strategy | undefined {
  if (isStrategy(raw)) return raw;
  const alias = (Object.keys(STRATEGY_ALIASES) as StrategyAlias[]).find((a) => a === raw);
  return alias === undefined ? undefined : STRATEGY_ALIASES[alias];
}

/** The canonical id of a name already checked to be one (a schema's enum of STRATEGY_NAMES). */
export function canonicalStrategy(name: StrategyName): Strategy {
  return isStrategy(name) ? name : STRATEGY_ALIASES[name];
}

/** The accepted names in words, for `expected` texts: `one of a|b|sync-before (or gr-before for sync-before)`. */
export function strategyNamesExpected(ids: readonly Strategy[] = STRATEGIES): string {
  const aliases = (Object.entries(STRATEGY_ALIASES) as [StrategyAlias, Strategy][]).filter(([, s]) =>
    ids.includes(s),
  );
  const note = aliases.length === 0 ? '' : ` (or ${aliases.map(([a, s]) => `${a} for ${s}`).join(', ')})`;
  return `one of ${ids.join('|')}${note}`;
}

/** Whether `kind` of servers serve `strategy` honestly (its registry entry's `servers`). */
export function strategyAvailable(strategy: Strategy, kind: ServerKind): boolean {
  return strategyDef(strategy).servers.includes(kind);
}

/**
 * Why `kind` of servers cannot serve `strategy`, in one line, naming the variable(s) whose value rules it out:
 * "strategy sync-before needs a synchronous cluster (…); these servers are an async MariaDB replica
 * (CQRS_TOPOLOGY=async)". '' when they can.
 */
export function unavailableReason(strategy: Strategy, kind: ServerKind): string {
  if (strategyAvailable(strategy, kind)) return '';
  const here = setupOf(kind);
  const there = strategyDef(strategy).servers.map(setupOf);
  const vars: string[] = [];
  // The setting that rules it out: the flavour when a server of this topology but the other flavour would
  // serve it, the topology likewise; both when changing either alone would not do.
  if (there.some((s) => s.topology === here.topology)) vars.push(`CQRS_FLAVOR=${here.flavor}`);
  if (there.some((s) => s.flavor === here.flavor)) vars.push(`${TOPOLOGY_ENV}=${here.topology}`);
  if (vars.length === 0) vars.push(`CQRS_FLAVOR=${here.flavor}`, `${TOPOLOGY_ENV}=${here.topology}`);
  return `strategy ${strategy} needs ${strategyDef(strategy).needs ?? 'other servers'}; these servers are ${SERVER_KIND_NAMES[kind]} (${vars.join(', ')})`;
}

/** A strategy's entry, typed as the interface (the registry's literal types are for the derived types above). */
export function strategyDef(strategy: Strategy): StrategyDef {
  return STRATEGY_REGISTRY[strategy];
}

/** Whether `strategy`'s read plan looks at `input`. */
export function usesInput(strategy: Strategy, input: StrategyInput): boolean {
  return strategyDef(strategy).inputs.includes(input);
}
