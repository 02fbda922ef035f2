/**
 * executeRead (api/read/execute.ts) on stub connections, no servers: which pool each plan reads, the exact
 * GTID wait (statement, parameters, deadline) and its bounds on the virtual clock, what each wait result and
 * each error become (a fallback counted by reason, a 400, a 503, or the error itself), and the cache's
 * read-through. The same paths against real servers: gtid-wait.test.ts, cache.test.ts, strategies.test.ts.
 */
import type { Redis } from 'ioredis';
import type { Pool } from 'mysql2/promise';
import type { Counter } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type DbCall, type DbCalls, POOL_LABELS, type PoolLabel } from '../../api/db.ts';
import { ClientError, UnavailableError } from '../../api/errors.ts';
import { createApiMetrics } from '../../api/metrics.ts';
import { executeRead, type ReadDeps } from '../../api/read/execute.ts';
import { WaitPool } from '../../api/read/gtid-wait.ts';
import type { ReadPlan } from '../../api/read/plan.ts';
import { cacheKeys, userLookups } from '../../api/users/sql.ts';
import { type Dialect, dialectFor, type Flavor } from '../../common/dialect.ts';

/** The gtid-wait budget (CQRS_API_GTID_WAIT_TIMEOUT_MS) and every pool's deadline (CQRS_API_DB_TIMEOUT_MS). */
const BUDGET_MS = 300;
const DB_MS = 50;
const CACHE_TTL_S = 60;
const TOKEN = '0-1-42';

const ROW = { id: 7, email: 'Ann@Example.test', name: 'Ann', created_at: '2026-01-02T03:04:05.678Z' };
const USER = { id: 7, email: 'Ann@Example.test', name: 'Ann', created_at: '2026-01-02T03:04:05.678Z' };
/** The replica's row: its visibility columns say the row was applied 1234 µs after its write. */
const REPLICA_ROW = { ...ROW, visibility_lag_us: '1234', apply_stamped: 1 };
const REPLICA_VISIBILITY = { lagUs: 1234, basis: 'apply-stamp' };
const PRIMARY_VISIBILITY = { lagUs: 0, basis: 'commit' };
const lookup = userLookups.byId('7');

type Rows = Record<string, unknown>[];
/** What a stub server answers to one statement. */
type Responder = (sql: string, params: readonly unknown[]) => Promise<Rows>;

/** Settles after `ms` on the virtual clock. */
const later = <T>(ms: number, value: T): Promise<T> => new Promise((r) => setTimeout(() => r(value), ms));
const failAfter = (ms: number, err: unknown): Promise<never> =>
  new Promise((_, reject) => setTimeout(() => reject(err), ms));
const never = <T>(): Promise<T> => new Promise<T>(() => undefined);
/** A mysql2-style error with a code (and errno). */
const sqlError = (code: string, errno?: number) =>
  Object.assign(new Error(`${code} from the server`), { code, errno });

class StubConnection {
  readonly executed: { sql: string; params: readonly unknown[] }[] = [];
  released = 0;
  destroyed = 0;
  readonly connection = { stream: { destroy: () => undefined } };
  constructor(private readonly respond: Responder) {}
  execute(sql: string, params: readonly unknown[]) {
    this.executed.push({ sql, params });
    return this.respond(sql, params).then((rows) => [rows, []]);
  }
  release() {
    this.released += 1;
  }
  destroy() {
    this.destroyed += 1;
  }
}

class StubPool {
  readonly connections: StubConnection[] = [];
  constructor(
    private readonly respond: Responder = async () => [],
    /** How a checkout goes: at once by default. */
    private readonly checkout: () => Promise<void> = async () => undefined,
  ) {}
  async getConnection() {
    await this.checkout();
    const conn = new StubConnection(this.respond);
    this.connections.push(conn);
    return conn;
  }
  get executed() {
    return this.connections.flatMap((c) => c.executed);
  }
  get asPool(): Pool {
    return this as unknown as Pool;
  }
}

