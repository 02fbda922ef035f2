import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/config-error.ts';
import { passwordOf, redact } from '../../common/dsn.ts';
import { STACK_DEFAULT_USERS } from '../../common/stack-credentials.ts';
import { STACK_DEFAULT_PORTS, STACK_HOST } from '../../common/stack-defaults.ts';
import {
  CONFIG_SCHEMA,
  type Config,
  configPasswords,
  configTableMarkdown,
  describeConfig,
  loadConfig,
} from '../../lib/config.ts';

type Key = keyof typeof CONFIG_SCHEMA;

/** The error `fn` throws (the test fails if it throws none). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error, got none');
}

const CONFIG_KEY = {
  CQRS_WRITER_DSN: 'writerDsn',
  CQRS_READER_DSN: 'readerDsn',
  CQRS_REPLICA_MONITOR_DSN: 'monitorDsn',
} as const;

const ALL_STRATEGIES = 'eventual|primary|gtid-wait|sticky|cache|sync-before|router-split';
const ALIAS = '(or gr-before for sync-before)';
const API_LIST = `distinct strategies (one of ${ALL_STRATEGIES} ${ALIAS}) separated by commas`;

/** For every variable: good raw values with what they become, and bad values with the error's "expected" part. */
const CASES: Record<Key, { good: [string, unknown][]; bad: [string, string][] }> = {
  flavor: { good: [['mysql', 'mysql']], bad: [['postgres', 'one of mariadb|mysql']] },
  topology: {
    good: [
      ['cluster', 'cluster'],
      ['async', 'async'],
    ],
    bad: [
      ['galera', 'one of async|cluster'],
      ['', 'one of async|cluster'],
    ],
  },
  writerDsn: {
    good: [['w:pw@tcp(db:3306)/app', 'w:pw@tcp(db:3306)/app']],
    bad: [['mysql://w:pw@db/app', 'a Go MySQL DSN like user:pass@tcp(host:port)/db?interpolateParams=true']],
  },
  readerDsn: {
    good: [['r@tcp(10.0.0.2:6447)/app?parseTime=true', 'r@tcp(10.0.0.2:6447)/app?parseTime=true']],
    bad: [
      ['r:pw@tcp(db:99999)/app', 'a Go MySQL DSN like user:pass@tcp(host:port)/db?interpolateParams=true'],
    ],
  },
  monitorDsn: {
    good: [
      ['m:x@tcp(h:1)/d', 'm:x@tcp(h:1)/d'],
      // The Go driver splits at the last '@' before the address: '@', '/' and ':' are fine in a password.
      ['m:Sup3r@Secr3t/:x@tcp(h:1)/d', 'm:Sup3r@Secr3t/:x@tcp(h:1)/d'],
      ['', ''],
    ],
    bad: [['m:x@unix(/tmp/s)/d', 'a Go MySQL DSN like user:pass@tcp(host:port)/db?interpolateParams=true']],
  },
  apiUrl: {
    good: [
      ['https://api.example:8443/', 'https://api.example:8443'],
      ['https://api.example:8443//', 'https://api.example:8443'],
      ['http://h', 'http://h'],
      ['http://h/v1/x?y=1', 'http://h/v1/x?y=1'],
    ],
    bad: [
      ['api:8080', 'an http(s):// URL'],
      ['http://', 'an http(s):// URL'],
      ['ftp+http://h', 'an http(s):// URL'],
      ['httpx://h', 'an http(s):// URL'],
      ['http://h v', 'an http(s):// URL'],
      ['http://h/a b', 'an http(s):// URL'],
    ],
  },
  profile: { good: [['stress', 'stress']], bad: [['heavy', 'one of smoke|load|stress|spike|soak']] },
  durationMs: {
    good: [
      ['1m30s', 90_000],
      ['5s', 5000],
      ['1s', 1000],
    ],
    bad: [
      ['500ms', 'a duration like 500ms, 2s or 1m30s (at least 1000ms)'],
      ['10', 'a duration like 500ms, 2s or 1m30s (at least 1000ms)'],
    ],
  },
  rate: {
    good: [
      ['250', 250],
      ['1', 1],
      ['100000', 100_000],
    ],
    bad: [
      ['0', 'an integer in 1..100000'],
      ['100001', 'an integer in 1..100000'],
      ['2.5', 'an integer in 1..100000'],
      // Number() reads both, the parser neither.
      ['1e3', 'an integer in 1..100000'],
      ['0x10', 'an integer in 1..100000'],
      ['', 'an integer in 1..100000'],
    ],
  },
  vus: { good: [['1', 1]], bad: [['many', 'an integer in 1..10000']] },
  probeTimeoutMs: {
    good: [
      ['250ms', 250],
      ['1ms', 1],
    ],
    bad: [['0', 'a duration like 500ms, 2s or 1m30s (at least 1ms)']],
  },
  pollIntervalMs: {
    good: [
      ['0', 0],
      ['500us', 0.5],
      ['1m1.5ms', 60_001.5],
    ],
    bad: [['fast', 'a duration like 500ms, 2s or 1m30s (at least 0ms)']],
  },
  // Alone, each runs against the default servers (async MariaDB): the aliases and the cluster-only strategies
  // are in 'strategies and the servers' below.
  sqlStrategy: {
    good: [['gtid-wait', 'gtid-wait']],
    bad: [
      ['sticky', `one of eventual|primary|gtid-wait|sync-before ${ALIAS}`],
      ['GR-BEFORE', `one of eventual|primary|gtid-wait|sync-before ${ALIAS}`],
    ],
  },
  apiStrategies: {
    good: [
      ['cache, eventual', ['cache', 'eventual']],
      ['gtid-wait', ['gtid-wait']],
    ],
    bad: [
      ['eventual,strong', API_LIST],
      ['eventual,eventual', API_LIST],
      // An alias and its strategy are one strategy: one k6 scenario name.
      ['sync-before,gr-before', API_LIST],
      ['', API_LIST],
    ],
  },
  apiStrategy: { good: [['sticky', 'sticky']], bad: [['fast', `one of ${ALL_STRATEGIES} ${ALIAS}`]] },
  testId: {
    good: [
      ['exp-2026.11.26_a', 'exp-2026.11.26_a'],
      ['Z'.repeat(64), 'Z'.repeat(64)],
      ['', ''],
    ],
    bad: [
      ['../etc', 'empty or 1..64 characters of A-Z a-z 0-9 . _ -'],
      ['a'.repeat(65), 'empty or 1..64 characters of A-Z a-z 0-9 . _ -'],
      ['a b', 'empty or 1..64 characters of A-Z a-z 0-9 . _ -'],
      ['a:b', 'empty or 1..64 characters of A-Z a-z 0-9 . _ -'],
    ],
  },
  runner: {
    good: [
      ['3', '3'],
      ['a'.repeat(32), 'a'.repeat(32)],
    ],
    bad: [['a'.repeat(33), 'empty or 1..32 characters of A-Z a-z 0-9 . _ -']],
  },
  heartbeatHz: { good: [['100', 100]], bad: [['0', 'an integer in 1..1000']] },
  writeRate: {
    good: [
      ['0', 0],
      ['100000', 100_000],
    ],
    bad: [
      ['-1', 'an integer in 0..100000'],
      ['100001', 'an integer in 0..100000'],
    ],
  },
  readRatio: {
    good: [
      ['0.75', 0.75],
      ['1', 1],
      // String() writes this as 1e-7, which the parser rejects: the echo must not.
      ['0.0000001', 1e-7],
      ['.5', 0.5],
      ['0', 0],
      ['1.0', 1],
    ],
    bad: [
      ['1.5', 'a number in 0..1'],
      ['1.0001', 'a number in 0..1'],
      ['', 'a number in 0..1'],
      ['.', 'a number in 0..1'],
      ['0.', 'a number in 0..1'],
      ['-0.5', 'a number in 0..1'],
      // Number() reads these, the parser does not.
      ['1e-1', 'a number in 0..1'],
      ['0x0', 'a number in 0..1'],
      ['0.5.5', 'a number in 0..1'],
    ],
  },
  probeFraction: { good: [['0', 0]], bad: [['10%', 'a number in 0..1']] },
  maxOpenConns: { good: [['4', 4]], bad: [['0', 'an integer in 1..64']] },
  catchupTimeoutMs: { good: [['0', 0]], bad: [['-5s', 'a duration like 500ms, 2s or 1m30s (at least 0ms)']] },
  payloadBytes: { good: [['255', 255]], bad: [['256', 'an integer in 0..255']] },
  violationLogLimit: { good: [['0', 0]], bad: [['x', 'an integer in 0..1000']] },
  reportDir: {
    good: [
      ['out/k6/', 'out/k6'],
      ['out//', 'out'],
      ['a/..b/c..', 'a/..b/c..'],
    ],
    bad: [
      ['/tmp', 'a relative directory without ".." segments'],
      ['a/../b', 'a relative directory without ".." segments'],
      ['..', 'a relative directory without ".." segments'],
      ['', 'a relative directory without ".." segments'],
    ],
  },
  reuseTestId: { good: [['1', '1']], bad: [['yes', 'one of 0|1']] },
  thresholds: {
    good: [
      ['{"stale_read_ratio":["rate<0.5"],"db_errors":[]}', { stale_read_ratio: ['rate<0.5'], db_errors: [] }],
      ['', {}],
    ],
    bad: [
      [
        '{"stale_read_ratio":"rate<0.5"}',
        'a JSON object like {"stale_read_ratio":["rate<0.5"]} (metric → array of threshold expressions)',
      ],
      ...['[1]', '{', '5', '"x"', 'null', '{"a":[1]}', '{"a":["x",null]}'].map((raw): [string, string] => [
        raw,
        'a JSON object like {"stale_read_ratio":["rate<0.5"]} (metric → array of threshold expressions)',
      ]),
    ],
  },
};

