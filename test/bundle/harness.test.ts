/**
 * Runs the built SQL bundles' lifecycle (setup → iterations → teardown → handleSummary) in Node, with k6's
 * modules replaced by recording stubs and xk6-sql by an in-memory database that answers exactly the statements
 * in lib/sql/statements.ts (text columns as byte arrays, as xk6-sql returns them). This checks the wiring that
 * only k6 would otherwise exercise: metrics recorded per probe, session violations counted, reconciliation
 * emitted in teardown, report files named; and that runs fail fast and say why once: setup checks every
 * endpoint and the run id, every exec function catches, counts and rate-limits its errors, and a probe whose
 * read fails still counts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  evaluateBundle,
  junitCaseNames,
  K6_STUBS,
  RECORDING_METRICS_STUB,
  SQL_SCENARIOS,
  summaryKeysRead,
  useBuiltBundles,
} from '../helpers/bundles.ts';

// Not the inert K6_STUBS: these record every metric sample and answer SQL, so the lifecycle can be followed.
const STUBS: Record<string, string> = {
  ...K6_STUBS,
  'k6/metrics': RECORDING_METRICS_STUB,
  // exec.test.abort ends the test in k6; here it records the reason and throws, so setup stops as there.
  'k6/execution': `
    const abort = (reason) => { (globalThis.__aborts ??= []).push(reason); throw new Error('aborted: ' + reason); };
    export default { vu: { idInTest: 1 }, test: { abort, options: { tags: { instance_id: "3" } } } };`,
  // One in-memory database per bundle instance; a DSN with host "blackhole" is a replica that never catches up.
  // globalThis.__fail(dsn) may name an error for every statement on that DSN (an endpoint that is down).
  'k6/x/sql': `
    import { SQL } from './lib/sql/statements.ts';
    import { DIALECTS } from './common/dialect.ts';
    const bytes = (s) => Array.from(new TextEncoder().encode(String(s)));
    const rows = new Map(); const acks = []; const beats = []; let clockUs = 1764000000000000;
    const tick = () => (clockUs += 1000);
    function open(driver, dsn) {
      if (typeof driver !== 'symbol') throw new Error('driver must be a Symbol');
      const blind = dsn.includes('@tcp(blackhole:');
      const seen = (tag) => !blind && rows.has(tag);
      const down = () => {
        const message = globalThis.__fail?.(dsn);
        if (message) throw Object.assign(new Error(message), { name: 'GoError' });
      };
      const db = {
        close() {},
        queryWithTimeout(_t, q, ...a) {
          down();
          if (q === 'SELECT 1') return [{ 1: 1 }];
          if (q === SQL.runHoldings) {
            const held = [...rows.values()].filter((r) => r.runId === a[0] && r.runner === a[1]).length;
            const acked = acks.filter((k) => k.runId === a[0] && k.runner === a[1]).length;
            return [{ probe_rows_held: bytes(held), probe_acks_held: bytes(acked) }];
          }
          return db.query(q, ...a);
        },
        exec(q, ...a) {
          down();
          if (q === SQL.insertProbe) {
            if (rows.has(a[0])) throw new Error('Duplicate entry');
            rows.set(a[0], { id: rows.size + 1, tag: a[0], runId: a[1], runner: a[2], vu: a[3] });
            const id = rows.size;
            return { lastInsertId: () => id, rowsAffected: () => 1 };
          }
          if (q.startsWith('INSERT IGNORE INTO probe_acks')) {
            (globalThis.__ledgerStatements ??= []).push(a.length / 4);
            for (let i = 0; i < a.length; i += 4)
              acks.push({ runId: a[i], runner: a[i + 1], vu: a[i + 2], tag: a.slice(i, i + 4).join(':') });
          } else if (q === SQL.heartbeatLog) beats.push(tick());
          else if (q !== SQL.heartbeatBeat && q !== SQL.heartbeatPrune) throw new Error('unexpected exec: ' + q);
          return { lastInsertId: () => 0, rowsAffected: () => 1 };
        },
        query(q, ...a) {
          down();
          if (q === SQL.probeSighting)
            return seen(a[0]) ? [{ id: rows.get(a[0]).id, lag_us: bytes(1500), stamped: bytes(1) }] : [];
          if (q === SQL.acksByVu && dsn.includes('@tcp(broken-ledger:')) throw new Error('ledger unreadable');
          if (q === SQL.acksByVu) {
            // A replica that never catches up has not got the acknowledgements either.
            const byVu = new Map();
            for (const k of acks) if (!blind && k.runId === a[0] && k.runner === a[1]) {
              const c = byVu.get(k.vu) ?? { vu: k.vu, acked: 0, missing: 0 };
              c.acked++; if (!seen(k.tag)) c.missing++; byVu.set(k.vu, c);
            }
            return [...byVu.values()].map((c) => ({ vu: c.vu, acked: bytes(c.acked), missing: bytes(c.missing) }));
          }
          if (q === SQL.heartbeatNow) return [{ now_us: bytes(tick()) }];
          // The replica holds every beat, each applied 1.5 ms after it was written.
          if (q === SQL.heartbeatReplicaNewest) { const b = beats[beats.length - 1];
            return b === undefined || blind ? [] : [{ ts_us: bytes(b), applied_us: bytes(b + 1500), now_us: bytes(tick()) }]; }
          if (q === SQL.heartbeatOldestAfter) return [{ ts_us: null }];
          if (q === SQL.maxProbeId) return [{ max_id: rows.size || null }];
          if (q === SQL.pointRead) { const r = [...rows.values()].find((x) => x.id === a[0]);
            return r && seen(r.tag) ? [{ id: r.id, tag: bytes(r.tag), payload: bytes('x') }] : []; }
          if (q === DIALECTS.mariadb.lastWriteGtid) return [{ gtid: bytes('0-1-' + rows.size) }];
          if (q === DIALECTS.mariadb.waitForGtid) { (globalThis.__gtidWaits ??= []).push(a[1]); return [{ waited: blind ? -1 : 0 }]; }
          if (q === DIALECTS.mariadb.showReplicaStatus) return [{ Seconds_Behind_Master: bytes(0) }];
          throw new Error('unexpected query: ' + q);
        },
      };
      return db;
    }
    export default { open };`,
};

interface Sample {
  name: string;
  value: number;
  tags: Record<string, string>;
}
type Exported = (...args: unknown[]) => unknown;
/**
 * A bundle's exports. Reading one the bundle does not have throws, naming it: a test that calls `probe` on a
 * bundle without one must fail, not quietly do nothing.
 */
