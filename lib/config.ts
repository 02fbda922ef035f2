/**
 * The k6-side configuration: one declarative table of `CQRS_*` variables (name, parser, default, help). It is
 * read once per VU from `__ENV`, and the docs table in docs/k6-scenarios.md is generated from it, so the two
 * cannot drift. Runtime-neutral: no k6 imports, the env map is passed in.
 */

import { ConfigError } from '../common/config-error.ts';
import type { Flavor } from '../common/dialect.ts';
import { parseGoDsn, passwordOf, redact } from '../common/dsn.ts';
// Ports and host only: no credential reaches a bundle (the DSNs come from __ENV, see `requiredBy`).
import { DEFAULT_API_URL } from '../common/stack-defaults.ts';
import {
  resolveStrategy,
  SQL_PROBE_STRATEGIES,
  type SqlProbeStrategy,
  STRATEGIES,
  type Strategy,
  strategiesFor,
  strategyAvailable,
  strategyNamesExpected,
  unavailableReason,
} from '../common/strategies.ts';
import {
  DEFAULT_TOPOLOGY,
  type ServerKind,
  serverKind,
  TOPOLOGIES,
  TOPOLOGY_ENV,
  type Topology,
} from '../common/topology.ts';
import { formatDuration, parseDurationMs, plainDecimal } from './duration.ts';

/**
 * A parser turns the raw string into a value, or returns undefined; `expected` completes the error text.
 * `show` writes a value back as a user would type it, so that the config echo in reports can be pasted back
 * (it parses to the same value); only passwords are masked.
 */
export interface Parser<T> {
  readonly expected: string;
  parse(raw: string): T | undefined;
  show(value: T): string;
}

export interface VarSpec<T> {
  readonly name: string;
  readonly parser: Parser<T>;
  /**
   * Raw default, as a user would type it (also shown in the docs). With `defaultFrom`, its value for the
   * defaults of the variables it follows.
   */
  readonly default: string;
  /**
   * A default that follows variables read before it in the table (their parsed values by key), and the rule
   * in words for the docs. CQRS_API_STRATEGIES: what CQRS_FLAVOR × CQRS_TOPOLOGY's servers serve.
   */
  readonly defaultFrom?: {
    readonly of: (earlier: Readonly<Record<string, unknown>>) => string;
    readonly doc: string;
  };
  readonly help: string;
  /**
   * No default: unset is '' and an error only for the scenario families listed, which cannot run without it.
   * The DSNs are so: a bundle must carry no credentials, and the API scenarios never open a database.
   */
  readonly requiredBy?: readonly ScenarioFamily[];
}

/** Which scenarios load the config: `sql-*` (xk6-sql), `api-*` (HTTP only), `smoke-config`. */
export type ScenarioFamily = 'sql' | 'api' | 'config';

const v = <T>(name: string, parser: Parser<T>, def: string, help: string): VarSpec<T> => ({
  name,
  parser,
  default: def,
  help,
});

/** A DSN variable with no default, required by the SQL scenarios. */
const dsnVar = (name: string, help: string): VarSpec<string> => ({
  name,
  parser: goDsn,
  default: '',
  help,
  requiredBy: ['sql'],
});

// --- parsers -------------------------------------------------------------------------------------------------
const asTyped = (value: string): string => value;

