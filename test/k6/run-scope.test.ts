/**
 * Parallelism > 1 without k6: two runners of one CQRS_TEST_ID, as k6-operator starts them (each with its own
 * `instance_id` tag, each running setup() and teardown()), played out on the built bundles in Node against ONE
 * shared in-memory writer (SQL scenarios) or ONE shared in-memory API (API scenarios). Both runners' VUs have
 * the same VU id and count their sequence from 0, the worst case for key collisions. This pins the scoping
 * logic: each runner's id comes from its tag; keys, probe rows and ledger rows never collide; setup's reused-id
 * check asks about its own runner only; teardown reconciles only its own acknowledgements; and the totals add
 * up. test/e2e/parallel.test.ts proves the same on a real k6 with two processes side by side.
 */
import type { Scenario } from 'k6/options';
import { describe, expect, it, vi } from 'vitest';
import { K6_METRICS } from '../../common/metrics.ts';
import { LEDGER_FLUSH, ledgerFlushScenario } from '../../lib/profiles.ts';
import { evaluateBundle, K6_STUBS, useBuiltBundles } from '../helpers/bundles.ts';

const M = K6_METRICS;
const RUN_ID = 'par1';

/** k6/execution of one runner pod: its instance_id tag, and VU 1 (both runners have a VU 1). */
const execStub = (instanceId: string) => `
  const abort = (reason) => { (globalThis.__shared.aborts[${JSON.stringify(instanceId)}] ??= []).push(reason);
    throw new Error('aborted: ' + reason); };
  export default { vu: { idInTest: 1 }, scenario: { name: 'eventual' },
    test: { abort, options: { tags: { instance_id: ${JSON.stringify(instanceId)}, testrun_name: 't' } } } };`;

/** k6/metrics recording into the runner's own sample list (each runner is its own k6 process). */
const metricsStub = (instanceId: string) => `
  const record = (name, value) => (globalThis.__shared.samples[${JSON.stringify(instanceId)}] ??= []).push({ name, value: Number(value) });
  class M { constructor(name) { this.name = name; } add(value) { record(this.name, value); } }
  export class Counter extends M {} export class Gauge extends M {} export class Rate extends M {} export class Trend extends M {}`;

/**
 * xk6-sql against one shared database (globalThis.__shared.db), writer and reader alike (no lag). It keeps the
 * schema's keys: probe_rows.tag is UNIQUE (a duplicate throws, as MySQL's 1062), probe_acks has PRIMARY KEY
 * (run_id, runner, vu, seq) under INSERT IGNORE (a duplicate is silently dropped, so a collision would lose an
 * acknowledgement and show in the sums). Every scoped statement's parameters are logged per runner.
 */