describe('k6 config', () => {
  it('has test cases for every variable in the schema', () => {
    expect(Object.keys(CASES).sort()).toEqual(Object.keys(CONFIG_SCHEMA).sort());
  });

  it('has no credential defaults: the DSNs are unset unless given, the rest defaults to the local stack', () => {
    const c = loadConfig({});
    expect([c.writerDsn, c.readerDsn, c.monitorDsn]).toEqual(['', '', '']);
    expect(c.apiUrl).toBe(`http://${STACK_HOST}:${STACK_DEFAULT_PORTS.api}`);
    expect(c).toMatchObject({
      flavor: 'mariadb',
      profile: 'smoke',
      durationMs: 30_000,
      rate: 20,
      probeTimeoutMs: 2000,
      pollIntervalMs: 1,
      heartbeatHz: 10,
      maxOpenConns: 1,
      testId: '',
      thresholds: {},
      // What the default servers (an async MariaDB replica) serve: not sync-before or router-split.
      topology: 'async',
      apiStrategies: ['eventual', 'primary', 'gtid-wait', 'sticky', 'cache'],
      apiStrategy: 'eventual',
    });
    expect(Object.values(CONFIG_SCHEMA).map((s) => s.default)).not.toContainEqual(
      expect.stringMatching(/secret|@/),
    );
  });

  it('an unset DSN is a one-line error only for the SQL scenarios, which open it', () => {
    const dsns = {
      CQRS_WRITER_DSN: 'w:pw@tcp(db:3306)/app',
      CQRS_READER_DSN: 'r:pw@tcp(db:3307)/app',
      CQRS_REPLICA_MONITOR_DSN: 'm:pw@tcp(db:3307)/app',
    };
    expect(loadConfig(dsns, 'sql').readerDsn).toBe('r:pw@tcp(db:3307)/app');
    for (const name of Object.keys(dsns) as (keyof typeof dsns)[]) {
      const env = { ...dsns, [name]: undefined };
      const attempt = () => loadConfig(env, 'sql');
      expect(attempt).toThrow(ConfigError);
      expect(attempt).toThrow(
        new RegExp(
          `^invalid ${name}; reason: expected a Go MySQL DSN .*, got "" \\(sql-\\* scenarios need it: .*stack\\.env\\)$`,
        ),
      );
      expect(() => loadConfig({ ...env, [name]: '  ' }, 'sql')).toThrow(`invalid ${name}`);
      // The API scenarios and the config check never open a database.
      expect(loadConfig(env, 'api')[CONFIG_KEY[name]]).toBe('');
      expect(loadConfig(env)[CONFIG_KEY[name]]).toBe('');
    }
  });

  for (const [key, { good, bad }] of Object.entries(CASES) as [Key, (typeof CASES)[Key]][]) {
    const spec = CONFIG_SCHEMA[key];
    it(`${spec.name}: accepts good values`, () => {
      for (const [raw, value] of good) expect(loadConfig({ [spec.name]: raw })[key]).toEqual(value);
    });
    it(`${spec.name}: rejects bad values with a one-line error naming it`, () => {
      for (const [raw, expected] of bad) {
        const error = thrown(() => loadConfig({ [spec.name]: raw }));
        expect(error).toBeInstanceOf(ConfigError);
        expect(error.message).toBe(
          `invalid ${spec.name}; reason: expected ${expected}, got ${JSON.stringify(redact(raw))}`,
        );
        expect(error.message.split('\n')).toHaveLength(1);
      }
    });
    it(`${spec.name}: echoes each value in a form that parses back to it`, () => {
      for (const [raw, value] of good) {
        if (passwordOf(raw)) continue;
        const line = describeConfig(loadConfig({ [spec.name]: raw })).find((l) =>
          l.startsWith(`${spec.name}=`),
        );
        const shown = line?.slice(spec.name.length + 1) ?? '';
        expect(loadConfig({ [spec.name]: shown })[key], `${spec.name}=${shown}`).toEqual(value);
      }
    });
  }

  it('requires one connection per endpoint for gtid-wait (the GTID lives on the writing session)', () => {
    expect(() => loadConfig({ CQRS_SQL_STRATEGY: 'gtid-wait', CQRS_MAX_OPEN_CONNS: '4' })).toThrow(
      new ConfigError(
        'invalid CQRS_MAX_OPEN_CONNS; reason: expected 1 with CQRS_SQL_STRATEGY=gtid-wait, got "4"',
      ),
    );
    expect(loadConfig({ CQRS_SQL_STRATEGY: 'eventual', CQRS_MAX_OPEN_CONNS: '4' }).maxOpenConns).toBe(4);
  });

  describe('strategies and the servers (CQRS_FLAVOR × CQRS_TOPOLOGY)', () => {
    const cluster = { CQRS_TOPOLOGY: 'cluster' };
    const echo = (env: Record<string, string>, name: string) =>
      describeConfig(loadConfig(env)).find((l) => l.startsWith(`${name}=`));

    it('reads the alias gr-before as sync-before in every strategy variable, and echoes sync-before', () => {
      const c = loadConfig({
        ...cluster,
        CQRS_SQL_STRATEGY: 'gr-before',
        CQRS_API_STRATEGY: 'gr-before',
        CQRS_API_STRATEGIES: 'eventual, gr-before',
      });
      expect([c.sqlStrategy, c.apiStrategy, c.apiStrategies]).toEqual([
        'sync-before',
        'sync-before',
        ['eventual', 'sync-before'],
      ]);
      expect(echo({ ...cluster, CQRS_SQL_STRATEGY: 'gr-before' }, 'CQRS_SQL_STRATEGY')).toBe(
        'CQRS_SQL_STRATEGY=sync-before',
      );
      expect(echo({ ...cluster, CQRS_API_STRATEGY: 'gr-before' }, 'CQRS_API_STRATEGY')).toBe(
        'CQRS_API_STRATEGY=sync-before',
      );
      expect(echo({ ...cluster, CQRS_API_STRATEGIES: 'gr-before,cache' }, 'CQRS_API_STRATEGIES')).toBe(
        'CQRS_API_STRATEGIES=sync-before,cache',
      );
      expect(loadConfig({ ...cluster, CQRS_SQL_STRATEGY: 'sync-before' }).sqlStrategy).toBe('sync-before');
    });

    it('refuses CQRS_SQL_STRATEGY=sync-before on async servers, in one line that says why', () => {
      const why =
        'strategy sync-before needs a synchronous cluster (MariaDB Galera or MySQL Group Replication); these servers are an async MariaDB replica (CQRS_TOPOLOGY=async)';
      for (const name of ['sync-before', 'gr-before']) {
        expect(() => loadConfig({ CQRS_TOPOLOGY: 'async', CQRS_SQL_STRATEGY: name })).toThrow(
          new ConfigError(`invalid CQRS_SQL_STRATEGY; reason: ${why}`),
        );
        // Unset is async too.
        expect(() => loadConfig({ CQRS_SQL_STRATEGY: name })).toThrow(
          `invalid CQRS_SQL_STRATEGY; reason: ${why}`,
        );
      }
      expect(() => loadConfig({ CQRS_FLAVOR: 'mysql', CQRS_SQL_STRATEGY: 'sync-before' })).toThrow(
        /^invalid CQRS_SQL_STRATEGY; reason: .*an async MySQL replica \(CQRS_TOPOLOGY=async\)$/,
      );
      expect(
        loadConfig({ CQRS_FLAVOR: 'mysql', CQRS_TOPOLOGY: 'cluster', CQRS_SQL_STRATEGY: 'sync-before' })
          .sqlStrategy,
      ).toBe('sync-before');
    });

    it('refuses gtid-wait on MariaDB Galera, and every strategy of the API variables the servers cannot serve', () => {
      expect(() => loadConfig({ ...cluster, CQRS_SQL_STRATEGY: 'gtid-wait' })).toThrow(
        /^invalid CQRS_SQL_STRATEGY; reason: strategy gtid-wait needs .*gtid_slave_pos.*; these servers are a MariaDB Galera cluster \(CQRS_FLAVOR=mariadb, CQRS_TOPOLOGY=cluster\)$/,
      );
      expect(() => loadConfig({ ...cluster, CQRS_API_STRATEGIES: 'eventual,gtid-wait' })).toThrow(
        /^invalid CQRS_API_STRATEGIES; reason: strategy gtid-wait needs /,
      );
      expect(() => loadConfig({ CQRS_API_STRATEGIES: 'eventual,router-split' })).toThrow(
        new ConfigError(
          'invalid CQRS_API_STRATEGIES; reason: strategy router-split needs MySQL Router (MySQL only); these servers are an async MariaDB replica (CQRS_FLAVOR=mariadb)',
        ),
      );
      expect(() => loadConfig({ CQRS_API_STRATEGY: 'gr-before' })).toThrow(
        /^invalid CQRS_API_STRATEGY; reason: strategy sync-before needs a synchronous cluster/,
      );
      expect(
        loadConfig({ CQRS_FLAVOR: 'mysql', CQRS_API_STRATEGIES: 'eventual,router-split' }).apiStrategies,
      ).toEqual(['eventual', 'router-split']);
    });

    it('defaults CQRS_API_STRATEGIES to what the servers serve but router-split', () => {
      const of = (env: Record<string, string>) => loadConfig(env).apiStrategies;
      expect(of({})).toEqual(['eventual', 'primary', 'gtid-wait', 'sticky', 'cache']);
      expect(of(cluster)).toEqual(['eventual', 'primary', 'sticky', 'cache', 'sync-before']);
      expect(of({ CQRS_FLAVOR: 'mysql' })).toEqual(['eventual', 'primary', 'gtid-wait', 'sticky', 'cache']);
      expect(of({ CQRS_FLAVOR: 'mysql', ...cluster })).toEqual([
        'eventual',
        'primary',
        'gtid-wait',
        'sticky',
        'cache',
        'sync-before',
      ]);
      // Given, it is taken as given (and checked against the servers).
      expect(of({ ...cluster, CQRS_API_STRATEGIES: 'cache' })).toEqual(['cache']);
      expect(echo(cluster, 'CQRS_API_STRATEGIES')).toBe(
        'CQRS_API_STRATEGIES=eventual,primary,sticky,cache,sync-before',
      );
      // The docs say the rule, and the default stack's value.
      expect(configTableMarkdown()).toContain(
        '| `CQRS_API_STRATEGIES` | what the servers serve but router-split; on the default stack `eventual,primary,gtid-wait,sticky,cache` |',
      );
    });
  });

  it('trims whitespace around values', () => {
    expect(loadConfig({ CQRS_RATE: ' 7 ' }).rate).toBe(7);
  });

  it('never prints a password: not in errors, not in the description', () => {
    expect(() => loadConfig({ CQRS_WRITER_DSN: 'w:hunter2@tcp(db:0)/app' })).toThrow(
      'got "w:***@tcp(db:0)/app"',
    );
    expect(() => loadConfig({ CQRS_WRITER_DSN: 'mysql://w:hunter2@db/app' })).toThrow(
      'got "mysql://w:***@db/app"',
    );
    // A bad non-secret variable is redacted too: a URL with credentials that does not parse.
    expect(() => loadConfig({ CQRS_API_URL: 'https://bob:pa55w0rd@api example' })).toThrow(
      'got "https://bob:***@api example"',
    );
    const lines = describeConfig(loadConfig({ CQRS_READER_DSN: 'r:hunter2@tcp(db:3306)/app' }));
    expect(lines.join('\n')).not.toMatch(/hunter2|-secret/);
    expect(lines).toContain('CQRS_READER_DSN=r:***@tcp(db:3306)/app');
    expect(lines).toContain('CQRS_WRITER_DSN=');
    expect(configTableMarkdown()).not.toMatch(/-secret/);
    const withUrlCreds = loadConfig({
      CQRS_API_URL: 'https://bob:pa55@api.example',
      CQRS_WRITER_DSN: 'w:Sup3r@Secr3tTail@tcp(db:3306)/app',
    });
    expect(describeConfig(withUrlCreds)).toContain('CQRS_API_URL=https://bob:***@api.example');
    expect(describeConfig(withUrlCreds)).toContain('CQRS_WRITER_DSN=w:***@tcp(db:3306)/app');
    expect(configPasswords(withUrlCreds).sort()).toEqual(['Sup3r@Secr3tTail', 'pa55']);
  });

  it('writes the docs table: a header, then one row per variable with its default, what it accepts and help', () => {
    const lines = configTableMarkdown().split('\n');
    expect(lines).toHaveLength(Object.keys(CONFIG_SCHEMA).length + 2);
    expect(lines.slice(0, 3)).toEqual([
      '| variable | default | accepts | what it does |',
      '| --- | --- | --- | --- |',
      // A `|` inside a cell is escaped.
      '| `CQRS_FLAVOR` | `mariadb` | one of mariadb\\|mysql | SQL dialect of the servers |',
    ]);
    expect(lines).toContain(
      '| `CQRS_WRITER_DSN` | (none; `sql-*` need it) | a Go MySQL DSN like user:pass@tcp(host:port)/db?interpolateParams=true | Writer (primary) endpoint |',
    );
    expect(lines).toContain(
      '| `CQRS_TEST_ID` | (empty) | empty or 1..64 characters of A-Z a-z 0-9 . _ - | Run id: scopes probe rows, names the report folder (generated when empty) |',
    );
  });

  it('no lab password is a default (they would end up in every bundle)', () => {
    const defaults = Object.values(CONFIG_SCHEMA).map((s) => s.default);
    for (const { password } of Object.values(STACK_DEFAULT_USERS)) {
      expect(defaults.join('\n')).not.toContain(password);
    }
  });

  it('echoes the defaults as the table writes them: CQRS_PROBE_TIMEOUT=2s, not 2000', () => {
    const lines = describeConfig(loadConfig({}));
    expect(lines).toEqual(Object.values(CONFIG_SCHEMA).map((spec) => `${spec.name}=${spec.default}`));
    expect(lines).toContain('CQRS_PROBE_TIMEOUT=2s');
  });

  it('echoes every variable so that it can be typed back: each NAME=value parses to the same value', () => {
    const config = loadConfig(NON_DEFAULT, 'sql');
    const defaults = loadConfig({});
    const keys = Object.keys(CONFIG_SCHEMA) as Key[];
    expect(Object.keys(NON_DEFAULT).sort()).toEqual(keys.map((k) => CONFIG_SCHEMA[k].name).sort());
    for (const key of keys) expect(config[key], key).not.toEqual(defaults[key]);

    const lines = describeConfig(config);
    expect(lines.map((l) => l.slice(0, l.indexOf('=')))).toEqual(keys.map((k) => CONFIG_SCHEMA[k].name));
    const echoed: Record<string, string> = {};
    const masked: Key[] = [];
    keys.forEach((key, i) => {
      const { name } = CONFIG_SCHEMA[key];
      const shown = (lines[i] as string).slice(name.length + 1);
      const value = config[key];
      const password = typeof value === 'string' ? passwordOf(value) : '';
      if (typeof value === 'string' && password) {
        // A password is never echoed, so this one value cannot be typed back.
        masked.push(key);
        expect(shown).toBe(redact(value));
        expect(shown).not.toContain(password);
        return;
      }
      echoed[name] = shown;
      expect(loadConfig({ [name]: shown })[key], `${name}=${shown}`).toEqual(config[key]);
    });
    expect(masked).toEqual(['writerDsn', 'monitorDsn']);
    // Pasted back all at once (the masked DSNs given again), the echo is the same config.
    const secrets = {
      CQRS_WRITER_DSN: NON_DEFAULT.CQRS_WRITER_DSN,
      CQRS_REPLICA_MONITOR_DSN: NON_DEFAULT.CQRS_REPLICA_MONITOR_DSN,
    };
    expect(loadConfig({ ...echoed, ...secrets }, 'sql')).toEqual<Config>(config);
  });
});

