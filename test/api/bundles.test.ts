/**
 * The API scenarios' bundles (the bundler's real output), checked like the SQL ones: k6-only ES imports,
 * the lifecycle exports, every `exec` exported, thresholds, config errors at init; plus what is particular to
 * them: one k6 scenario per strategy at the same rate, the strategy comparison in the report, and the whole
 * lifecycle over HTTP alone (a stubbed k6/http that plays the API): visibility from the response headers, the
 * ledger batched into POST /probe-acks and flushed by `flushLedger`, reconciliation through GET /probe-acks.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ACKS_PER_REQUEST } from '../../common/ledger-sql.ts';
import { K6_METRICS } from '../../common/metrics.ts';
import { ACK_BATCH } from '../../lib/ledger.ts';
import { LEDGER_FLUSH } from '../../lib/profiles.ts';
import {
  API_SCENARIOS,
  evaluateBundle,
  expectEveryExecExported,
  expectOnlyK6Imports,
  junitCaseNames,
  K6_STUBS,
  RECORDING_METRICS_STUB,
  summaryKeysRead,
  useBuiltBundles,
} from '../helpers/bundles.ts';

const built = useBuiltBundles('cqrs-api-bundles-');

const evaluate = built.evaluate;

interface ScenarioOptions {
  scenarios: Record<string, { exec?: string; rate?: number; tags?: Record<string, string> }>;
  thresholds: Record<string, string[]>;
}

describe('API scenario bundles', () => {
  it.each(API_SCENARIOS)('%s imports only k6 modules with ES imports', async (name) => {
    await expectOnlyK6Imports(built.path(name));
  });

  it.each(API_SCENARIOS)('%s exports the lifecycle, and every exec it names', async (name) => {
    const mod = await evaluate(name);
    for (const fn of ['default', 'setup', 'teardown', 'handleSummary', 'flushLedger'])
      expect(typeof mod[fn], fn).toBe('function');
    expectEveryExecExported(mod, name);
    const options = mod.options as ScenarioOptions;
    expect(options.thresholds[K6_METRICS.apiErrors.name]).toEqual(['count==0']);
  });

  it('api-read-after-write runs one scenario per strategy, at one rate, tagged with it', async () => {
    const mod = await evaluate('api-read-after-write', { CQRS_API_STRATEGIES: 'eventual,gtid-wait,cache' });
    const options = mod.options as ScenarioOptions;
    // Plus the end-of-run ledger flush, in every VU.
    const workloads = Object.fromEntries(
      Object.entries(options.scenarios).filter(([, s]) => s.exec !== LEDGER_FLUSH.exec),
    );
    expect(Object.keys(workloads)).toEqual(['eventual', 'gtid-wait', 'cache']);
    // One flush per strategy's scenario (lib/profiles.ts ledgerFlushScenarios).
    const flushes = Object.keys(options.scenarios).filter((n) => !(n in workloads));
    expect(flushes).toEqual(['eventual', 'gtid-wait', 'cache'].map((n) => `${LEDGER_FLUSH.scenario}_${n}`));
    const rates = new Set(Object.values(workloads).map((s) => s.rate));
    expect(rates.size).toBe(1);
    for (const [name, s] of Object.entries(workloads)) expect(s.tags).toEqual({ strategy: name });
    expect(options.thresholds).toHaveProperty(K6_METRICS.reconcileMissingWriter.name);
    expect(options.thresholds).toHaveProperty(
      `${K6_METRICS.apiReads.name}{strategy:gtid-wait,source:replica}`,
    );
  });

  it('bad strategy variables fail init with one config error', async () => {
    await expect(
      evaluate('api-read-after-write', { CQRS_API_STRATEGIES: 'eventual,strong' }),
    ).rejects.toThrow(/^invalid CQRS_API_STRATEGIES; reason: expected distinct strategies/);
    await expect(evaluate('api-mixed', { CQRS_API_STRATEGY: 'fast' })).rejects.toThrow(
      'invalid CQRS_API_STRATEGY; reason: expected one of eventual|primary|gtid-wait|sticky|cache|sync-before|router-split (or gr-before for sync-before), got "fast"',
    );
    // A strategy the servers cannot serve (CQRS_FLAVOR, CQRS_TOPOLOGY) fails init too, saying why.
    await expect(evaluate('api-mixed', { CQRS_API_STRATEGY: 'gr-before' })).rejects.toThrow(
      /^invalid CQRS_API_STRATEGY; reason: strategy sync-before needs a synchronous cluster .*\(CQRS_TOPOLOGY=async\)$/,
    );
  });

  it('the consistency report compares the strategies', async () => {
    const mod = await evaluate('api-read-after-write', {
      CQRS_API_STRATEGIES: 'eventual,primary',
      CQRS_TEST_ID: 't1',
    });
    const counter = (n: number) => ({ type: 'counter', values: { count: n, rate: n } });
    const trendOf = (p50: number, p95: number) => ({
      type: 'trend',
      contains: 'time',
      values: { avg: p50, min: 0, med: p50, max: p95, 'p(90)': p95, 'p(95)': p95, 'p(99)': p95, count: 10 },
    });
    const M = K6_METRICS;
    const data = {
      metrics: {
        [`${M.probeReads.name}{strategy:eventual}`]: counter(100),
        [`${M.staleReads.name}{strategy:eventual}`]: counter(80),
        [`${M.apiReads.name}{strategy:eventual}`]: counter(100),
        [`${M.apiReads.name}{strategy:eventual,source:replica}`]: counter(100),
        [`${M.visibilityLag.name}{strategy:eventual}`]: trendOf(52, 60),
        [`${M.apiReadDuration.name}{strategy:eventual}`]: trendOf(1, 2),
        [`${M.probeReads.name}{strategy:primary}`]: counter(100),
        [`${M.staleReads.name}{strategy:primary}`]: counter(0),
        [`${M.apiReads.name}{strategy:primary}`]: counter(100),
        [`${M.apiErrors.name}{strategy:primary}`]: counter(3),
      },
      setup_data: { runId: 't1', runner: '0' },
    };
    const files = (mod.handleSummary as (d: unknown) => Record<string, string>)(data);
    const report = files['reports/t1/consistency.md'] ?? '';
    expect(report).toContain('## Strategy comparison');
    expect(report).toMatch(
      /\| eventual \| 100 \| 80\.0% \| 52\.0 ms \| 60\.0 ms \| 60\.0 ms \| 60\.0 ms \| 2\.00 ms \| 100\.0% \| 0 \|/,
    );
    expect(report).toMatch(
      /\| primary \| 100 \| 0\.0% \| n\/a \| n\/a \| n\/a \| n\/a \| n\/a \| 0\.0% \| 3 \|/,
    );
  });

  it.each(API_SCENARIOS)(
    '%s: no SQL Endpoints table, and the report reads only submetrics its thresholds keep',
    async (name) => {
      const mod = await evaluate(name, { CQRS_API_STRATEGIES: 'eventual,cache', CQRS_TEST_ID: 't1' });
      const thresholds = (mod.options as ScenarioOptions).thresholds;
      const handle = mod.handleSummary as (d: unknown) => Record<string, string>;
      const read = summaryKeysRead(handle, { runId: 't1', runner: '0' });
      const tagged = [...read].filter((k) => k.includes('{'));
      expect(tagged, name).toContain(`${K6_METRICS.apiReads.name}{strategy:eventual,source:cache}`);
      expect(
        tagged.filter((k) => k.startsWith(K6_METRICS.dbErrors.name)),
        name,
      ).toEqual([]);
      expect(
        tagged.filter((k) => !(k in thresholds)),
        name,
      ).toEqual([]);
      const report = handle({ metrics: {}, setup_data: { runId: 't1', runner: '0' } })[
        'reports/t1/consistency.md'
      ];
      expect(report, name).toContain('## Strategy comparison');
      expect(report, name).not.toContain('## Endpoints');
    },
  );

  it('junit.xml lists the defaults and CQRS_THRESHOLDS, not the 9 keep-only thresholds per strategy', async () => {
    const mod = await evaluate('api-read-after-write', {
      CQRS_API_STRATEGIES: 'eventual,primary',
      CQRS_TEST_ID: 't1',
      CQRS_THRESHOLDS: '{"stale_read_ratio":["rate<1"],"visibility_timeouts":[]}',
    });
    const thresholds = (mod.options as ScenarioOptions).thresholds;
    expect(Object.keys(thresholds)).toHaveLength(6 + 2 * 9);
    const metrics = Object.fromEntries(
      Object.entries(thresholds).map(([key, exprs]) => [
        key,
        {
          type: 'counter',
          values: { count: 0 },
          thresholds: Object.fromEntries(exprs.map((e) => [e, { ok: true }])),
        },
      ]),
    );
    const files = (mod.handleSummary as (d: unknown) => Record<string, string>)({
      metrics,
      setup_data: { runId: 't1', runner: '0' },
    });
    expect(junitCaseNames(files['reports/t1/junit.xml'] ?? '')).toEqual([
      'api_errors: count==0',
      'iteration_errors: count==0',
      'reconcile_errors: count==0',
      'reconcile_missing_reader: count==0',
      'reconcile_missing_writer: count==0',
      'stale_read_ratio: rate<1',
    ]);
    expect(files.stdout).not.toMatch(/count>=0|max>=0/);
  });
});

/**
 * k6/http as the API would answer (state in globalThis.__api), and k6/metrics recording every sample. Reads
 * report a fixed apply-stamp visibility, as the API does for a replica row. `down` makes every request throw
 * as k6 does with its `throw` option when nothing answers; `unready` makes /readyz answer 503.
 */