/** A Redis with `get` and a recording pipeline. */
class StubRedis {
  readonly gets: string[] = [];
  readonly sets: unknown[][] = [];
  pipelines = 0;
  constructor(private readonly value: () => Promise<string | null>) {}
  get(key: string) {
    this.gets.push(key);
    return this.value();
  }
  pipeline() {
    this.pipelines += 1;
    const sets = this.sets;
    return {
      set(...args: unknown[]) {
        sets.push(args);
      },
      exec: async () => sets.map(() => [null, 'OK']),
    };
  }
}

interface Harness {
  deps: ReadDeps;
  metrics: ReturnType<typeof createApiMetrics>;
  writer: StubPool;
  reader: StubPool;
  waits: StubPool;
  waitPool: WaitPool;
  warnings: [object, string][];
  timeouts: [PoolLabel, string][];
}

interface HarnessOptions {
  flavor?: Flavor;
  dialect?: Partial<Dialect>;
  writer?: StubPool;
  reader?: StubPool;
  waits?: StubPool;
  waitPoolSize?: number;
  redis?: StubRedis;
  syncBefore?: StubPool;
  routerSplit?: StubPool;
}

/** The primary answers with ROW unless told otherwise. */
const primaryRow = () => new StubPool(async () => [ROW]);

function harness(o: HarnessOptions = {}): Harness {
  const metrics = createApiMetrics();
  const warnings: [object, string][] = [];
  const timeouts: [PoolLabel, string][] = [];
  const writer = o.writer ?? primaryRow();
  const reader = o.reader ?? new StubPool(async () => [REPLICA_ROW]);
  const waits = o.waits ?? new StubPool();
  const waitPool = new WaitPool(waits.asPool, o.waitPoolSize ?? 2);
  const call = (label: PoolLabel): DbCall => ({
    timeoutMs: DB_MS,
    onTimeout: (phase) => timeouts.push([label, phase]),
  });
  const calls = Object.fromEntries(POOL_LABELS.map((label) => [label, call(label)])) as DbCalls;
  const deps: ReadDeps = {
    writer: writer.asPool,
    reader: reader.asPool,
    gtidWait: waitPool,
    strategyPools: {
      gtidWait: waits.asPool,
      syncBefore: o.syncBefore?.asPool ?? null,
      routerSplit: o.routerSplit?.asPool ?? null,
    },
    redis: (o.redis ?? new StubRedis(async () => null)) as unknown as Redis,
    dialect: { ...dialectFor(o.flavor ?? 'mariadb'), ...o.dialect },
    metrics,
    calls,
    gtidWaitTimeoutMs: BUDGET_MS,
    cacheTtlS: CACHE_TTL_S,
    log: { warn: (obj, msg) => warnings.push([obj, msg]) },
  };
  return { deps, metrics, writer, reader, waits, waitPool, warnings, timeouts };
}

/** A counter without labels: its value (0 when never counted). */
async function count(counter: Counter<string>): Promise<number> {
  return (await counter.get()).values[0]?.value ?? 0;
}

/** Every non-zero series of a counter, by its labels. */
async function counted(counter: Counter<string>): Promise<Record<string, number>> {
  const values = (await counter.get()).values.filter((v) => v.value !== 0);
  return Object.fromEntries(values.map((v) => [JSON.stringify(v.labels), v.value]));
}

async function waitDuration(m: Harness['metrics']): Promise<{ sum: number; count: number }> {
  const values = (await m.gtidWaitDuration.get()).values;
  const of = (suffix: string) => values.find((v) => v.metricName?.endsWith(suffix))?.value ?? 0;
  return { sum: of('_sum'), count: of('_count') };
}

/** A promise whose settling the test can look at without awaiting it. */
function watch<T>(promise: Promise<T>) {
  const w = { done: false, promise };
  promise.then(
    () => {
      w.done = true;
    },
    () => {
      w.done = true;
    },
  );
  return w;
}