type Mod = Readonly<
  Record<
    | 'setup'
    | 'teardown'
    | 'probe'
    | 'mixed'
    | 'write'
    | 'read'
    | 'heartbeatWrite'
    | 'heartbeatSample'
    | 'flushLedger'
    | 'handleSummary'
    | 'options',
    Exported
  >
> & { readonly [name: string]: Exported | undefined };

function strictExports(mod: Record<string, unknown>, scenario: string): Mod {
  return new Proxy(mod, {
    get(target, name) {
      if (typeof name === 'string' && !(name in target)) throw new Error(`${scenario} exports no ${name}`);
      return target[name as string];
    },
  }) as Mod;
}

const built = useBuiltBundles('cqrs-harness-');

/** The SQL scenarios' endpoints (no bundle carries a default): the writer, the reader and the monitor. */
const DSNS = {
  CQRS_WRITER_DSN: 'writer:pw@tcp(primary:1)/cqrs',
  CQRS_READER_DSN: 'reader:pw@tcp(replica:2)/cqrs',
  CQRS_REPLICA_MONITOR_DSN: 'monitor:pw@tcp(replica:2)/cqrs',
};

async function load(
  scenario: string,
  env: Record<string, string> = {},
): Promise<{ mod: Mod; samples: Sample[]; aborts: string[] }> {
  const samples: Sample[] = [];
  const aborts: string[] = [];
  const mod = await evaluateBundle(built.path(scenario), STUBS, {
    __samples: samples,
    __aborts: aborts,
    __fail: undefined,
    __ENV: { CQRS_TEST_ID: 'h1', ...DSNS, ...env },
  });
  return { mod: strictExports(mod, scenario), samples, aborts };
}

