/**
 * The strategy registry (common/strategies.ts) and everything that must agree with it: the read plans and what
 * their targets do, the API's pools and zeroed series, the k6 defaults, and the docs (a generated table in
 * docs/api.md, one "how it works" row per strategy, the README's list, the checklist's file list).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { POOL_LABELS } from '../../api/db.ts';
import { createApiMetrics } from '../../api/metrics.ts';
import { STRATEGY_POOL_SPECS } from '../../api/pools.ts';
import { planPool, TARGET_FALLBACKS } from '../../api/read/execute.ts';
import { planRead, type ReadContext, type ReadPlan } from '../../api/read/plan.ts';
import { StrategySchema } from '../../api/schemas.ts';
import { writeTarget } from '../../api/write/create-user.ts';
import {
  canonicalStrategy,
  LOCAL_STACK_STRATEGIES,
  MYSQL_ONLY_STRATEGIES,
  resolveStrategy,
  SQL_PROBE_STRATEGIES,
  STRATEGIES,
  STRATEGY_ALIASES,
  STRATEGY_NAMES,
  STRATEGY_POOLS,
  type Strategy,
  type StrategyInput,
  strategiesFor,
  strategyAvailable,
  strategyDef,
  unavailableReason,
} from '../../common/strategies.ts';
import { SERVER_KINDS, type ServerKind, serverKind } from '../../common/topology.ts';
import { CONFIG_SCHEMA, loadConfig } from '../../lib/config.ts';
import { padTable, tableCells } from '../helpers/doc-blocks.ts';

const root = join(import.meta.dirname, '../..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** Every combination of the request inputs a plan may look at. */
const CONTEXTS: ReadContext[] = [undefined, '0-1-42'].flatMap((token) =>
  [false, true].map((stickyPinned) => ({ token, stickyPinned })),
);
const plansOf = (s: Strategy): ReadPlan[] => CONTEXTS.map((ctx) => planRead(s, ctx));
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();

/** Whether the plan changes with `input` while the other input stays put. */
function dependsOn(s: Strategy, input: StrategyInput): boolean {
  return CONTEXTS.some((ctx) => {
    const other: ReadContext =
      input === 'token'
        ? { ...ctx, token: ctx.token === undefined ? '0-1-42' : undefined }
        : { ...ctx, stickyPinned: !ctx.stickyPinned };
    return JSON.stringify(planRead(s, ctx)) !== JSON.stringify(planRead(s, other));
  });
}

describe('the registry and the read plans', () => {
  it.each(STRATEGIES)('%s: its plan reads exactly the inputs the registry declares', (s) => {
    for (const input of ['token', 'write-window'] as const) {
      expect(dependsOn(s, input), `${s} and ${input}`).toBe(strategyDef(s).inputs.includes(input));
    }
  });

  it.each(STRATEGIES)('%s: its plans use the pool the registry names, and no other', (s) => {
    const used = plansOf(s).flatMap((p) => planPool(p) ?? []);
    const own = strategyDef(s).pool;
    expect(sorted(used)).toEqual(own === null ? [] : [own]);
  });

  it.each(STRATEGIES)('%s: the registry lists exactly the fallbacks its plans can take', (s) => {
    const possible = plansOf(s).flatMap((p) => TARGET_FALLBACKS[p.target]);
    expect(sorted(strategyDef(s).fallbacks)).toEqual(sorted(possible));
  });

  it.each(STRATEGIES)('%s: writes go where the registry says', (s) => {
    const def = strategyDef(s);
    expect(writeTarget(s)).toBe(def.writesTo === 'writer' ? 'writer' : def.pool);
    if (def.writesTo === 'own-pool') expect(def.pool).not.toBeNull();
  });
});