const sqlStub = (instanceId: string) => `
  import { SQL } from './lib/sql/statements.ts';
  const bytes = (s) => Array.from(new TextEncoder().encode(String(s)));
  const me = ${JSON.stringify(instanceId)};
  function open(driver) {
    if (typeof driver !== 'symbol') throw new Error('driver must be a Symbol');
    const db = globalThis.__shared.db;
    const log = (what, a) => db.scoped.push({ runner: me, what, scope: [a[0], a[1]] });
    const h = {
      close() {},
      queryWithTimeout(_t, q, ...a) {
        if (q === 'SELECT 1') return [{ 1: 1 }];
        if (q === SQL.runHoldings) {
          log('holdings', a);
          const rows = [...db.rows.values()].filter((r) => r.runId === a[0] && r.runner === a[1]).length;
          const acks = [...db.acks.values()].filter((k) => k.runId === a[2] && k.runner === a[3]).length;
          return [{ probe_rows_held: bytes(rows), probe_acks_held: bytes(acks) }];
        }
        return h.query(q, ...a);
      },
      exec(q, ...a) {
        if (q === SQL.insertProbe) {
          if (db.rows.has(a[0])) throw Object.assign(new Error("Error 1062: Duplicate entry '" + a[0] + "' for key 'uq_probe_rows_tag'"), { name: 'GoError' });
          const id = db.rows.size + 1;
          db.rows.set(a[0], { id, tag: a[0], runId: a[1], runner: a[2], vu: a[3], iter: a[4] });
          return { lastInsertId: () => id, rowsAffected: () => 1 };
        }
        if (q.startsWith('INSERT IGNORE INTO probe_acks')) {
          for (let i = 0; i < a.length; i += 4) {
            const pk = a.slice(i, i + 4).join('\\n');
            if (!db.acks.has(pk)) db.acks.set(pk, { runId: a[i], runner: a[i + 1], vu: a[i + 2], seq: a[i + 3] });
          }
          return { lastInsertId: () => 0, rowsAffected: () => a.length / 4 };
        }
        throw new Error('unexpected exec: ' + q);
      },
      query(q, ...a) {
        if (q === SQL.heartbeatNow) return [{ now_us: bytes(1764000000000000) }];
        if (q === SQL.probeSighting) {
          const r = db.rows.get(a[0]);
          return r ? [{ id: r.id, lag_us: bytes(1000), stamped: bytes(1) }] : [];
        }
        if (q === SQL.acksByVu) {
          log('reconcile', a);
          const byVu = new Map();
          const rows = [...db.rows.values()];
          for (const k of db.acks.values()) if (k.runId === a[0] && k.runner === a[1]) {
            const c = byVu.get(k.vu) ?? { vu: k.vu, acked: 0, missing: 0 };
            c.acked++;
            if (!rows.some((r) => r.runId === k.runId && r.runner === k.runner && r.vu === k.vu && r.iter === k.seq)) c.missing++;
            byVu.set(k.vu, c);
          }
          return [...byVu.values()].map((c) => ({ vu: c.vu, acked: bytes(c.acked), missing: bytes(c.missing) }));
        }
        throw new Error('unexpected query: ' + q);
      },
    };
    return h;
  }
  export default { open };`;

/**
 * k6/http as the CQRS API answers, one API (globalThis.__shared.api) for both runners: users.email is UNIQUE
 * (409 on a duplicate), POST /probe-acks is idempotent per (run, runner, vu, seq), GET /probe-acks/:runId/:runner
 * reports that run and runner only, by key (lib/api/sql.ts probeEmail). Every scoped call is logged per runner.
 */
const httpStub = (instanceId: string) => `
  import { probeEmail } from './lib/api/sql.ts';
  const me = ${JSON.stringify(instanceId)};
  const answer = (status, body, headers = {}) => ({
    status, headers, error: '', timings: { duration: 1 },
    body: body === undefined ? '' : JSON.stringify(body),
    json() { return JSON.parse(this.body); },
  });
  export const expectedStatuses = (...s) => ({ s });
  function post(url, body) {
    const api = globalThis.__shared.api; const path = new URL(url).pathname; const b = JSON.parse(body);
    if (path === '/users') {
      if (api.users.some((u) => u.email === b.email)) return answer(409, { statusCode: 409, error: 'Conflict', message: 'email taken' });
      const id = api.users.length + 1; api.users.push({ id, ...b });
      return answer(201, { id, ...b });
    }
    if (path === '/probe-acks') {
      api.scoped.push({ runner: me, what: 'ack-post', scope: [b.runId, b.runner] });
      for (const k of b.acks) {
        const pk = [b.runId, b.runner, k.vu, k.seq].join('\\n');
        if (!api.acks.has(pk)) api.acks.set(pk, { runId: b.runId, runner: b.runner, vu: k.vu, seq: k.seq });
      }
      return answer(204);
    }
    throw new Error('unexpected POST ' + path);
  }
  function get(url) {
    const api = globalThis.__shared.api; const u = new URL(url);
    if (u.pathname === '/readyz') return answer(200, { status: 'ready' });
    const user = u.pathname.match(/^\\/users\\/(\\d+)$/);
    if (user) {
      const found = api.users.find((x) => x.id === Number(user[1]));
      return found ? answer(200, found, { 'X-Read-Source': 'replica' }) : answer(404, { statusCode: 404, error: 'Not Found', message: 'no' });
    }
    const report = u.pathname.match(/^\\/probe-acks\\/([^/]+)\\/([^/]+)$/);
    if (report) {
      const [runId, runner] = [decodeURIComponent(report[1]), decodeURIComponent(report[2])];
      api.scoped.push({ runner: me, what: 'ack-report', scope: [runId, runner] });
      const emails = new Set(api.users.map((x) => x.email));
      const byVu = new Map();
      for (const k of api.acks.values()) if (k.runId === runId && k.runner === runner) {
        const c = byVu.get(k.vu) ?? { vu: k.vu, acked: 0, missing: 0 };
        c.acked++; if (!emails.has(probeEmail(k))) c.missing++; byVu.set(k.vu, c);
      }
      return answer(200, { endpoint: u.searchParams.get('endpoint'), vus: [...byVu.values()] });
    }
    throw new Error('unexpected GET ' + u.pathname);
  }
  export default { expectedStatuses, get, post };`;