const oneOf = <const T extends string>(values: readonly T[]): Parser<T> => ({
  expected: `one of ${values.join('|')}`,
  parse: (raw) => ((values as readonly string[]).includes(raw) ? (raw as T) : undefined),
  show: asTyped,
});
const int = (min: number, max: number): Parser<number> => ({
  expected: `an integer in ${min}..${max}`,
  parse: (raw) => {
    if (!/^-?\d+$/.test(raw)) return undefined;
    const n = Number(raw);
    return n >= min && n <= max ? n : undefined;
  },
  show: String,
});
const fraction: Parser<number> = {
  expected: 'a number in 0..1',
  parse: (raw) => {
    // The pattern takes '' (Number('') is 0) but not '.'.
    const n = /^\d*(\.\d+)?$/.test(raw) && raw !== '' ? Number(raw) : Number.NaN;
    return n >= 0 && n <= 1 ? n : undefined;
  },
  // Not String(n): 0.0000001 would come out as 1e-7, which `parse` rejects.
  show: plainDecimal,
};
const durationMs = (min: number): Parser<number> => ({
  expected: `a duration like 500ms, 2s or 1m30s (at least ${min}ms)`,
  parse: (raw) => {
    const ms = parseDurationMs(raw);
    return ms !== null && ms >= min ? ms : undefined;
  },
  // "2s", not 2000: a bare number is no duration to `parse`.
  show: formatDuration,
});
const goDsn: Parser<string> = {
  expected: 'a Go MySQL DSN like user:pass@tcp(host:port)/db?interpolateParams=true',
  parse: (raw) => (parseGoDsn(raw) ? raw : undefined),
  show: redact,
};
const httpUrl: Parser<string> = {
  expected: 'an http(s):// URL',
  parse: (raw) => (/^https?:\/\/[^\s/]+(\/\S*)?$/.test(raw) ? raw.replace(/\/+$/, '') : undefined),
  // A URL may carry user:password.
  show: redact,
};
/** Ids end up in file paths, row tags and metric tags: keep them to a safe alphabet (empty: generated). */
const ident = (maxLen: number): Parser<string> => ({
  expected: `empty or 1..${maxLen} characters of A-Z a-z 0-9 . _ -`,
  parse: (raw) => (raw === '' || new RegExp(`^[A-Za-z0-9._-]{1,${maxLen}}$`).test(raw) ? raw : undefined),
  show: asTyped,
});
const reportDir: Parser<string> = {
  expected: 'a relative directory without ".." segments',
  parse: (raw) =>
    raw !== '' && !raw.startsWith('/') && !raw.split('/').includes('..')
      ? raw.replace(/\/+$/, '')
      : undefined,
  show: asTyped,
};
/** One of `ids`, an alias (gr-before) read as its canonical id, which is what the config echo shows. */
const strategyOf = <const T extends Strategy>(ids: readonly T[]): Parser<T> => ({
  expected: strategyNamesExpected(ids),
  parse: (raw) => {
    const s = resolveStrategy(raw);
    return s !== undefined && (ids as readonly Strategy[]).includes(s) ? (s as T) : undefined;
  },
  show: asTyped,
});
/**
 * api-read-after-write runs one k6 scenario per strategy, named after it: a repeat would clash (an alias and
 * its strategy are one strategy).
 */
const strategyList: Parser<readonly Strategy[]> = {
  expected: `distinct strategies (${strategyNamesExpected()}) separated by commas`,
  parse: (raw) => {
    const list = raw.split(',').map((s) => resolveStrategy(s.trim()));
    const ids = list.filter((s): s is Strategy => s !== undefined);
    return ids.length === list.length && new Set(ids).size === ids.length ? ids : undefined;
  },
  show: (list) => list.join(','),
};

/**
 * What api-read-after-write compares unless told: every strategy these servers serve, but those whose API
 * pool needs a setting the k6 side cannot know (router-split: the API's CQRS_ROUTER_SPLIT_URL).
 */
const NEEDS_API_SETTING: readonly Strategy[] = ['router-split'];
export function defaultApiStrategies(kind: ServerKind): readonly Strategy[] {
  return strategiesFor(kind).filter((s) => !NEEDS_API_SETTING.includes(s));
}
/** Threshold overrides: a JSON object of metric (or submetric) → array of expressions; [] drops a default. */
const thresholdOverrides: Parser<Record<string, string[]>> = {
  expected: 'a JSON object like {"stale_read_ratio":["rate<0.5"]} (metric → array of threshold expressions)',
  parse: (raw) => {
    if (raw === '') return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      return undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const out: Record<string, string[]> = {};
    for (const [k, val] of Object.entries(parsed)) {
      if (!Array.isArray(val) || !val.every((x) => typeof x === 'string')) return undefined;
      out[k] = val as string[];
    }
    return out;
  },
  // Empty for no overrides, as the default is written.
  show: (overrides) => (Object.keys(overrides).length === 0 ? '' : JSON.stringify(overrides)),
};

export const PROFILES = ['smoke', 'load', 'stress', 'spike', 'soak'] as const;
export type ProfileName = (typeof PROFILES)[number];

const DEFAULT_FLAVOR: Flavor = 'mariadb';