/** What the scenario logged at error level (each line once). */
function errorLines(): string[] {
  return vi.mocked(console.error).mock.calls.map((c) => String(c[0]));
}

/** The exec functions options.scenarios names, but the end-of-run flush. */
function execs(mod: Mod): string[] {
  const scenarios = (mod.options as unknown as { scenarios: Record<string, { exec?: string }> }).scenarios;
  return [
    ...new Set(
      Object.values(scenarios)
        .map((s) => s.exec ?? 'default')
        .filter((e) => e !== 'flushLedger'),
    ),
  ];
}

const total = (samples: Sample[], name: string) =>
  samples.filter((s) => s.name === name).reduce((sum, s) => sum + s.value, 0);
const values = (samples: Sample[], name: string) =>
  samples.filter((s) => s.name === name).map((s) => s.value);

describe('SQL scenario lifecycle on stubbed k6 modules', () => {
  it('read-after-write: fresh reads, lag samples, reconciliation with 0 missing, report files', async () => {
    const { mod, samples } = await load('sql-read-after-write');
    const run = mod.setup() as { runId: string; runner: string };
    expect(run).toMatchObject({ runId: 'h1', runner: '3', scenario: 'sql-read-after-write' });
    for (let i = 0; i < 3; i++) mod.probe(run);
    mod.flushLedger();
    mod.teardown(run);
    expect(total(samples, 'probe_writes')).toBe(3);
    expect(total(samples, 'acked_writes')).toBe(3);
    expect(total(samples, 'ledger_flushed')).toBe(3);
    expect(values(samples, 'visibility_lag')).toEqual([1.5, 1.5, 1.5]);
    expect(values(samples, 'visibility_lag_client')).toHaveLength(3);
    expect(total(samples, 'stale_reads')).toBe(0);
    expect(total(samples, 'visibility_timeouts')).toBe(0);
    expect(values(samples, 'visibility_lag')).toHaveLength(3);
    expect(samples.find((s) => s.name === 'probe_writes')?.tags).toEqual({ strategy: 'eventual' });
    expect(total(samples, 'reconcile_checked')).toBe(3);
    expect(total(samples, 'reconcile_missing_writer') + total(samples, 'reconcile_missing_reader')).toBe(0);
    const timed = samples
      .filter((s) => s.name === 'db_query_duration')
      .map((s) => `${s.tags.endpoint}:${s.tags.op}`);
    expect(new Set(timed)).toEqual(
      new Set([
        'writer:heartbeat_now',
        'writer:probe_insert',
        'reader:probe_read',
        'writer:ledger',
        'writer:reconcile_acks',
        'reader:reconcile_acks',
      ]),
    );
    const files = mod.handleSummary({ metrics: {}, setup_data: run }) as Record<string, string>;
    expect(Object.keys(files)).toContain('reports/h1/consistency.runner-3.md');
    expect(
      Object.keys(files)
        .filter((f) => f !== 'stdout')
        .every((f) => f.startsWith('reports/h1/')),
    ).toBe(true);
  });

  it('read-after-write against a replica that never catches up: stale, timeouts, violations, missing rows', async () => {
    const { mod, samples } = await load('sql-read-after-write', {
      CQRS_READER_DSN: 'reader:pw@tcp(blackhole:1)/cqrs',
      CQRS_PROBE_TIMEOUT: '5ms',
      CQRS_CATCHUP_TIMEOUT: '0',
    });
    const run = mod.setup();
    for (let i = 0; i < 2; i++) mod.probe(run);
    mod.flushLedger();
    mod.teardown(run);
    expect(total(samples, 'stale_reads')).toBe(2);
    expect(total(samples, 'visibility_timeouts')).toBe(2);
    expect(values(samples, 'visibility_lag')).toEqual([]);
    expect(total(samples, 'visibility_polls')).toBeGreaterThan(0);
    expect(total(samples, 'ryw_violations')).toBe(2);
    expect(total(samples, 'reconcile_missing_writer')).toBe(0);
    expect(total(samples, 'reconcile_missing_reader')).toBe(2);
    expect(total(samples, 'db_errors')).toBe(0);
  });

  it('gtid-wait: waits at most the probe timeout, in fractions of a second, on the reader', async () => {
    const waits: unknown[] = [];
    Object.assign(globalThis, { __gtidWaits: waits });
    const { mod, samples } = await load('sql-read-after-write', {
      CQRS_SQL_STRATEGY: 'gtid-wait',
      CQRS_PROBE_TIMEOUT: '500ms',
    });
    const run = mod.setup();
    mod.probe(run);
    expect(waits).toEqual([0.5]);
    expect(total(samples, 'stale_reads')).toBe(0);
    expect(total(samples, 'db_errors')).toBe(0);
  });

  it('mixed: read-backs follow CQRS_SQL_STRATEGY (primary reads the writer, gtid-wait waits first)', async () => {
    // A reader that never catches up: under `primary` read-backs go to the writer, so they are never stale.
    const primary = await load('sql-mixed', {
      CQRS_SQL_STRATEGY: 'primary',
      CQRS_READER_DSN: 'reader:pw@tcp(blackhole:1)/cqrs',
      CQRS_PROBE_FRACTION: '0',
      CQRS_READ_RATIO: '0.5',
    });
    const prun = primary.mod.setup();
    for (let i = 0; i < 80; i++) primary.mod.mixed(prun);
    const readBacks = primary.samples.filter((s) => s.name === 'sql_reads' && s.tags.endpoint === 'writer');
    expect(readBacks.length).toBeGreaterThan(0);
    expect(total(primary.samples, 'ryw_violations')).toBe(0);
    expect(total(primary.samples, 'db_errors')).toBe(0);

    const waits: unknown[] = [];
    Object.assign(globalThis, { __gtidWaits: waits });
    const gtid = await load('sql-mixed', {
      CQRS_SQL_STRATEGY: 'gtid-wait',
      CQRS_PROBE_FRACTION: '0',
      CQRS_READ_RATIO: '0.5',
    });
    const grun = gtid.mod.setup();
    for (let i = 0; i < 80; i++) gtid.mod.mixed(grun);
    const ownReads = gtid.samples.filter((s) => s.name === 'db_queries' && s.tags.op === 'gtid_wait');
    expect(waits.length).toBeGreaterThan(0);
    expect(ownReads).toHaveLength(waits.length);
    expect(total(gtid.samples, 'ryw_violations')).toBe(0);
  });

  it('a reconciliation that cannot run is counted as an error, not as "0 missing"', async () => {
    const { mod, samples } = await load('sql-write-load', {
      CQRS_WRITER_DSN: 'writer:pw@tcp(broken-ledger:1)/cqrs',
    });
    const run = mod.setup();
    mod.write(run);
    mod.teardown(run);
    expect(total(samples, 'reconcile_errors')).toBe(1);
    expect(values(samples, 'reconcile_missing_writer')).toEqual([]);
  });

  it('replica-lag: heartbeat written and sampled (µs → ms), Seconds_Behind read, background writes ledgered', async () => {
    const { mod, samples } = await load('sql-replica-lag');
    const run = mod.setup();
    mod.heartbeatWrite();
    mod.heartbeatSample(run);
    mod.write(run);
    mod.flushLedger();
    mod.teardown(run);
    expect(values(samples, 'heartbeat_lag')).toEqual([1.5]);
    expect(values(samples, 'replica_seconds_behind')).toEqual([0]);
    expect(total(samples, 'reconcile_checked')).toBe(1);
    expect(total(samples, 'reconcile_missing_reader')).toBe(0);
  });

  it('read-load seeds rows in setup and reads them; mixed runs every branch without errors', async () => {
    const read = await load('sql-read-load');
    const run = read.mod.setup() as { maxId: number };
    expect(run.maxId).toBe(200);
    for (let i = 0; i < 20; i++) read.mod.read(run);
    expect(total(read.samples, 'sql_reads')).toBe(20);
    expect(total(read.samples, 'monotonic_violations')).toBe(0);

    const mixed = await load('sql-mixed', { CQRS_PROBE_FRACTION: '0.3', CQRS_READ_RATIO: '0.5' });
    const mrun = mixed.mod.setup();
    for (let i = 0; i < 60; i++) mixed.mod.mixed(mrun);
    mixed.mod.flushLedger();
    mixed.mod.teardown(mrun);
    expect(total(mixed.samples, 'probe_writes')).toBeGreaterThan(0);
    expect(total(mixed.samples, 'sql_writes')).toBeGreaterThan(0);
    expect(total(mixed.samples, 'sql_reads')).toBeGreaterThan(0);
    expect(total(mixed.samples, 'ryw_violations')).toBe(0);
    expect(total(mixed.samples, 'reconcile_missing_reader')).toBe(0);
    expect(total(mixed.samples, 'db_errors')).toBe(0);
  });

  it('every SQL bundle flushes each VU’s ledger once, after every other scenario, in batches', async () => {
    for (const scenario of SQL_SCENARIOS) {
      const { mod } = await load(scenario);
      const scenarios = (mod.options as unknown as { scenarios: Record<string, Record<string, unknown>> })
        .scenarios;
      const all = Object.values(scenarios);
      const flushes = all.filter((s) => s.exec === 'flushLedger');
      for (const flush of flushes)
        expect(flush, scenario).toMatchObject({ executor: 'per-vu-iterations', iterations: 1 });
      expect(typeof mod.flushLedger, scenario).toBe('function');
      // One flush per workload scenario, of its VUs: k6 scales each scenario to a runner's segment on its own
      // (test/k6/run-scope.test.ts), so only per-scenario flushes reach every VU of every runner.
      const others = all.filter((s) => s.exec !== 'flushLedger');
      expect(
        flushes.map((f) => f.vus),
        scenario,
      ).toEqual(others.map((s) => Number(s.maxVUs ?? s.vus ?? 1)));
    }
    const ledger: number[] = [];
    Object.assign(globalThis, { __ledgerStatements: ledger });
    const { mod, samples } = await load('sql-write-load');
    const run = mod.setup();
    for (let i = 0; i < 130; i++) mod.write(run);
    mod.flushLedger();
    mod.teardown(run);
    expect(ledger).toEqual([64, 64, 2]);
    expect(total(samples, 'reconcile_checked')).toBe(130);
  });
});