/** A value other than the default for every variable; two DSNs carry a password, the third and the URL none. */
const NON_DEFAULT: Record<string, string> = {
  CQRS_FLAVOR: 'mysql',
  CQRS_TOPOLOGY: 'cluster',
  CQRS_WRITER_DSN: 'w:Sup3r@Secr3t@tcp(db:3306)/app?interpolateParams=true',
  CQRS_READER_DSN: 'r@tcp(10.0.0.2:6447)/app',
  CQRS_REPLICA_MONITOR_DSN: 'm:pw@tcp(db:3307)/app',
  CQRS_API_URL: 'https://api.example:8443/v1/',
  CQRS_PROFILE: 'stress',
  CQRS_DURATION: '1m30s',
  CQRS_RATE: '250',
  CQRS_VUS: '3',
  CQRS_PROBE_TIMEOUT: '1.5s',
  CQRS_POLL_INTERVAL: '250us',
  CQRS_SQL_STRATEGY: 'primary',
  CQRS_API_STRATEGIES: 'sticky, cache',
  CQRS_API_STRATEGY: 'gtid-wait',
  CQRS_TEST_ID: 'exp-1',
  CQRS_RUNNER: '2',
  CQRS_HEARTBEAT_HZ: '100',
  CQRS_WRITE_RATE: '0',
  CQRS_READ_RATIO: '0.0000001',
  CQRS_PROBE_FRACTION: '0.25',
  CQRS_MAX_OPEN_CONNS: '4',
  CQRS_CATCHUP_TIMEOUT: '1m0.5s',
  CQRS_PAYLOAD_BYTES: '255',
  CQRS_VIOLATION_LOG_LIMIT: '0',
  CQRS_REPORT_DIR: 'out/k6:a@b/',
  CQRS_THRESHOLDS: '{"stale_read_ratio":["rate<0.5"],"db_errors":[]}',
  CQRS_REUSE_TEST_ID: '1',
};