// --- the table -----------------------------------------------------------------------------------------------
export const CONFIG_SCHEMA = {
  flavor: v<Flavor>('CQRS_FLAVOR', oneOf(['mariadb', 'mysql']), DEFAULT_FLAVOR, 'SQL dialect of the servers'),
  topology: v<Topology>(
    TOPOLOGY_ENV,
    oneOf(TOPOLOGIES),
    DEFAULT_TOPOLOGY,
    'How the reader replicates (`async` replica, or `cluster`: Galera, Group Replication): which strategies run',
  ),
  writerDsn: dsnVar('CQRS_WRITER_DSN', 'Writer (primary) endpoint'),
  readerDsn: dsnVar('CQRS_READER_DSN', 'Reader (replica) endpoint'),
  monitorDsn: dsnVar(
    'CQRS_REPLICA_MONITOR_DSN',
    'Replica login allowed to run SHOW REPLICA STATUS (the reader usually is not)',
  ),
  apiUrl: v('CQRS_API_URL', httpUrl, DEFAULT_API_URL, 'CQRS API base URL'),
  profile: v<ProfileName>('CQRS_PROFILE', oneOf(PROFILES), 'smoke', 'Load profile (see Profiles)'),
  durationMs: v('CQRS_DURATION', durationMs(1000), '30s', 'Main stage length of the profile'),
  rate: v(
    'CQRS_RATE',
    int(1, 100_000),
    '20',
    'Target iterations/s of the main workload (open-model profiles)',
  ),
  vus: v('CQRS_VUS', int(1, 10_000), '10', 'VUs for closed-model profiles; max VUs for arrival-rate ones'),
  probeTimeoutMs: v(
    'CQRS_PROBE_TIMEOUT',
    durationMs(1),
    '2s',
    'Give up waiting for a write to become visible',
  ),
  pollIntervalMs: v('CQRS_POLL_INTERVAL', durationMs(0), '1ms', 'Pause between visibility polls'),
  sqlStrategy: v<SqlProbeStrategy>(
    'CQRS_SQL_STRATEGY',
    strategyOf(SQL_PROBE_STRATEGIES),
    'eventual',
    'How the SQL probe reads after writing',
  ),
  apiStrategies: {
    ...v(
      'CQRS_API_STRATEGIES',
      strategyList,
      defaultApiStrategies(serverKind(DEFAULT_FLAVOR, DEFAULT_TOPOLOGY)).join(','),
      'Strategies api-read-after-write compares: one k6 scenario each, in this order',
    ),
    defaultFrom: {
      of: (earlier: Readonly<Record<string, unknown>>) =>
        defaultApiStrategies(serverKind(earlier.flavor as Flavor, earlier.topology as Topology)).join(','),
      doc: 'what the servers serve but router-split; on the default stack',
    },
  },
  apiStrategy: v<Strategy>(
    'CQRS_API_STRATEGY',
    strategyOf(STRATEGIES),
    'eventual',
    'Read strategy of api-mixed and api-seed-compat',
  ),
  testId: v(
    'CQRS_TEST_ID',
    ident(64),
    '',
    'Run id: scopes probe rows, names the report folder (generated when empty)',
  ),
  runner: v(
    'CQRS_RUNNER',
    ident(32),
    '',
    'Runner instance; defaults to the k6-operator instance_id tag, else 0',
  ),
  heartbeatHz: v('CQRS_HEARTBEAT_HZ', int(1, 1000), '10', 'Heartbeat writes (and lag samples) per second'),
  writeRate: v('CQRS_WRITE_RATE', int(0, 100_000), '50', 'Background writes/s in sql-replica-lag'),
  readRatio: v('CQRS_READ_RATIO', fraction, '0.9', 'Share of reads in sql-mixed'),
  probeFraction: v(
    'CQRS_PROBE_FRACTION',
    fraction,
    '0.1',
    'Share of sql-mixed iterations that run the probe',
  ),
  maxOpenConns: v(
    'CQRS_MAX_OPEN_CONNS',
    int(1, 64),
    '1',
    'Connections per VU per endpoint (1 keeps session state)',
  ),
  catchupTimeoutMs: v(
    'CQRS_CATCHUP_TIMEOUT',
    durationMs(0),
    '10s',
    'Reconciliation wait for the reader to catch up',
  ),
  payloadBytes: v('CQRS_PAYLOAD_BYTES', int(0, 255), '64', 'Payload size of each probe row'),
  violationLogLimit: v('CQRS_VIOLATION_LOG_LIMIT', int(0, 1000), '5', 'Session violations logged per VU'),
  reportDir: v(
    'CQRS_REPORT_DIR',
    reportDir,
    'reports',
    'Folder under which handleSummary writes one folder per test id',
  ),
  thresholds: v(
    'CQRS_THRESHOLDS',
    thresholdOverrides,
    '',
    'Threshold overrides as JSON ([] drops a default)',
  ),
  // issue 8 part C: setup refuses a CQRS_TEST_ID that earlier runs hold, unless this asks to add to it.
  reuseTestId: v(
    'CQRS_REUSE_TEST_ID',
    oneOf(['0', '1']),
    '0',
    '1 lets a run add to a CQRS_TEST_ID earlier runs used (refused otherwise; they count in its reconciliation)',
  ),
} as const;