interface Scoped {
  runner: string;
  what: string;
  scope: [string, string];
}
interface Shared {
  db: {
    rows: Map<string, { runId: string; runner: string; vu: number; iter: number }>;
    acks: Map<string, { runId: string; runner: string; vu: number; seq: number }>;
    scoped: Scoped[];
  };
  api: {
    users: { id: number; email: string }[];
    acks: Map<string, { runId: string; runner: string; vu: number; seq: number }>;
    scoped: Scoped[];
  };
  samples: Record<string, { name: string; value: number }[]>;
  aborts: Record<string, string[]>;
}

type Fn = (...args: unknown[]) => unknown;
interface RunnerPod {
  readonly instanceId: string;
  readonly mod: Record<string, Fn>;
  call(name: string, ...args: unknown[]): unknown;
  /** The sum of a counter's samples in this runner. */
  total(metric: string): number;
}

const DSNS = {
  CQRS_WRITER_DSN: 'writer:pw@tcp(primary:1)/cqrs',
  CQRS_READER_DSN: 'reader:pw@tcp(replica:2)/cqrs',
  CQRS_REPLICA_MONITOR_DSN: 'monitor:pw@tcp(replica:2)/cqrs',
};

const built = useBuiltBundles('cqrs-run-scope-');

function freshShared(): Shared {
  const shared: Shared = {
    db: { rows: new Map(), acks: new Map(), scoped: [] },
    api: { users: [], acks: new Map(), scoped: [] },
    samples: {},
    aborts: {},
  };
  Object.assign(globalThis, { __shared: shared });
  return shared;
}

/** One runner pod of `scenario`: its own bundle instance (own k6 process), tagged `instance_id`. */
async function runnerPod(
  shared: Shared,
  scenario: string,
  instanceId: string,
  env: Record<string, string> = {},
): Promise<RunnerPod> {
  const stubs = {
    ...K6_STUBS,
    'k6/execution': execStub(instanceId),
    'k6/metrics': metricsStub(instanceId),
    'k6/x/sql': sqlStub(instanceId),
    'k6/http': httpStub(instanceId),
  };
  const mod = (await evaluateBundle(built.path(scenario), stubs, {
    __ENV: { CQRS_TEST_ID: RUN_ID, CQRS_API_STRATEGIES: 'eventual', ...DSNS, ...env },
  })) as Record<string, Fn>;
  return {
    instanceId,
    mod,
    call: (name, ...args) => {
      const fn = mod[name];
      if (!fn) throw new Error(`${scenario} exports no ${name}`);
      return fn(...args);
    },
    total: (metric) =>
      (shared.samples[instanceId] ?? []).filter((s) => s.name === metric).reduce((n, s) => n + s.value, 0),
  };
}

/** One runner's whole life as k6 runs it: setup, `n` iterations of `exec`, the ledger flush, teardown. */
function lifecycle(pod: RunnerPod, exec: string, n: number): { runId: string; runner: string } {
  const run = pod.call('setup') as { runId: string; runner: string };
  for (let i = 0; i < n; i++) pod.call(exec, run);
  pod.call('flushLedger');
  pod.call('teardown', run);
  return run;
}

const scopesOf = (scoped: readonly Scoped[], runner: string) =>
  new Set(scoped.filter((s) => s.runner === runner).map((s) => `${s.what} ${s.scope.join('/')}`));