const HTTP_STUBS: Record<string, string> = {
  ...K6_STUBS,
  'k6/metrics': RECORDING_METRICS_STUB,
  'k6/execution': `
    const abort = (reason) => { globalThis.__api.aborts.push(reason); throw new Error('aborted: ' + reason); };
    export default { vu: { idInTest: 1 }, scenario: { name: 'eventual' }, test: { abort, options: { tags: {} } } };`,
  'k6/http': `
    import { probeEmail } from './lib/api/sql.ts';
    const api = () => {
      const a = globalThis.__api;
      if (a.down) throw Object.assign(new Error(a.down), { name: 'GoError' });
      return a;
    };
    const answer = (status, body, headers = {}) => ({
      status, headers, error: '', timings: { duration: 1 },
      body: body === undefined ? '' : JSON.stringify(body),
      json() { return JSON.parse(this.body); },
    });
    export const expectedStatuses = (...s) => ({ s });
    function post(url, body) {
      const a = api(); const path = new URL(url).pathname; const b = JSON.parse(body);
      if (path === '/users') {
        const id = a.users.length + 1; a.users.push({ id, ...b });
        return answer(201, { id, ...b }, { 'X-Consistency-Token': '0-1-' + id });
      }
      if (path === '/probe-acks') {
        if (a.failAcks) return answer(503, { statusCode: 503, error: 'Service Unavailable', message: 'writer database unavailable' });
        a.ackPosts.push(b);
        for (const k of b.acks) a.acks.push({ runId: b.runId, runner: b.runner, ...k });
        return answer(204);
      }
      throw new Error('unexpected POST ' + path);
    }
    function get(url) {
      const a = api(); const u = new URL(url);
      if (u.pathname === '/readyz')
        return a.unready
          ? answer(503, { status: 'unready', writer: { reachable: false, error: 'connect ECONNREFUSED 127.0.0.1:23306' } })
          : answer(200, { status: 'ready' });
      const user = u.pathname.match(/^\\/users\\/(\\d+)$/);
      if (user) {
        const found = a.users.find((x) => x.id === Number(user[1]));
        return found
          ? answer(200, found, { 'X-Read-Source': 'replica', 'X-Visibility-Lag-Us': '51300', 'X-Visibility-Basis': 'apply-stamp' })
          : answer(404, { statusCode: 404, error: 'Not Found', message: 'no' });
      }
      const report = u.pathname.match(/^\\/probe-acks\\/([^/]+)\\/([^/]+)$/);
      if (report) {
        a.reports.push(u.searchParams.get('endpoint'));
        const [runId, runner] = [decodeURIComponent(report[1]), decodeURIComponent(report[2])];
        const emails = new Set(a.users.map((x) => x.email));
        const byVu = new Map();
        for (const k of a.acks) if (k.runId === runId && k.runner === runner) {
          const c = byVu.get(k.vu) ?? { vu: k.vu, acked: 0, missing: 0 };
          c.acked++; if (!emails.has(probeEmail({ runId, runner, vu: k.vu, seq: k.seq }))) c.missing++;
          byVu.set(k.vu, c);
        }
        return answer(200, { endpoint: u.searchParams.get('endpoint'), vus: [...byVu.values()] });
      }
      throw new Error('unexpected GET ' + u.pathname);
    }
    export default { expectedStatuses, get, post };`,
};

