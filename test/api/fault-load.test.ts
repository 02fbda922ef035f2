/**
 * The API as the stack runs it (its own process, real HTTP) under a bounded load loop while its dependencies
 * fail in turn: the replica paused (SIGSTOP: connections open, no answers), the replica killed, Redis stopped,
 * and the API itself restarted. Four clients write users and read each one back their own way (`primary`,
 * `eventual`, `gtid-wait` with the token, `cache`), about 30 iterations a second each. Checked: no acknowledged
 * write lost; the clients whose strategy does not need the failed service keep their latency; every answer is
 * a documented one (a fallback where the strategy has one, else 503 with Retry-After), within its deadline, and
 * the fallbacks and timeouts are counted. No k6: this runs in `.ci/run` with the rest of the suite.
 */
import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../api/config.ts';
import { mysqlUrl } from '../../common/endpoints.ts';
import { startTestStack, type TestStack } from '../kit/stack.ts';
import { eventually, pauseReplica } from './fixture.ts';

type Client = 'primary' | 'eventual' | 'gtid-wait' | 'cache';
const CLIENTS: Client[] = ['primary', 'eventual', 'gtid-wait', 'cache'];
type Phase =
  | 'baseline'
  | 'replica-paused'
  | 'replica-killed'
  | 'redis-stopped'
  | 'api-restart'
  | 'recovering';

interface Sample {
  client: Client;
  phase: Phase;
  op: 'write' | 'read';
  /** 0: no HTTP answer (connection refused or reset). */
  status: number;
  ms: number;
  retryAfter: string | null;
  fallback: string | null;
}

/** The API process runs with the defaults (api/config.ts): what the bounds below are made of. */
const defaults = loadConfig({});
/** Generous on purpose (a shared 2-core machine); what is normal is a few ms. */
const UNAFFECTED_MS = 1500;
const SLACK_MS = 2000;

let stack: TestStack;
let api: string;
let writer: Pool;
let resume: (() => void) | undefined;

beforeAll(async () => {
  stack = await startTestStack({ api: true });
  api = stack.endpoints.apiUrl;
  writer = createPool({ uri: mysqlUrl(stack.endpoints.writer), connectionLimit: 2 });
});