describe('parallel runners of one run id: scoping (SQL bundles, one shared writer)', () => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  vi.spyOn(console, 'error').mockImplementation(() => {});

  for (const [scenario, exec] of [
    ['sql-read-after-write', 'probe'],
    ['sql-write-load', 'write'],
  ] as const) {
    it(`${scenario}: runners 1 and 2 get their ids from instance_id, never collide, and each reconciles only its own writes`, async () => {
      const shared = freshShared();
      const one = await runnerPod(shared, scenario, '1');
      const two = await runnerPod(shared, scenario, '2');
      // Runner 1 runs first and writes; runner 2 starts after (a pod scheduled late), on the same run id.
      const run1 = lifecycle(one, exec, 5);
      const run2 = lifecycle(two, exec, 3);
      expect(run1).toMatchObject({ runId: RUN_ID, runner: '1' });
      expect(run2).toMatchObject({ runId: RUN_ID, runner: '2' });
      // Runner 1's rows did not make runner 2's setup refuse: its check asked about runner 2 only.
      expect(shared.aborts).toEqual({});
      // Same VU id and the same sequence numbers in both runners, yet every write landed: no key collided.
      expect(one.total(M.iterationErrors.name) + two.total(M.iterationErrors.name)).toBe(0);
      expect([...shared.db.rows.values()].map((r) => `${r.runner}:${r.vu}:${r.iter}`)).toEqual([
        ...[0, 1, 2, 3, 4].map((i) => `1:1:${i}`),
        ...[0, 1, 2].map((i) => `2:1:${i}`),
      ]);
      expect(shared.db.acks.size).toBe(8);
      // Each runner acknowledged, flushed and reconciled exactly its own writes.
      for (const [pod, n] of [
        [one, 5],
        [two, 3],
      ] as const) {
        expect(pod.total(M.ackedWrites.name), `runner ${pod.instanceId}`).toBe(n);
        expect(pod.total(M.ledgerFlushed.name), `runner ${pod.instanceId}`).toBe(n);
        expect(pod.total(M.reconcileChecked.name), `runner ${pod.instanceId}`).toBe(n);
        expect(pod.total(M.reconcileMissingWriter.name) + pod.total(M.reconcileMissingReader.name)).toBe(0);
        expect(pod.total(M.reconcileErrors.name)).toBe(0);
        // Every scoped statement this runner ran (setup's check, both reconciliations) named its own runner.
        expect(scopesOf(shared.db.scoped, pod.instanceId)).toEqual(
          new Set([`holdings ${RUN_ID}/${pod.instanceId}`, `reconcile ${RUN_ID}/${pod.instanceId}`]),
        );
      }
      // The sums across runners are the writer's rows of the run id.
      expect(one.total(M.reconcileChecked.name) + two.total(M.reconcileChecked.name)).toBe(
        shared.db.rows.size,
      );
      // Their report files do not overwrite each other.
      const files = (pod: RunnerPod, run: object) =>
        Object.keys(pod.call('handleSummary', { metrics: {}, setup_data: run }) as object).filter(
          (f) => f !== 'stdout',
        );
      const names1 = files(one, run1);
      const names2 = files(two, run2);
      expect(names1).toContain(`reports/${RUN_ID}/summary.runner-1.json`);
      expect(names2).toContain(`reports/${RUN_ID}/summary.runner-2.json`);
      expect(names1.filter((f) => names2.includes(f))).toEqual([]);
    });
  }

  it('setup refuses a runner id that already holds rows of the run id, counting that runner’s rows only', async () => {
    const shared = freshShared();
    lifecycle(await runnerPod(shared, 'sql-write-load', '1'), 'write', 4);
    lifecycle(await runnerPod(shared, 'sql-write-load', '2'), 'write', 2);
    // Runner 2 again (a restarted pod): refused, and the holdings it names are its own 2, not the run's 6.
    const again = await runnerPod(shared, 'sql-write-load', '2');
    expect(() => again.call('setup')).toThrow(/aborted/);
    expect(shared.aborts['2']).toEqual([
      `sql-write-load: CQRS_TEST_ID=${RUN_ID} is already used (runner 2): the writer holds 2 probe_rows and 2 probe_acks rows of it; ` +
        'choose a new CQRS_TEST_ID, or set CQRS_REUSE_TEST_ID=1 to add this run to it',
    ]);
    // A third runner of the same run id starts: nothing of runner 3 exists yet.
    const three = await runnerPod(shared, 'sql-write-load', '3');
    expect(three.call('setup')).toMatchObject({ runId: RUN_ID, runner: '3', seqBase: 0 });
    expect(shared.aborts['3']).toBeUndefined();
  });

  it('CQRS_RUNNER overrides the instance_id tag; a tag outside the runner alphabet is made safe', async () => {
    const shared = freshShared();
    const named = await runnerPod(shared, 'sql-write-load', '1', { CQRS_RUNNER: 'east-1' });
    expect(named.call('setup')).toMatchObject({ runner: 'east-1' });
    const odd = await runnerPod(shared, 'sql-write-load', 'pod/7 a');
    expect(odd.call('setup')).toMatchObject({ runner: 'pod_7_a' });
  });
});