const refused = 'dial tcp replica:2: connect: connection refused';
const denied = "Error 1045 (28000): Access denied for user 'writer'@'127.0.0.1' (using password: YES)";

describe('SQL scenarios fail fast and say why once', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('setup checks every endpoint with a real statement: one line per failing one, then abort, no load', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const { mod, samples, aborts } = await load('sql-replica-lag', {
      CQRS_WRITER_DSN: 'writer:wrong-password@tcp(primary:1)/cqrs',
    });
    Object.assign(globalThis, {
      __fail: (dsn: string) =>
        dsn.startsWith('writer:') ? denied : dsn.startsWith('monitor:') ? refused : '',
    });
    expect(() => mod.setup()).toThrow(/aborted/);
    expect(aborts).toEqual([
      'sql-replica-lag: 2 of 3 endpoints failed the setup check (writer, replica monitor); no load was sent',
    ]);
    expect(errorLines()).toEqual([
      `sql-replica-lag setup: writer (writer:***@tcp(primary:1)/cqrs) failed its check: ${denied}`,
      `sql-replica-lag setup: replica monitor (monitor:***@tcp(replica:2)/cqrs) failed its check: ${refused}`,
    ]);
    expect(errorLines().join('\n')).not.toContain('wrong-password');
    expect(samples.filter((s) => s.name === 'db_queries')).toEqual([]);
    // k6 still calls handleSummary, with no setup data: no reports that would overwrite an earlier run's.
    expect(mod.handleSummary({ metrics: {} })).toEqual({
      stdout: 'sql-replica-lag: setup did not finish, so no load ran and no report was written\n',
    });
  });

  it('checks the replica monitor only where it is used (heartbeat sampling)', async () => {
    const { mod, aborts } = await load('sql-write-load');
    Object.assign(globalThis, { __fail: (dsn: string) => (dsn.startsWith('monitor:') ? refused : '') });
    expect(mod.setup()).toMatchObject({ runId: 'h1' });
    expect(aborts).toEqual([]);
  });

  it('refuses a run id that earlier rows hold, naming them, unless CQRS_REUSE_TEST_ID=1', async () => {
    const first = await load('sql-write-load');
    const run = first.mod.setup();
    for (let i = 0; i < 3; i++) first.mod.write(run);
    first.mod.flushLedger();
    // The same in-memory database (it lives as long as the bundle instance): a second run with id h1.
    expect(() => first.mod.setup()).toThrow(/aborted/);
    expect(first.aborts).toEqual([
      'sql-write-load: CQRS_TEST_ID=h1 is already used (runner 3): the writer holds 3 probe_rows and 3 probe_acks rows of it; choose a new CQRS_TEST_ID, or set CQRS_REUSE_TEST_ID=1 to add this run to it',
    ]);
  });

  it('with CQRS_REUSE_TEST_ID=1 a run adds to the id with fresh keys: no duplicate, all reconciled', async () => {
    const { mod, samples } = await load('sql-write-load', { CQRS_REUSE_TEST_ID: '1' });
    const first = mod.setup() as { seqBase: number };
    mod.write(first);
    mod.flushLedger();
    const again = mod.setup() as { seqBase: number };
    expect(again.seqBase).toBeGreaterThan(1e12);
    mod.write(again);
    mod.flushLedger();
    mod.teardown(again);
    expect(total(samples, 'iteration_errors')).toBe(0);
    // The earlier run's acknowledgement is in this run's reconciliation too, as the setup line says.
    expect(total(samples, 'reconcile_checked')).toBe(2);
    expect(total(samples, 'reconcile_missing_writer')).toBe(0);
  });

  it('every exec function of every SQL bundle catches its errors, counts them by kind, logs a few', async () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    for (const scenario of SQL_SCENARIOS) {
      errors.mockClear();
      const { mod, samples } = await load(scenario);
      const run = mod.setup();
      // Every endpoint goes away after setup.
      Object.assign(globalThis, { __fail: () => refused });
      const names = execs(mod);
      for (const name of names)
        for (let i = 0; i < 20; i++)
          expect(() => (mod[name] as Exported)(run), `${scenario} ${name}`).not.toThrow();
      const counted = samples.filter((s) => s.name === 'iteration_errors' && s.value > 0);
      expect(counted.length, scenario).toBe(20 * names.length);
      expect(new Set(counted.map((s) => s.tags.kind)), scenario).toEqual(new Set(['db-unreachable']));
      // 3 lines of the kind per VU (one VU here), whatever the number of errors.
      expect(
        errorLines().filter((l) => l.startsWith('iteration error [db-unreachable] (vu 1)')),
        scenario,
      ).toHaveLength(3);
      mod.flushLedger();
      expect(errorLines().at(-1), scenario).toMatch(
        /^iteration errors not logged \(vu 1, last \d+ s\): db-unreachable \d+$/,
      );
      expect(errorLines().join('\n')).not.toMatch(/\n\s+at /);
    }
  });

  it('a reader that dies mid-run: its probes count, as error-probes, outside the stale rate and the timeouts', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const { mod, samples } = await load('sql-read-after-write');
    const run = mod.setup();
    for (let i = 0; i < 3; i++) mod.probe(run);
    Object.assign(globalThis, { __fail: (dsn: string) => (dsn.startsWith('reader:') ? refused : '') });
    for (let i = 0; i < 2; i++) mod.probe(run);
    expect(total(samples, 'probe_writes')).toBe(5);
    expect(total(samples, 'acked_writes')).toBe(5);
    expect(total(samples, 'probe_reads')).toBe(3);
    expect(total(samples, 'stale_reads')).toBe(0);
    expect(total(samples, 'visibility_timeouts')).toBe(0);
    expect(total(samples, 'probe_errors')).toBe(2);
    expect(samples.filter((s) => s.name === 'probe_errors' && s.value > 0).map((s) => s.tags)).toEqual([
      { strategy: 'eventual', read: 'immediate' },
      { strategy: 'eventual', read: 'immediate' },
    ]);
    expect(
      samples.filter((s) => s.name === 'iteration_errors' && s.value > 0).map((s) => s.tags.kind),
    ).toEqual(['db-unreachable', 'db-unreachable']);
    expect(errorLines()[0]).toBe(
      `iteration error [db-unreachable] (vu 1): probe's immediate read: ${refused}`,
    );
  });

  it('fails the run on iteration errors by default, like on failed statements (CQRS_THRESHOLDS can drop it)', async () => {
    for (const scenario of SQL_SCENARIOS) {
      const { mod } = await load(scenario);
      expect((mod.options as unknown as { thresholds: object }).thresholds, scenario).toHaveProperty(
        'iteration_errors',
        ['count==0'],
      );
    }
    const { mod } = await load('sql-write-load', { CQRS_THRESHOLDS: '{"iteration_errors":[]}' });
    expect((mod.options as unknown as { thresholds: object }).thresholds).not.toHaveProperty(
      'iteration_errors',
    );
  });
});