afterAll(async () => {
  resume?.();
  await writer?.end();
  await stack?.down();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the API under a load loop while its dependencies fail', () => {
  it('loses no acknowledged write and answers every request as documented, in bounded time', async () => {
    let phase: Phase = 'baseline';
    let running = true;
    const samples: Sample[] = [];
    const acked: string[] = [];

    async function call(client: Client, op: Sample['op'], path: string, init: RequestInit) {
      const at = phase;
      const t0 = performance.now();
      try {
        const res = await fetch(`${api}${path}`, { ...init, signal: AbortSignal.timeout(15_000) });
        const body = await res.text();
        samples.push({
          client,
          phase: at,
          op,
          status: res.status,
          ms: performance.now() - t0,
          retryAfter: res.headers.get('retry-after'),
          fallback: res.headers.get('x-read-fallback'),
        });
        return { res, body };
      } catch {
        samples.push({
          client,
          phase: at,
          op,
          status: 0,
          ms: performance.now() - t0,
          retryAfter: null,
          fallback: null,
        });
        return undefined;
      }
    }

    async function loop(client: Client) {
      for (let i = 0; running; i++) {
        const email = `fault-${client}-${process.pid}-${Date.now()}-${i}@example.test`;
        const created = await call(client, 'write', '/users', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email, name: client }),
        });
        if (created?.res.status === 201) {
          acked.push(email);
          const { id } = JSON.parse(created.body) as { id: number };
          const token = created.res.headers.get('x-consistency-token');
          await call(client, 'read', `/users/${id}`, {
            headers: {
              'x-read-consistency': client,
              ...(client === 'gtid-wait' && token ? { 'x-consistency-token': token } : {}),
            },
          });
        }
        await sleep(client === 'primary' ? 20 : 30);
      }
    }
    const loops = CLIENTS.map(loop);
    const metricsText = async () => (await fetch(`${api}/metrics`)).text();
    let counted = '';

    try {
      await sleep(1500);
      phase = 'replica-paused';
      resume = pauseReplica(stack);
      await sleep(5000);
      resume();
      phase = 'recovering';
      await sleep(1500);

      phase = 'replica-killed';
      await stack.stopService('replica');
      await sleep(2500);
      await stack.startService('replica');
      phase = 'recovering';
      expect(
        await eventually(async () => (await fetch(`${api}/users/1`)).status !== 503),
        'eventual reads come back after the replica restarts',
      ).toBe(true);

      phase = 'redis-stopped';
      await stack.stopService('redis');
      await sleep(2500);
      await stack.startService('redis');
      phase = 'recovering';
      await sleep(1000);
      counted = await metricsText();

      phase = 'api-restart';
      await stack.stopService('api');
      await stack.startService('api');
      phase = 'recovering';
      await sleep(1500);
    } finally {
      running = false;
      await Promise.all(loops);
    }

    const where = (f: Partial<Sample>) =>
      samples.filter((s) => Object.entries(f).every(([k, v]) => s[k as keyof Sample] === v));
    const describeSamples = (list: Sample[]) =>
      list
        .slice(0, 5)
        .map((s) => `${s.client} ${s.op} ${s.phase} ${s.status} ${s.ms.toFixed(0)} ms ${s.fallback ?? ''}`)
        .join('; ');

    // What happened, per phase and client (for the log; the checks follow).
    const summary = new Map<string, Sample[]>();
    for (const s of samples) {
      const key = `${s.phase.padEnd(14)} ${s.client.padEnd(9)} ${s.op.padEnd(5)}`;
      summary.set(key, [...(summary.get(key) ?? []), s]);
    }
    console.log(
      [...summary]
        .map(([key, list]) => {
          const statuses = [...new Set(list.map((s) => s.status))].sort().join('/');
          const max = Math.max(...list.map((s) => s.ms));
          const fallbacks = [...new Set(list.flatMap((s) => (s.fallback ? [s.fallback] : [])))].join('/');
          return `${key} n=${String(list.length).padStart(4)} status ${statuses.padEnd(11)} max ${max.toFixed(0).padStart(4)} ms ${fallbacks}`;
        })
        .join('\n'),
    );

    // 1. Nothing acknowledged is lost (checked on the writer, where every 201 committed).
    expect(acked.length).toBeGreaterThan(100);
    const [rows] = await writer.query<RowDataPacket[]>('SELECT email FROM users WHERE email IN (?)', [acked]);
    const stored = new Set(rows.map((r) => r.email as string));
    const missing = acked.filter((e) => !stored.has(e));
    expect(missing, `${missing.length} of ${acked.length} acknowledged writes missing`).toEqual([]);

    // 2. Only documented answers: never a 500, and every 503 says when to retry.
    const bad = samples.filter((s) => s.status >= 500 && s.status !== 503);
    expect(bad, describeSamples(bad)).toEqual([]);
    const noRetryAfter = samples.filter((s) => s.status === 503 && !/^\d+$/.test(s.retryAfter ?? ''));
    expect(noRetryAfter, describeSamples(noRetryAfter)).toEqual([]);

    // 3. While the API runs, the writer and the primary answer whatever happens to the replica and Redis.
    const live = samples.filter((s) => s.phase !== 'api-restart');
    const failedWrites = live.filter((s) => s.op === 'write' && s.status !== 201);
    expect(failedWrites, describeSamples(failedWrites)).toEqual([]);
    const primaryReads = where({ client: 'primary', op: 'read' }).filter((s) => s.phase !== 'api-restart');
    expect(primaryReads.every((s) => s.status === 200)).toBe(true);
    // ... and those clients keep their latency: nothing they do waits for the failed service.
    const slow = live.filter((s) => (s.op === 'write' || s.client === 'primary') && s.ms > UNAFFECTED_MS);
    expect(slow, describeSamples(slow)).toEqual([]);

    for (const fault of ['replica-paused', 'replica-killed'] as const) {
      // 4. eventual has no fallback: 503 + Retry-After, within the database deadline (the pause lasts 5 s).
      const eventual = where({ client: 'eventual', op: 'read', phase: fault });
      expect(
        eventual.some((s) => s.status === 503),
        fault,
      ).toBe(true);
      expect(
        eventual.every((s) => [200, 404, 503].includes(s.status)),
        describeSamples(eventual),
      ).toBe(true);
      const late = eventual.filter((s) => s.ms > defaults.dbTimeoutMs + SLACK_MS);
      expect(late, describeSamples(late)).toEqual([]);
      // 5. gtid-wait and cache reads fall back to the primary instead: always 200, within their deadlines.
      const gtid = where({ client: 'gtid-wait', op: 'read', phase: fault });
      expect(
        gtid.every((s) => s.status === 200),
        describeSamples(gtid),
      ).toBe(true);
      expect(
        gtid.some((s) => s.fallback === 'replica_unavailable'),
        fault,
      ).toBe(true);
      const lateGtid = gtid.filter(
        (s) => s.ms > defaults.gtidWaitTimeoutMs + defaults.dbTimeoutMs + SLACK_MS,
      );
      expect(lateGtid, describeSamples(lateGtid)).toEqual([]);
      const cached = where({ client: 'cache', op: 'read', phase: fault });
      expect(
        cached.every((s) => s.status === 200),
        describeSamples(cached),
      ).toBe(true);
    }

    // 6. Redis down: cache reads come from the primary, at normal speed.
    const noRedis = where({ client: 'cache', op: 'read', phase: 'redis-stopped' });
    expect(noRedis.length).toBeGreaterThan(0);
    expect(
      noRedis.every((s) => s.status === 200 && s.ms < UNAFFECTED_MS),
      describeSamples(noRedis),
    ).toBe(true);
    expect(noRedis.some((s) => s.fallback === 'cache_unavailable')).toBe(true);

    // 7. The API restart: refused while it was down (not acknowledged, nothing owed), serving again after.
    const afterRestart = samples.slice(samples.findLastIndex((s) => s.phase === 'api-restart') + 1);
    expect(afterRestart.filter((s) => s.op === 'write' && s.status === 201).length).toBeGreaterThan(0);

    // 8. Counted (scraped before the restart reset the process's counters).
    const value = (series: string) =>
      counted
        .split('\n')
        .filter((l) => l.startsWith(series))
        .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    expect(
      value('cqrs_api_read_fallbacks_total{strategy="gtid-wait",reason="replica_unavailable"}'),
    ).toBeGreaterThan(0);
    expect(
      value('cqrs_api_read_fallbacks_total{strategy="cache",reason="cache_unavailable"}'),
    ).toBeGreaterThan(0);
    expect(value('cqrs_api_unavailable_total{dependency="reader"}')).toBeGreaterThan(0);
    expect(value('cqrs_api_db_timeouts_total{pool="reader"')).toBeGreaterThan(0);
  });
});