describe('parallel runners of one run id: scoping (API bundle, one shared API ledger)', () => {
  vi.spyOn(console, 'log').mockImplementation(() => {});
  vi.spyOn(console, 'warn').mockImplementation(() => {});
  vi.spyOn(console, 'error').mockImplementation(() => {});

  it('api-read-after-write: each runner posts and reconciles its own acknowledgements through GET /probe-acks/:runId/:runner', async () => {
    const shared = freshShared();
    const one = await runnerPod(shared, 'api-read-after-write', '1');
    const two = await runnerPod(shared, 'api-read-after-write', '2');
    // Both setups before any load (k6-operator starts the runners together), then interleaved iterations.
    const run1 = one.call('setup') as object;
    const run2 = two.call('setup') as object;
    expect(run1).toMatchObject({ runId: RUN_ID, runner: '1' });
    expect(run2).toMatchObject({ runId: RUN_ID, runner: '2' });
    for (let i = 0; i < 4; i++) {
      one.call('probe', run1);
      if (i < 3) two.call('probe', run2);
    }
    one.call('flushLedger');
    two.call('flushLedger');
    one.call('teardown', run1);
    two.call('teardown', run2);
    expect(shared.aborts).toEqual({});
    // Same VU id and sequence in both: the probe users' emails (which carry the key) still differ.
    expect(shared.api.users.map((u) => u.email)).toEqual([
      `${RUN_ID}+1+1+0@probe.example`,
      `${RUN_ID}+2+1+0@probe.example`,
      `${RUN_ID}+1+1+1@probe.example`,
      `${RUN_ID}+2+1+1@probe.example`,
      `${RUN_ID}+1+1+2@probe.example`,
      `${RUN_ID}+2+1+2@probe.example`,
      `${RUN_ID}+1+1+3@probe.example`,
    ]);
    expect(shared.api.acks.size).toBe(7);
    for (const [pod, n] of [
      [one, 4],
      [two, 3],
    ] as const) {
      expect(pod.total(M.ackedWrites.name), `runner ${pod.instanceId}`).toBe(n);
      expect(pod.total(M.reconcileChecked.name), `runner ${pod.instanceId}`).toBe(n);
      expect(pod.total(M.reconcileMissingWriter.name) + pod.total(M.reconcileMissingReader.name)).toBe(0);
      expect(pod.total(M.apiErrors.name)).toBe(0);
      expect(scopesOf(shared.api.scoped, pod.instanceId)).toEqual(
        new Set([`ack-report ${RUN_ID}/${pod.instanceId}`, `ack-post ${RUN_ID}/${pod.instanceId}`]),
      );
    }
    expect(one.total(M.reconcileChecked.name) + two.total(M.reconcileChecked.name)).toBe(
      shared.api.users.length,
    );
  });
});