describe('which servers serve which strategy', () => {
  // The matrix itself, written out: a change to a strategy's `servers` has to change this table too.
  const MATRIX: Record<ServerKind, readonly Strategy[]> = {
    'mariadb-async': ['eventual', 'primary', 'gtid-wait', 'sticky', 'cache'],
    'mariadb-galera': ['eventual', 'primary', 'sticky', 'cache', 'sync-before'],
    'mysql-async': ['eventual', 'primary', 'gtid-wait', 'sticky', 'cache', 'router-split'],
    'mysql-group-replication': [
      'eventual',
      'primary',
      'gtid-wait',
      'sticky',
      'cache',
      'sync-before',
      'router-split',
    ],
  };

  it.each(SERVER_KINDS)('%s serves exactly its row of the matrix, in registry order', (kind) => {
    expect(strategiesFor(kind)).toEqual(MATRIX[kind]);
    for (const s of STRATEGIES)
      expect(strategyAvailable(s, kind), `${s} on ${kind}`).toBe(MATRIX[kind].includes(s));
  });

  it('every strategy runs somewhere, and says what it needs exactly when it does not run everywhere', () => {
    for (const s of STRATEGIES) {
      const d = strategyDef(s);
      expect(d.servers.length, s).toBeGreaterThan(0);
      expect(new Set(d.servers).size, s).toBe(d.servers.length);
      expect(d.needs !== undefined, s).toBe(d.servers.length < SERVER_KINDS.length);
    }
  });

  it('the local stack is the async MariaDB setup; MySQL-only is what no MariaDB setup serves', () => {
    expect(LOCAL_STACK_STRATEGIES).toEqual(strategiesFor(serverKind('mariadb', 'async')));
    expect(MYSQL_ONLY_STRATEGIES).toEqual(['router-split']);
    const mariadb = new Set([...strategiesFor('mariadb-async'), ...strategiesFor('mariadb-galera')]);
    expect(MYSQL_ONLY_STRATEGIES).toEqual(STRATEGIES.filter((s) => !mariadb.has(s)));
  });

  it('says in one line why a setup cannot serve a strategy, naming the setting that rules it out', () => {
    expect(unavailableReason('sync-before', 'mariadb-async')).toBe(
      'strategy sync-before needs a synchronous cluster (MariaDB Galera or MySQL Group Replication); these servers are an async MariaDB replica (CQRS_TOPOLOGY=async)',
    );
    expect(unavailableReason('sync-before', 'mysql-async')).toBe(
      'strategy sync-before needs a synchronous cluster (MariaDB Galera or MySQL Group Replication); these servers are an async MySQL replica (CQRS_TOPOLOGY=async)',
    );
    expect(unavailableReason('router-split', 'mariadb-async')).toBe(
      'strategy router-split needs MySQL Router (MySQL only); these servers are an async MariaDB replica (CQRS_FLAVOR=mariadb)',
    );
    expect(unavailableReason('router-split', 'mariadb-galera')).toBe(
      'strategy router-split needs MySQL Router (MySQL only); these servers are a MariaDB Galera cluster (CQRS_FLAVOR=mariadb)',
    );
    expect(unavailableReason('gtid-wait', 'mariadb-galera')).toBe(
      "strategy gtid-wait needs an async replica or MySQL Group Replication (on MariaDB Galera MASTER_GTID_WAIT waits for gtid_slave_pos, which Galera's applier never advances: every wait would time out); these servers are a MariaDB Galera cluster (CQRS_FLAVOR=mariadb, CQRS_TOPOLOGY=cluster)",
    );
    for (const kind of SERVER_KINDS)
      for (const s of STRATEGIES) {
        const reason = unavailableReason(s, kind);
        if (strategyAvailable(s, kind)) expect(reason).toBe('');
        else
          expect(reason).toMatch(new RegExp(`^strategy ${s} needs .+; these servers are .+ \\(CQRS_.+\\)$`));
      }
  });
});

describe('names and aliases', () => {
  it('gr-before is an alias of sync-before; every canonical id resolves to itself, nothing else resolves', () => {
    expect(STRATEGY_ALIASES).toEqual({ 'gr-before': 'sync-before' });
    expect(resolveStrategy('gr-before')).toBe('sync-before');
    expect(canonicalStrategy('gr-before')).toBe('sync-before');
    for (const s of STRATEGIES) expect(resolveStrategy(s)).toBe(s);
    for (const bad of ['', 'GR-BEFORE', 'grBefore', 'syncBefore', 'constructor', 'toString', '__proto__'])
      expect(resolveStrategy(bad), bad).toBeUndefined();
    expect(STRATEGY_NAMES).toEqual([...STRATEGIES, 'gr-before']);
    // No alias shadows an id, and each names a strategy.
    for (const [alias, s] of Object.entries(STRATEGY_ALIASES)) {
      expect(STRATEGIES).not.toContain(alias);
      expect(STRATEGIES).toContain(s);
    }
  });
});