describe('SQL bundles: the report reads what the thresholds keep, and lists only the verdicts', () => {
  const thresholdsOf = (mod: Mod) =>
    (mod.options as unknown as { thresholds: Record<string, string[]> }).thresholds;

  it('every submetric a bundle’s handleSummary reads is in the thresholds it exports', async () => {
    for (const scenario of SQL_SCENARIOS) {
      const { mod } = await load(scenario);
      const thresholds = thresholdsOf(mod);
      const read = summaryKeysRead((d) => mod.handleSummary(d), { runId: 'h1', runner: '0' });
      const tagged = [...read].filter((k) => k.includes('{'));
      expect(tagged, scenario).toContain('db_errors{endpoint:reader}');
      expect(
        tagged.filter((k) => !(k in thresholds)),
        scenario,
      ).toEqual([]);
    }
  });

  it('junit.xml has one test case per default threshold and CQRS_THRESHOLDS entry, none for the keeps', async () => {
    const { mod } = await load('sql-write-load', {
      CQRS_THRESHOLDS:
        '{"sql_writes":["count>0"],"db_errors{endpoint:reader}":["count>=0"],"db_query_duration{endpoint:writer}":[]}',
    });
    const thresholds = thresholdsOf(mod);
    // Every expression k6 evaluates, passed.
    const metrics = Object.fromEntries(
      Object.entries(thresholds).map(([key, exprs]) => [
        key,
        {
          type: 'counter',
          values: { count: 1 },
          thresholds: Object.fromEntries(exprs.map((e) => [e, { ok: true }])),
        },
      ]),
    );
    expect(thresholds['db_query_duration{endpoint:writer}']).toEqual(['max>=0']);
    const files = mod.handleSummary({ metrics, setup_data: { runId: 'h1', runner: '0' } }) as Record<
      string,
      string
    >;
    expect(junitCaseNames(files['reports/h1/junit.xml'] ?? '')).toEqual([
      'db_errors: count==0',
      'db_errors{endpoint:reader}: count>=0',
      'iteration_errors: count==0',
      'reconcile_errors: count==0',
      'reconcile_missing_reader: count==0',
      'reconcile_missing_writer: count==0',
      'sql_writes: count>0',
    ]);
    const md = files['reports/h1/consistency.md'] ?? '';
    expect(md).toContain('## Endpoints');
    for (const absent of ['Strategy comparison', 'Read after write', 'Replica lag', 'Session guarantees'])
      expect(md).not.toContain(`## ${absent}`);
  });
});