/**
 * k6's VU count for runner `i` (0-based) of `p` equal segments of one sequence, for a scenario of `vus` VUs:
 * striped round-robin. Checked against k6 v2.2.0 (per-vu-iterations of 4, 5 and 10 VUs over 3 and 4 runners:
 * 2/1/1, 2/2/1, 4/3/3 and 1/1/1/1, 2/1/1/1, 3/3/2/2). k6 scales every scenario on its own.
 */
const scaled = (vus: number, i: number, p: number): number => Math.floor(vus / p) + (i < vus % p ? 1 : 0);

/** The VUs a workload scenario holds at most (what k6 allocates for it). */
function heldVUs(s: Scenario): number {
  const x = s as { executor: string; maxVUs?: number; preAllocatedVUs?: number; vus?: number };
  if (x.executor === 'ramping-vus') {
    const r = s as { startVUs?: number; stages: { target: number }[] };
    return Math.max(r.startVUs ?? 1, ...r.stages.map((st) => st.target));
  }
  return x.maxVUs ?? x.preAllocatedVUs ?? x.vus ?? 1;
}

describe('the end-of-run ledger flush reaches every VU of every runner', () => {
  /**
   * For a bundle's options: per runner of 1..8, the VUs its workloads hold and the VUs its flush scenarios ask
   * for; a runner whose flush asks fewer leaves a VU unflushed, its acknowledged writes never checked.
   */
  const perRunner = (scenarios: Record<string, Scenario>, flush: (s: Scenario) => boolean) => {
    const out: { p: number; i: number; held: number; flushed: number }[] = [];
    const work = Object.values(scenarios).filter((s) => !flush(s));
    const flushes = Object.values(scenarios).filter(flush);
    for (let p = 1; p <= 8; p++)
      for (let i = 0; i < p; i++) {
        const held = work.reduce((n, s) => n + scaled(heldVUs(s), i, p), 0);
        const flushed = flushes.reduce((n, s) => n + scaled((s as { vus: number }).vus, i, p), 0);
        out.push({ p, i, held, flushed });
      }
    return out;
  };
  const isFlush = (s: Scenario) => (s as { exec?: string }).exec === LEDGER_FLUSH.exec;

  it('one flush sized to the total misses VUs once k6 scales it to a segment (the bug this guards)', () => {
    const two = {
      eventual: { executor: 'constant-arrival-rate', maxVUs: 3 },
      primary: { executor: 'constant-arrival-rate', maxVUs: 3 },
    } as unknown as Record<string, Scenario>;
    const single = { ...two, [LEDGER_FLUSH.scenario]: ledgerFlushScenario(two) };
    // Runner 1 of 2 holds 2 + 2 VUs, but 6 VUs scaled give it 3 flushes.
    expect(perRunner(single, isFlush).find((r) => r.p === 2 && r.i === 0)).toEqual({
      p: 2,
      i: 0,
      held: 4,
      flushed: 3,
    });
  });

  for (const [scenario, env] of [
    [
      'api-read-after-write',
      { CQRS_API_STRATEGIES: 'eventual,primary,sticky', CQRS_VUS: '3', CQRS_PROFILE: 'load' },
    ],
    [
      'api-read-after-write',
      { CQRS_API_STRATEGIES: 'eventual,primary,sticky,cache', CQRS_VUS: '10', CQRS_PROFILE: 'soak' },
    ],
    ['sql-mixed', { CQRS_VUS: '10', CQRS_PROFILE: 'load' }],
    ['sql-replica-lag', { CQRS_VUS: '5', CQRS_PROFILE: 'stress' }],
    ['sql-read-after-write', { CQRS_VUS: '7', CQRS_PROFILE: 'spike' }],
  ] as const) {
    it(`${scenario} ${JSON.stringify(env)}: with 1..8 runners, each runner's flush asks as many VUs as its workloads hold`, async () => {
      const mod = await evaluateBundle(built.path(scenario), K6_STUBS, {
        __ENV: { CQRS_TEST_ID: RUN_ID, ...DSNS, ...env },
      });
      const { scenarios } = mod.options as { scenarios: Record<string, Scenario> };
      const short = perRunner(scenarios, isFlush).filter((r) => r.flushed < r.held);
      expect(short).toEqual([]);
    });
  }
});