interface Sample {
  name: string;
  value: number;
  tags: Record<string, string>;
}
interface FakeApi {
  users: { id: number; email: string }[];
  acks: { runId: string; runner: string; vu: number; seq: number }[];
  ackPosts: { runId: string; runner: string; acks: unknown[] }[];
  reports: string[];
  failAcks: boolean;
  /** Every request throws this (no answer). */
  down?: string;
  unready?: boolean;
  aborts: string[];
}
type Mod = Record<string, (...args: unknown[]) => unknown>;

async function load(scenario: string, env: Record<string, string> = {}) {
  const samples: Sample[] = [];
  const api: FakeApi = { users: [], acks: [], ackPosts: [], reports: [], failAcks: false, aborts: [] };
  const mod = (await evaluateBundle(built.path(scenario), HTTP_STUBS, {
    __samples: samples,
    __api: api,
    __ENV: { CQRS_TEST_ID: 'api1', ...env },
  })) as Mod;
  return { mod, samples, api };
}

const total = (samples: Sample[], name: string, tags: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(tags).every(([k, v]) => s.tags[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
const values = (samples: Sample[], name: string) =>
  samples.filter((s) => s.name === name).map((s) => s.value);

describe('API scenario lifecycle over HTTP only (stubbed k6/http)', () => {
  it('batches at most what the API takes per request', () => {
    expect(ACK_BATCH).toBeLessThanOrEqual(ACKS_PER_REQUEST);
  });

  it('read-after-write: server-side visibility, acks batched until flushLedger, reconciled through the API', async () => {
    const { mod, samples, api } = await load('api-read-after-write', { CQRS_API_STRATEGIES: 'eventual' });
    const run = mod.setup?.();
    for (let i = 0; i < 3; i++) mod.probe?.(run);
    // 51300 µs from X-Visibility-Lag-Us, not the client's clock.
    expect(values(samples, K6_METRICS.visibilityLag.name)).toEqual([51.3, 51.3, 51.3]);
    expect(total(samples, K6_METRICS.ackedWrites.name)).toBe(3);
    // Below one batch nothing is posted until the end of the run.
    expect(api.ackPosts).toEqual([]);
    mod.flushLedger?.();
    expect(api.ackPosts).toHaveLength(1);
    expect(api.ackPosts[0]).toMatchObject({ runId: 'api1', runner: '0' });
    expect(api.ackPosts[0]?.acks).toEqual([0, 1, 2].map((seq) => ({ vu: 1, seq })));
    expect(total(samples, K6_METRICS.ledgerFlushed.name)).toBe(3);
    // Setup asked the writer's ledger whether the run id was free; teardown reconciled on both.
    mod.teardown?.(run);
    expect(api.reports).toEqual(['writer', 'writer', 'reader']);
    expect(total(samples, K6_METRICS.reconcileChecked.name)).toBe(3);
    expect(total(samples, K6_METRICS.reconcileMissingWriter.name)).toBe(0);
    expect(total(samples, K6_METRICS.reconcileMissingReader.name)).toBe(0);
    expect(total(samples, K6_METRICS.apiErrors.name)).toBe(0);
  });

  it('flushes a full batch during the run, and the rest at the end', async () => {
    const { mod, samples, api } = await load('api-read-after-write', { CQRS_API_STRATEGIES: 'eventual' });
    const run = mod.setup?.();
    for (let i = 0; i < ACK_BATCH + 1; i++) mod.probe?.(run);
    expect(api.ackPosts.map((p) => p.acks.length)).toEqual([ACK_BATCH]);
    mod.flushLedger?.();
    expect(api.ackPosts.map((p) => p.acks.length)).toEqual([ACK_BATCH, 1]);
    expect(total(samples, K6_METRICS.ledgerFlushed.name)).toBe(ACK_BATCH + 1);
  });

  it('api-mixed: recordAck goes through the ledger too', async () => {
    const { mod, samples, api } = await load('api-mixed', { CQRS_READ_RATIO: '0' });
    const run = mod.setup?.();
    for (let i = 0; i < 4; i++) mod.mixed?.(run);
    mod.flushLedger?.();
    expect(api.acks).toHaveLength(4);
    mod.teardown?.(run);
    expect(total(samples, K6_METRICS.ackedWrites.name)).toBe(4);
    expect(total(samples, K6_METRICS.reconcileChecked.name)).toBe(4);
    expect(total(samples, K6_METRICS.reconcileMissingWriter.name)).toBe(0);
  });

  it('a failed ledger POST counts an API error, keeps the acks buffered and writes them on the next flush', async () => {
    const { mod, samples, api } = await load('api-read-after-write', { CQRS_API_STRATEGIES: 'eventual' });
    const run = mod.setup?.();
    mod.probe?.(run);
    api.failAcks = true;
    // The flush scenario logs the failure; it never throws out of the VU.
    mod.flushLedger?.();
    expect(total(samples, K6_METRICS.apiErrors.name, { route: 'POST /probe-acks' })).toBe(1);
    expect(total(samples, K6_METRICS.ledgerFlushed.name)).toBe(0);
    api.failAcks = false;
    mod.flushLedger?.();
    expect(api.acks).toHaveLength(1);
    expect(total(samples, K6_METRICS.ledgerFlushed.name)).toBe(1);
  });
});

const refused = 'Post "http://127.0.0.1:28080/users": dial tcp 127.0.0.1:28080: connect: connection refused';

describe('API scenarios fail fast and say why once', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });
  const errorLines = () => vi.mocked(console.error).mock.calls.map((c) => String(c[0]));

  it('ask k6 to throw on requests nobody answers, instead of a "Request Failed" warning each', async () => {
    for (const name of API_SCENARIOS)
      expect((await evaluate(name)).options, name).toMatchObject({ throw: true });
  });

  it('setup checks GET /readyz: an API nobody answers is one line and an abort', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    for (const name of API_SCENARIOS) {
      vi.mocked(console.error).mockClear();
      const { mod, api, samples } = await load(name);
      api.down = 'Get "http://127.0.0.1:28080/readyz": dial tcp 127.0.0.1:28080: connect: connection refused';
      expect(() => mod.setup?.(), name).toThrow(/aborted/);
      expect(api.aborts, name).toEqual([
        `${name}: 1 of 1 endpoints failed the setup check (API); no load was sent`,
      ]);
      expect(errorLines(), name).toEqual([
        `${name} setup: API (http://127.0.0.1:28080) failed its check: GET /readyz got no answer: ${api.down}`,
      ]);
      expect(
        samples.filter((s) => s.name === K6_METRICS.apiErrors.name),
        name,
      ).toEqual([]);
    }
  });

  it('an API whose writer is down (/readyz 503) is refused with what /readyz said', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    const { mod, api } = await load('api-mixed');
    api.unready = true;
    expect(() => mod.setup?.()).toThrow(/aborted/);
    expect(errorLines()).toEqual([
      'api-mixed setup: API (http://127.0.0.1:28080) failed its check: GET /readyz answered 503: its writer is unreachable: connect ECONNREFUSED 127.0.0.1:23306',
    ]);
  });

  it('refuses a run id the API ledger holds acknowledgements of, unless CQRS_REUSE_TEST_ID=1', async () => {
    const { mod, api } = await load('api-read-after-write', { CQRS_API_STRATEGIES: 'eventual' });
    const run = mod.setup?.();
    mod.probe?.(run);
    mod.flushLedger?.();
    expect(() => mod.setup?.()).toThrow(/aborted/);
    expect(api.aborts).toEqual([
      "api-read-after-write: CQRS_TEST_ID=api1 is already used (runner 0): the API's ledger holds 1 acknowledgements of it (1 VUs); choose a new CQRS_TEST_ID, or set CQRS_REUSE_TEST_ID=1 to add this run to it",
    ]);
    // api-seed-compat keeps no rows per run id: nothing to refuse.
    const compat = await load('api-seed-compat');
    compat.api.acks.push({ runId: 'api1', runner: '0', vu: 1, seq: 0 });
    expect(compat.mod.setup?.()).toMatchObject({ runId: 'api1' });
    const reused = await load('api-read-after-write', {
      CQRS_API_STRATEGIES: 'eventual',
      CQRS_REUSE_TEST_ID: '1',
    });
    reused.api.acks.push({ runId: 'api1', runner: '0', vu: 1, seq: 0 });
    const again = reused.mod.setup?.() as { seqBase: number };
    expect(again.seqBase).toBeGreaterThan(1e12);
  });

  it('every exec function catches a dead API: counted by kind, a few lines, api_errors per request', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => {});
    for (const name of API_SCENARIOS) {
      vi.mocked(console.error).mockClear();
      const { mod, api, samples } = await load(name, { CQRS_API_STRATEGIES: 'eventual' });
      const run = mod.setup?.();
      api.down = refused;
      const scenarios = (mod.options as unknown as ScenarioOptions).scenarios;
      const execs = [
        ...new Set(
          Object.entries(scenarios)
            .filter(([n]) => n !== 'ledger_flush')
            .map(([, sc]) => sc.exec ?? 'default'),
        ),
      ];
      for (const exec of execs)
        for (let i = 0; i < 50; i++) expect(() => mod[exec]?.(run), name).not.toThrow();
      const kinds = samples
        .filter((x) => x.name === K6_METRICS.iterationErrors.name && x.value > 0)
        .map((x) => x.tags.kind);
      expect(kinds.length, name).toBe(50 * execs.length);
      expect(new Set(kinds), name).toEqual(new Set(['api-unreachable']));
      expect(total(samples, K6_METRICS.apiErrors.name), name).toBe(50 * execs.length);
      expect(errorLines(), name).toHaveLength(3);
      expect(errorLines()[0], name).toMatch(
        /^iteration error \[api-unreachable\] \(vu 1\): \S+ \S+ \(eventual\) got no answer: /,
      );
    }
  });
});