/** The wait connection answers `waited` to the wait (after `waitMs`), then the replica row to the lookup. */
const waitAnswering = (waited: unknown, waitMs = 0, rows: Rows = [REPLICA_ROW]) =>
  new StubPool((sql) => (/GTID/.test(sql) ? later(waitMs, [{ waited }]) : Promise.resolve(rows)));

const gtidPlan: ReadPlan = { target: 'replica-after-gtid', token: TOKEN };

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  // Away from 0, so that a start time added instead of subtracted shows.
  vi.advanceTimersByTime(10_000);
  expect(performance.now()).toBe(10_000);
});

afterEach(() => {
  vi.useRealTimers();
});

describe('plain plans', () => {
  it('primary: the lookup on the writer, visible from its commit', async () => {
    const h = harness();
    const outcome = await executeRead(h.deps, { target: 'primary' }, lookup);
    expect(outcome).toEqual({ users: [USER], visibility: PRIMARY_VISIBILITY, source: 'primary' });
    expect(h.writer.executed).toEqual([{ sql: lookup.sql, params: ['7'] }]);
    expect(h.writer.connections.map((c) => [c.released, c.destroyed])).toEqual([[1, 0]]);
    expect(h.reader.connections).toEqual([]);
  });

  it('replica: the visibility lookup on the reader, nothing else', async () => {
    const h = harness();
    const outcome = await executeRead(h.deps, { target: 'replica' }, lookup);
    expect(outcome).toEqual({ users: [USER], visibility: REPLICA_VISIBILITY, source: 'replica' });
    expect(h.reader.executed).toEqual([{ sql: lookup.replicaSql, params: ['7'] }]);
    expect(h.writer.connections).toEqual([]);
    expect(h.waits.connections).toEqual([]);
  });

  it('replica: an outage is a 503 naming the reader, never a primary read', async () => {
    const h = harness({ reader: new StubPool(() => Promise.reject(sqlError('ECONNREFUSED'))) });
    const err = await executeRead(h.deps, { target: 'replica' }, lookup).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect(err).toMatchObject({ dependency: 'reader', message: 'reader database unavailable: ECONNREFUSED' });
    expect(h.writer.connections).toEqual([]);
  });

  it('primary: an outage is a 503 naming the writer; a statement error is itself', async () => {
    const lost = harness({
      writer: new StubPool(() => Promise.reject(sqlError('PROTOCOL_CONNECTION_LOST'))),
    });
    await expect(executeRead(lost.deps, { target: 'primary' }, lookup)).rejects.toMatchObject({
      name: 'UnavailableError',
      dependency: 'writer',
    });
    const bad = sqlError('ER_BAD_FIELD_ERROR', 1054);
    const broken = harness({ writer: new StubPool(() => Promise.reject(bad)) });
    await expect(executeRead(broken.deps, { target: 'primary' }, lookup)).rejects.toBe(bad);
  });

  it.each([
    ['syncBefore', 'reader'],
    ['routerSplit', 'router'],
  ] as const)(
    'own-pool %s: the visibility lookup on that pool; its outage names %s',
    async (pool, dependency) => {
      const own = new StubPool(async () => [REPLICA_ROW]);
      const h = harness({ [pool]: own });
      const outcome = await executeRead(h.deps, { target: 'own-pool', pool }, lookup);
      expect(outcome).toEqual({ users: [USER], visibility: REPLICA_VISIBILITY, source: 'replica' });
      expect(own.executed).toEqual([{ sql: lookup.replicaSql, params: ['7'] }]);
      expect(h.reader.connections).toEqual([]);

      const down = harness({ [pool]: new StubPool(() => Promise.reject(sqlError('ECONNRESET'))) });
      await expect(executeRead(down.deps, { target: 'own-pool', pool }, lookup)).rejects.toMatchObject({
        name: 'UnavailableError',
        dependency,
      });
    },
  );

  it.each([
    ['routerSplit', 'strategy router-split needs MySQL Router; set CQRS_ROUTER_SPLIT_URL on the API'],
    // The consistency plugin refuses sync-before first where its pool is not opened; this is the backstop.
    ['syncBefore', 'strategy sync-before has no causal-read connections on this API'],
  ] as const)('own-pool %s without that pool: a 400 that says why, and no read', async (pool, message) => {
    const h = harness({ flavor: 'mysql' });
    const err = await executeRead(h.deps, { target: 'own-pool', pool }, lookup).catch((e) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({ statusCode: 400, message });
    expect(h.reader.connections).toEqual([]);
    expect(h.writer.connections).toEqual([]);
  });

  it('a lookup that finds nothing has no visibility', async () => {
    const h = harness({ reader: new StubPool(async () => []), writer: new StubPool(async () => []) });
    expect(await executeRead(h.deps, { target: 'replica' }, lookup)).toEqual({
      users: [],
      visibility: undefined,
      source: 'replica',
    });
    expect(await executeRead(h.deps, { target: 'primary' }, lookup)).toEqual({
      users: [],
      visibility: undefined,
      source: 'primary',
    });
  });
});

describe('replica-after-gtid', () => {
  it.each([
    ['mariadb', 'SELECT MASTER_GTID_WAIT(?, ?) AS waited'],
    ['mysql', 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS waited'],
  ] as const)(
    '%s: waits with %s for the token and the whole budget in seconds, then reads on that connection',
    async (flavor, statement) => {
      const waits = waitAnswering(0, 120);
      const h = harness({ flavor, waits });
      const read = executeRead(h.deps, gtidPlan, lookup);
      await vi.advanceTimersByTimeAsync(120);
      const outcome = await read;
      expect(outcome).toEqual({
        users: [USER],
        visibility: REPLICA_VISIBILITY,
        source: 'replica',
        waitMs: 120,
      });
      // One connection for both: the lookup runs where the wait saw the token.
      expect(waits.connections).toHaveLength(1);
      expect(waits.executed).toEqual([
        { sql: statement, params: [TOKEN, BUDGET_MS / 1000] },
        { sql: lookup.replicaSql, params: ['7'] },
      ]);
      expect(waits.connections.map((c) => [c.released, c.destroyed])).toEqual([[1, 0]]);
      expect(h.reader.connections).toEqual([]);
      expect(h.writer.connections).toEqual([]);
      expect(await waitDuration(h.metrics)).toEqual({ sum: 0.12, count: 1 });
      expect(await counted(h.metrics.gtidWaitFallbacks)).toEqual({});
      expect(await count(h.metrics.gtidWaitTimeouts)).toBe(0);
      expect(h.waitPool.inUse).toBe(0);
      expect(h.warnings).toEqual([]);
    },
  );

  it('a reached wait that finds no row: the replica says not found, no primary read', async () => {
    const h = harness({ waits: waitAnswering(0, 8, []) });
    const read = executeRead(h.deps, gtidPlan, lookup);
    await vi.advanceTimersByTimeAsync(8);
    expect(await read).toEqual({
      users: [],
      visibility: undefined,
      source: 'replica',
      waitMs: 8,
    });
    expect(h.writer.connections).toEqual([]);
  });

  it.each([
    ['mariadb', -1],
    ['mysql', 1],
  ] as const)(
    '%s: a timeout (%s) reads the primary, counted as a timeout, after releasing the wait connection',
    async (flavor, waited) => {
      const waits = waitAnswering(waited, BUDGET_MS);
      const h = harness({ flavor, waits });
      const read = executeRead(h.deps, gtidPlan, lookup);
      await vi.advanceTimersByTimeAsync(BUDGET_MS);
      expect(await read).toEqual({
        users: [USER],
        visibility: PRIMARY_VISIBILITY,
        source: 'primary',
        waitMs: BUDGET_MS,
        fallback: 'timeout',
      });
      // Only the wait ran there: no replica lookup after a wait that did not reach the token.
      expect(waits.executed.map((e) => e.sql)).toEqual([dialectFor(flavor).waitForGtid]);
      expect(waits.connections.map((c) => [c.released, c.destroyed])).toEqual([[1, 0]]);
      expect(h.writer.executed).toEqual([{ sql: lookup.sql, params: ['7'] }]);
      expect(await count(h.metrics.gtidWaitTimeouts)).toBe(1);
      expect(await counted(h.metrics.gtidWaitFallbacks)).toEqual({ '{"reason":"timeout"}': 1 });
      expect(await waitDuration(h.metrics)).toEqual({ sum: BUDGET_MS / 1000, count: 1 });
      expect(h.warnings).toEqual([]);
    },
  );

  it.each([
    ['NULL', [{ waited: null }]],
    ['no row', []],
  ])(
    '%s is no answer: the primary reads, a timeout fallback but not a timeout, with a warning',
    async (_, rows) => {
      // A dialect that reads NULL as 0 (Number(null) is 0): the executor must not trust it.
      const naive = (r: unknown) => Number(r) === 0;
      const waits = new StubPool((sql) =>
        /GTID/.test(sql) ? later(5, rows) : Promise.resolve([REPLICA_ROW]),
      );
      const h = harness({ waits, dialect: { gtidWaitReached: naive } });
      const read = executeRead(h.deps, gtidPlan, lookup);
      await vi.advanceTimersByTimeAsync(5);
      expect(await read).toEqual({
        users: [USER],
        visibility: PRIMARY_VISIBILITY,
        source: 'primary',
        waitMs: 5,
        fallback: 'timeout',
      });
      expect(waits.executed).toHaveLength(1);
      expect(await count(h.metrics.gtidWaitTimeouts)).toBe(0);
      expect(await counted(h.metrics.gtidWaitFallbacks)).toEqual({ '{"reason":"timeout"}': 1 });
      expect(h.warnings).toEqual([[{ token: TOKEN }, 'GTID wait returned no result; reading the primary']]);
    },
  );

  it('the queue for a wait connection counts against the budget: the server is given what is left', async () => {
    const waits = new StubPool(
      (sql) => (/GTID/.test(sql) ? later(10, [{ waited: 0 }]) : Promise.resolve([REPLICA_ROW])),
      () => later(100, undefined),
    );
    const h = harness({ waits });
    const read = executeRead(h.deps, gtidPlan, lookup);
    await vi.advanceTimersByTimeAsync(110);
    expect(await read).toMatchObject({ source: 'replica', waitMs: 10 });
    expect(waits.executed[0]).toEqual({ sql: h.deps.dialect.waitForGtid, params: [TOKEN, 0.2] });
  });

  it('a wait statement that never answers ends at the budget plus one deadline: dropped, then the primary', async () => {
    const waits = new StubPool((sql) => (/GTID/.test(sql) ? never() : Promise.resolve([REPLICA_ROW])));
    const h = harness({ waits });
    const read = watch(executeRead(h.deps, gtidPlan, lookup));
    await vi.advanceTimersByTimeAsync(BUDGET_MS + DB_MS - 1);
    expect(read.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(read.done).toBe(true);
    expect(await read.promise).toEqual({
      users: [USER],
      visibility: PRIMARY_VISIBILITY,
      source: 'primary',
      waitMs: 0,
      fallback: 'replica_unavailable',
    });
    // Destroyed, never handed back mid-protocol.
    expect(waits.connections.map((c) => [c.released, c.destroyed])).toEqual([[0, 1]]);
    expect(h.timeouts).toEqual([['gtidWait', 'query']]);
    expect(await counted(h.metrics.gtidWaitFallbacks)).toEqual({ '{"reason":"replica_unavailable"}': 1 });
    expect(await count(h.metrics.gtidWaitTimeouts)).toBe(0);
    expect(h.waitPool.inUse).toBe(0);
  });

  it('a wait that answers just inside its deadline is taken', async () => {
    const late = BUDGET_MS + DB_MS - 1;
    const h = harness({ waits: waitAnswering(0, late) });
    const read = executeRead(h.deps, gtidPlan, lookup);
    await vi.advanceTimersByTimeAsync(late);
    expect(await read).toMatchObject({ source: 'replica', waitMs: late });
    expect(h.timeouts).toEqual([]);
  });

  it('the lookup after a reached wait has one deadline of its own', async () => {
    const waits = new StubPool((sql) => (/GTID/.test(sql) ? later(40, [{ waited: 0 }]) : never()));
    const h = harness({ waits });
    const read = watch(executeRead(h.deps, gtidPlan, lookup));
    await vi.advanceTimersByTimeAsync(40 + DB_MS - 1);
    expect(read.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await read.promise).toMatchObject({ source: 'primary', fallback: 'replica_unavailable' });
    expect(waits.connections.map((c) => [c.released, c.destroyed])).toEqual([[0, 1]]);
    expect(h.timeouts).toEqual([['gtidWait', 'query']]);
  });

  it('no wait connection within the budget while all are busy: wait_busy, nothing waited', async () => {
    const waits = new StubPool(undefined, never);
    const h = harness({ waits, waitPoolSize: 1 });
    h.waitPool.inUse = 1;
    const read = watch(executeRead(h.deps, gtidPlan, lookup));
    await vi.advanceTimersByTimeAsync(BUDGET_MS - 1);
    expect(read.done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await read.promise).toEqual({
      users: [USER],
      visibility: PRIMARY_VISIBILITY,
      source: 'primary',
      waitMs: 0,
      fallback: 'wait_busy',
    });
    expect(await counted(h.metrics.gtidWaitFallbacks)).toEqual({ '{"reason":"wait_busy"}': 1 });
    expect(h.timeouts).toEqual([['gtidWait', 'acquire']]);
    expect(h.waitPool.inUse).toBe(1);
  });

  it('no wait connection within the budget with some free: the replica does not answer, replica_unavailable', async () => {
    const h = harness({ waits: new StubPool(undefined, never), waitPoolSize: 2 });
    const read = executeRead(h.deps, gtidPlan, lookup);
    await vi.advanceTimersByTimeAsync(BUDGET_MS);
    expect(await read).toMatchObject({ source: 'primary', waitMs: 0, fallback: 'replica_unavailable' });
    expect(await counted(h.metrics.gtidWaitFallbacks)).toEqual({ '{"reason":"replica_unavailable"}': 1 });
  });

  it('a wait connection that comes with no budget left is handed back unused: wait_busy', async () => {
    // Another request frees the connection exactly when this one's budget runs out.
    const freed = later(BUDGET_MS, undefined);
    const waits = new StubPool(undefined, () => freed);
    const h = harness({ waits });
    const read = executeRead(h.deps, gtidPlan, lookup);
    await vi.advanceTimersByTimeAsync(BUDGET_MS);
    expect(await read).toMatchObject({ source: 'primary', waitMs: 0, fallback: 'wait_busy' });
    expect(waits.executed).toEqual([]);
    expect(waits.connections.map((c) => [c.released, c.destroyed])).toEqual([[1, 0]]);
    expect(h.waitPool.inUse).toBe(0);
  });

  it.each([
    ['a refused connection', () => ({ connect: Promise.reject(sqlError('ECONNREFUSED')) })],
    [
      'a connection lost during the wait',
      () => ({ wait: Promise.reject(sqlError('PROTOCOL_CONNECTION_LOST')) }),
    ],
    ['a server shutting down', () => ({ wait: Promise.reject(sqlError('ER_SERVER_SHUTDOWN', 1053)) })],
  ])(
    '%s is an outage of the replica: the primary answers, counted as replica_unavailable',
    async (_, make) => {
      const fail = make() as { connect?: Promise<never>; wait?: Promise<never> };
      fail.connect?.catch(() => undefined);
      fail.wait?.catch(() => undefined);
      const waits = new StubPool(
        (sql) => (/GTID/.test(sql) && fail.wait ? fail.wait : Promise.resolve([REPLICA_ROW])),
        () => fail.connect ?? Promise.resolve(),
      );
      const h = harness({ waits });
      expect(await executeRead(h.deps, gtidPlan, lookup)).toEqual({
        users: [USER],
        visibility: PRIMARY_VISIBILITY,
        source: 'primary',
        waitMs: 0,
        fallback: 'replica_unavailable',
      });
      expect(await counted(h.metrics.gtidWaitFallbacks)).toEqual({ '{"reason":"replica_unavailable"}': 1 });
      // A lost connection is dropped, not returned to the pool.
      expect(waits.connections.map((c) => [c.released, c.destroyed])).toEqual(fail.wait ? [[0, 1]] : []);
    },
  );

  it.each([
    ['a missing privilege', sqlError('ER_SPECIFIC_ACCESS_DENIED_ERROR', 1227)],
    ['a wrong statement', sqlError('ER_PARSE_ERROR', 1064)],
    ['a bug', new TypeError('rows is not iterable')],
  ])('%s during the wait is the error itself: no fallback, no primary read', async (_, err) => {
    const waits = new StubPool((sql) =>
      /GTID/.test(sql) ? failAfter(3, err) : Promise.resolve([REPLICA_ROW]),
    );
    const h = harness({ waits });
    const read = executeRead(h.deps, gtidPlan, lookup).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(3);
    expect(await read).toBe(err);
    expect(h.writer.connections).toEqual([]);
    expect(await counted(h.metrics.gtidWaitFallbacks)).toEqual({});
    // A statement error leaves the connection usable: back to the pool.
    expect(waits.connections.map((c) => [c.released, c.destroyed])).toEqual([[1, 0]]);
    expect(h.waitPool.inUse).toBe(0);
  });

  it('a non-outage error in the lookup after the wait, or in the checkout, is the error itself', async () => {
    const denied = sqlError('ER_TABLEACCESS_DENIED_ERROR', 1142);
    const lookupFails = harness({
      waits: new StubPool((sql) =>
        /GTID/.test(sql) ? Promise.resolve([{ waited: 0 }]) : Promise.reject(denied),
      ),
    });
    await expect(executeRead(lookupFails.deps, gtidPlan, lookup)).rejects.toBe(denied);
    expect(lookupFails.writer.connections).toEqual([]);

    const refused = sqlError('ER_ACCESS_DENIED_ERROR', 1045);
    const checkoutFails = harness({ waits: new StubPool(undefined, () => Promise.reject(refused)) });
    await expect(executeRead(checkoutFails.deps, gtidPlan, lookup)).rejects.toBe(refused);
    expect(checkoutFails.writer.connections).toEqual([]);
    expect(await counted(checkoutFails.metrics.gtidWaitFallbacks)).toEqual({});
  });

  it.each([
    ['mariadb', 1941],
    ['mysql', 1772],
  ] as const)('%s: a token the server cannot parse (errno %i) is a 400 saying why', async (flavor, errno) => {
    const waits = new StubPool(() => Promise.reject(sqlError('ER_INCORRECT_GTID_STATE', errno)));
    const h = harness({ flavor, waits });
    const err = await executeRead(h.deps, gtidPlan, lookup).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClientError);
    expect(err).toMatchObject({
      statusCode: 400,
      message: 'x-consistency-token is not a GTID the server accepts: ER_INCORRECT_GTID_STATE',
    });
    // The other flavour's number is just an error.
    const other = sqlError('ER_INCORRECT_GTID_STATE', errno === 1941 ? 1772 : 1941);
    const h2 = harness({ flavor, waits: new StubPool(() => Promise.reject(other)) });
    await expect(executeRead(h2.deps, gtidPlan, lookup)).rejects.toBe(other);
  });

  it('the primary fallback in an outage of both is a 503 naming the writer', async () => {
    const h = harness({
      waits: new StubPool(undefined, () => Promise.reject(sqlError('ECONNREFUSED'))),
      writer: new StubPool(() => Promise.reject(sqlError('ECONNREFUSED'))),
    });
    await expect(executeRead(h.deps, gtidPlan, lookup)).rejects.toMatchObject({
      name: 'UnavailableError',
      dependency: 'writer',
    });
    // Counted all the same: the replica was the first to fail.
    expect(await counted(h.metrics.gtidWaitFallbacks)).toEqual({ '{"reason":"replica_unavailable"}': 1 });
  });
});

describe('cache', () => {
  const cached = (visibility?: unknown) => JSON.stringify({ ...USER, visibility, extra: 'dropped' });

  it('a hit answers from Redis alone, with the visibility stored beside the user', async () => {
    const redis = new StubRedis(async () => cached({ lagUs: 812, basis: 'cache-set' }));
    const h = harness({ redis });
    expect(await executeRead(h.deps, { target: 'cache' }, lookup)).toEqual({
      users: [USER],
      source: 'cache',
      visibility: { lagUs: 812, basis: 'cache-set' },
    });
    expect(redis.gets).toEqual([cacheKeys.byId('7')]);
    expect(redis.sets).toEqual([]);
    expect(h.reader.connections).toEqual([]);
    expect(h.writer.connections).toEqual([]);
    expect(await counted(h.metrics.cacheRequests)).toEqual({ '{"result":"hit"}': 1 });
  });

  it('a miss reads the replica and fills both keys with its row and visibility, for the TTL', async () => {
    const redis = new StubRedis(async () => null);
    const h = harness({ redis });
    expect(await executeRead(h.deps, { target: 'cache' }, lookup)).toEqual({
      users: [USER],
      visibility: REPLICA_VISIBILITY,
      source: 'replica',
    });
    expect(h.reader.executed).toEqual([{ sql: lookup.replicaSql, params: ['7'] }]);
    const json = JSON.stringify({ ...USER, visibility: REPLICA_VISIBILITY });
    expect(redis.pipelines).toBe(1);
    expect(redis.sets).toEqual([
      ['cqrs:user:id:7', json, 'EX', CACHE_TTL_S],
      ['cqrs:user:email:ann@example.test', json, 'EX', CACHE_TTL_S],
    ]);
    expect(await counted(h.metrics.cacheRequests)).toEqual({ '{"result":"miss"}': 1 });
  });

  it('a miss the replica cannot find caches nothing', async () => {
    const redis = new StubRedis(async () => null);
    const h = harness({ redis, reader: new StubPool(async () => []) });
    expect(await executeRead(h.deps, { target: 'cache' }, lookup)).toEqual({
      users: [],
      visibility: undefined,
      source: 'replica',
    });
    expect(redis.pipelines).toBe(0);
  });

  it('Redis down: the primary answers, counted and logged', async () => {
    const redis = new StubRedis(() => Promise.reject(sqlError('ECONNREFUSED')));
    const h = harness({ redis });
    expect(await executeRead(h.deps, { target: 'cache' }, lookup)).toEqual({
      users: [USER],
      visibility: PRIMARY_VISIBILITY,
      source: 'primary',
      fallback: 'cache_unavailable',
    });
    expect(h.reader.connections).toEqual([]);
    expect(await counted(h.metrics.cacheRequests)).toEqual({ '{"result":"error"}': 1 });
    expect(h.warnings).toEqual([[{ err: 'ECONNREFUSED' }, 'cache read failed; reading the primary']]);
  });

  it('a miss with the replica down: the primary answers, replica_unavailable; a replica bug is itself', async () => {
    const down = harness({ reader: new StubPool(() => Promise.reject(sqlError('ECONNREFUSED'))) });
    expect(await executeRead(down.deps, { target: 'cache' }, lookup)).toEqual({
      users: [USER],
      visibility: PRIMARY_VISIBILITY,
      source: 'primary',
      fallback: 'replica_unavailable',
    });
    const bad = sqlError('ER_NO_SUCH_TABLE', 1146);
    const broken = harness({ reader: new StubPool(() => Promise.reject(bad)) });
    await expect(executeRead(broken.deps, { target: 'cache' }, lookup)).rejects.toBe(bad);
    expect(broken.writer.connections).toEqual([]);
  });
});