type Schema = typeof CONFIG_SCHEMA;
export type Config = { readonly [K in keyof Schema]: Schema[K] extends VarSpec<infer T> ? T : never };

const families = (list: readonly ScenarioFamily[], quote = ''): string =>
  list.map((f) => `${quote}${f}-*${quote}`).join(', ');

/**
 * Reads and validates every variable; throws one ConfigError naming the first bad one. `family` is who reads
 * it: a variable that family requires (`requiredBy`) must then be set.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  family: ScenarioFamily = 'config',
): Config {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(CONFIG_SCHEMA) as [string, VarSpec<unknown>][]) {
    const raw = env[spec.name];
    const text = raw === undefined ? (spec.defaultFrom?.of(out) ?? spec.default) : raw.trim();
    if (text === '' && spec.requiredBy) {
      if (spec.requiredBy.includes(family)) {
        const { message } = ConfigError.invalid(spec.name, spec.parser.expected, '');
        throw new ConfigError(
          `${message} (${families(spec.requiredBy)} scenarios need it: npm start passes it; by hand, load .stack/stack.env)`,
        );
      }
      out[key] = '';
      continue;
    }
    const value = spec.parser.parse(text);
    if (value === undefined) throw ConfigError.invalid(spec.name, spec.parser.expected, redact(text));
    out[key] = value;
  }
  const config = out as Config;
  checkAvailable(config, family);
  // The GTID is read on the session that wrote: with more than one connection the pool may hand out another.
  if (config.sqlStrategy === 'gtid-wait' && config.maxOpenConns !== 1) {
    throw ConfigError.invalid(
      CONFIG_SCHEMA.maxOpenConns.name,
      `1 with ${CONFIG_SCHEMA.sqlStrategy.name}=gtid-wait`,
      String(config.maxOpenConns),
    );
  }
  return config;
}

/**
 * Every strategy the config names for `family` must be one the servers serve (common/strategies.ts
 * `servers`): the API would refuse each request otherwise, and the SQL probe would measure something other
 * than its name. Only the variables the family reads: an API list in the environment never stops an SQL run.
 */
function checkAvailable(config: Config, family: ScenarioFamily): void {
  const kind = serverKind(config.flavor, config.topology);
  const named: [VarSpec<unknown>, readonly Strategy[]][] = [
    ...(family !== 'api'
      ? [[CONFIG_SCHEMA.sqlStrategy, [config.sqlStrategy]] as [VarSpec<unknown>, Strategy[]]]
      : []),
    ...(family !== 'sql'
      ? ([
          [CONFIG_SCHEMA.apiStrategies, config.apiStrategies],
          [CONFIG_SCHEMA.apiStrategy, [config.apiStrategy]],
        ] as [VarSpec<unknown>, readonly Strategy[]][])
      : []),
  ];
  for (const [spec, strategies] of named) {
    const refused = strategies.find((s) => !strategyAvailable(s, kind));
    if (refused !== undefined)
      throw new ConfigError(`invalid ${spec.name}; reason: ${unavailableReason(refused, kind)}`);
  }
}

/**
 * The config as `NAME=value` lines for logs and reports, each value as a user would type it back (see
 * `Parser.show`); the password of every DSN and URL is masked.
 */
export function describeConfig(config: Config): string[] {
  return (Object.entries(CONFIG_SCHEMA) as [keyof Config, VarSpec<unknown>][]).map(
    ([key, spec]) => `${spec.name}=${spec.parser.show(config[key])}`,
  );
}

/** Every password the config holds (DSNs, URL credentials), for checks that output never contains one. */
export function configPasswords(config: Config): string[] {
  const out: string[] = [];
  for (const key of Object.keys(CONFIG_SCHEMA) as (keyof Config)[]) {
    const value = config[key];
    const password = typeof value === 'string' ? passwordOf(value) : '';
    if (password) out.push(password);
  }
  return out;
}

/** Markdown table of every variable, for docs/k6-scenarios.md. */
export function configTableMarkdown(): string {
  const rows = Object.values(CONFIG_SCHEMA).map((s: VarSpec<unknown>) => {
    const def = s.requiredBy
      ? `(none; ${families(s.requiredBy, '`')} need it)`
      : s.defaultFrom
        ? `${s.defaultFrom.doc} \`${s.default}\``
        : s.default === ''
          ? '(empty)'
          : `\`${redact(s.default)}\``;
    return `| \`${s.name}\` | ${def} | ${s.parser.expected.replace(/\|/g, '\\|')} | ${s.help} |`;
  });
  return ['| variable | default | accepts | what it does |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