describe('what derives from the registry', () => {
  it('gives every strategy pool a /metrics label, a deadline and a way to open it', () => {
    expect(new Set(STRATEGY_POOLS).size).toBe(STRATEGY_POOLS.length);
    expect(POOL_LABELS).toEqual(['writer', 'reader', ...STRATEGY_POOLS]);
    expect(sorted(Object.keys(STRATEGY_POOL_SPECS))).toEqual(sorted(STRATEGY_POOLS));
  });

  it('starts the fallback series of every strategy, and only those, at 0', async () => {
    const series = (await createApiMetrics().readFallbacks.get()).values.map(
      (v) => `${v.labels.strategy} ${v.labels.reason}`,
    );
    const declared = STRATEGIES.flatMap((s) => strategyDef(s).fallbacks.map((r) => `${s} ${r}`));
    expect(sorted(series)).toEqual(sorted(declared));
  });

  it('accepts exactly the registry ids and their aliases in the request schemas', () => {
    expect(sorted((StrategySchema as unknown as { enum: string[] }).enum)).toEqual(sorted(STRATEGY_NAMES));
  });

  it('gives the k6 side its lists: the SQL probe strategies and the default of CQRS_API_STRATEGIES by servers', () => {
    // CQRS_SQL_STRATEGY accepts exactly the strategies the SQL probe implements, and the aliases of those.
    const accepted = STRATEGY_NAMES.filter((s) => CONFIG_SCHEMA.sqlStrategy.parser.parse(s) !== undefined);
    expect(accepted).toEqual([...SQL_PROBE_STRATEGIES, 'gr-before']);
    expect(SQL_PROBE_STRATEGIES).toEqual(['eventual', 'primary', 'gtid-wait', 'sync-before']);
    expect(CONFIG_SCHEMA.apiStrategies.default).toBe(LOCAL_STACK_STRATEGIES.join(','));
    // Unset, it is what the servers serve but router-split (its Router URL is the API's alone).
    for (const flavor of ['mariadb', 'mysql'] as const)
      for (const topology of ['async', 'cluster'] as const) {
        const { apiStrategies } = loadConfig({ CQRS_FLAVOR: flavor, CQRS_TOPOLOGY: topology });
        const kind = serverKind(flavor, topology);
        expect(apiStrategies, kind).toEqual(strategiesFor(kind).filter((s) => s !== 'router-split'));
      }
  });
});

// --- docs ------------------------------------------------------------------------------------------------------
const START = '<!-- generated:strategies (edit common/strategies.ts) -->';
const END = '<!-- /generated:strategies -->';
const INPUT_CELLS: Record<StrategyInput, string> = {
  token: '`X-Consistency-Token`',
  'write-window': '`X-Client-Id`/cookie',
};
const code = (s: string) => `\`${s}\``;
const orDash = (cells: readonly string[]) => (cells.length === 0 ? '–' : cells.join(', '));

const KIND_CELLS: Record<ServerKind, string> = {
  'mariadb-async': 'MariaDB async',
  'mariadb-galera': 'Galera',
  'mysql-async': 'MySQL async',
  'mysql-group-replication': 'Group Replication',
};
const serversCell = (kinds: readonly ServerKind[]) =>
  kinds.length === SERVER_KINDS.length
    ? 'all'
    : SERVER_KINDS.filter((k) => kinds.includes(k))
        .map((k) => KIND_CELLS[k])
        .join(', ');

/** The generated block of docs/api.md's Strategies section. */
function strategiesTable(): string {
  const rows = STRATEGIES.map((s) => {
    const d = strategyDef(s);
    return [
      code(s),
      d.readsFrom,
      serversCell(d.servers),
      orDash(d.inputs.map((i) => INPUT_CELLS[i])),
      d.pool === null ? '–' : code(d.pool),
      d.writesTo === 'writer' ? 'writer' : 'own pool',
      orDash(d.fallbacks.map(code)),
    ];
  });
  const head = [
    'id',
    'reads go to',
    'servers',
    'request inputs',
    'own pool',
    'writes go to',
    'falls back to the primary on',
  ];
  return padTable([head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n'));
}

describe('docs', () => {
  const api = read('docs/api.md');
  const section = api.slice(
    api.indexOf('## Strategies\n'),
    api.indexOf('\n### ', api.indexOf('## Strategies\n')),
  );

  it('docs/api.md has the generated strategies table, up to date', () => {
    const expected = `${START}\n${strategiesTable()}\n${END}`;
    const start = section.indexOf(START);
    const end = section.indexOf(END);
    const actual = start >= 0 && end > start ? section.slice(start, end + END.length) : '';
    // Padding and the width of the separator row are layout, not content.
    const cells = (md: string) =>
      JSON.stringify(tableCells(md).map((row) => (row.every((c) => /^-+$/.test(c)) ? ['---'] : row)));
    expect(cells(actual), `replace the block in docs/api.md with:\n${expected}`).toBe(cells(expected));
  });

  it('docs/api.md says how each strategy works, one row each, in registry order, and nothing else', () => {
    const afterTable = section.slice(section.indexOf(END) + END.length);
    const ids = [...afterTable.matchAll(/^\|\s*`([^`]+)`\s*\|/gm)].map((m) => m[1]);
    expect(ids).toEqual([...STRATEGIES]);
  });

  it('the README names every strategy', () => {
    const readme = read('README.md');
    for (const s of STRATEGIES) expect(readme, s).toContain(code(s));
  });

  it('docs/adding-a-strategy.md is linked from docs/api.md and names only files that exist', () => {
    const checklist = read('docs/adding-a-strategy.md');
    expect(api).toContain('](adding-a-strategy.md)');
    const paths = [
      ...checklist.matchAll(/`((?:api|common|config|lib|test|docs|bench|scenarios)\/[\w./-]+\.(?:ts|md))`/g),
    ];
    expect(paths.length).toBeGreaterThan(5);
    for (const [, path] of paths) expect(existsSync(join(root, path as string)), path).toBe(true);
  });
});
