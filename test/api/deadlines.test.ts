/**
 * Every database call has a deadline (api/db.ts), and gtid-wait's waits cannot take the reader pool
 * (api/read/gtid-wait.ts). A paused replica (SIGSTOP: sockets open, no answers) must cost each request at most
 * its deadline, with the strategy's fallback or a 503 + Retry-After, counted; and a flood of waits that cannot
 * be reached must leave other clients' replica reads as fast as without it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { poolStats } from '../../api/plugins/mysql-pool.ts';
import { cacheKeys } from '../../api/users/sql.ts';
import {
  type ApiFixture,
  eventually,
  pauseReplica,
  quantile,
  startApiFixture,
  uniqueEmail,
} from './fixture.ts';

let fx: ApiFixture;
let base: string;
let resume: (() => void) | undefined;

beforeAll(async () => {
  fx = await startApiFixture();
  base = await fx.app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  resume?.();
  await fx?.close();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fx.app.inject({ method: 'GET', url: path, headers });

async function created(): Promise<{ id: number; email: string; token: string }> {
  const email = uniqueEmail('deadline');
  const res = await fx.app.inject({ method: 'POST', url: '/users', payload: { email, name: 'deadline' } });
  expect(res.statusCode, res.body).toBe(201);
  return { id: res.json<{ id: number }>().id, email, token: String(res.headers['x-consistency-token']) };
}

/** `work`, timed; rejects if it has not settled within `boundMs` (today's main hung for the whole pause). */
async function within<T>(boundMs: number, work: Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${boundMs} ms`)), boundMs);
  });
  try {
    return { value: await Promise.race([work, bound]), ms: performance.now() - t0 };
  } finally {
    clearTimeout(timer);
  }
}

const counter = async (
  name: 'dbTimeouts' | 'readFallbacks' | 'unavailable',
  labels: Record<string, string>,
) => {
  const metric = await fx.app.metrics[name].get();
  return metric.values
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
};

describe('a paused replica', () => {
  it('costs each read at most its deadline: fallbacks where the strategy has one, else 503 + Retry-After', async () => {
    const { config } = fx;
    const user = await created();
    const cachedOnly = await created();
    // Both on the replica before the pause (so the token is one the replica has).
    expect(await eventually(async () => (await get(`/users/${user.id}`)).statusCode === 200)).toBe(true);
    // A cache miss: its keys gone, so the read has to go past Redis.
    await fx.app.redis.del(cacheKeys.byId(user.id), cacheKeys.byEmail(user.email));
    const before = {
      timeouts: await counter('dbTimeouts', { pool: 'reader' }),
      gtidFallbacks: await counter('readFallbacks', { strategy: 'gtid-wait', reason: 'replica_unavailable' }),
      cacheFallbacks: await counter('readFallbacks', { strategy: 'cache', reason: 'replica_unavailable' }),
      unavailable: await counter('unavailable', { dependency: 'reader' }),
    };

    resume = pauseReplica(fx.stack);
    // Generous: what matters is that every answer comes while the replica is still paused.
    const boundMs = config.gtidWaitTimeoutMs + config.dbTimeoutMs + 6000;
    const [eventual, sticky, gtid, cacheMiss, cacheHit, primary, write, ready] = await Promise.all([
      within(boundMs, get(`/users/${user.id}`, { 'x-read-consistency': 'eventual' })),
      within(
        boundMs,
        get(`/users/${user.id}`, { 'x-read-consistency': 'sticky', 'x-client-id': 'no-writes' }),
      ),
      within(
        boundMs,
        get(`/users/${user.id}`, { 'x-read-consistency': 'gtid-wait', 'x-consistency-token': user.token }),
      ),
      within(boundMs, get(`/users/${user.id}`, { 'x-read-consistency': 'cache' })),
      within(boundMs, get(`/users/${cachedOnly.id}`, { 'x-read-consistency': 'cache' })),
      within(boundMs, get(`/users/${user.id}`, { 'x-read-consistency': 'primary' })),
      within(boundMs, created()),
      within(boundMs, get('/readyz')),
    ]);
    try {
      for (const res of [eventual.value, sticky.value]) {
        expect(res.statusCode, res.body).toBe(503);
        expect(res.headers['retry-after']).toMatch(/^\d+$/);
        expect(res.json<{ message: string }>().message).toMatch(
          /reader database unavailable: no (answer|connection) within/,
        );
      }
      expect(gtid.value.statusCode, gtid.value.body).toBe(200);
      expect(gtid.value.headers['x-read-source']).toBe('primary');
      expect(gtid.value.headers['x-read-fallback']).toBe('replica_unavailable');
      expect(cacheMiss.value.statusCode, cacheMiss.value.body).toBe(200);
      expect(cacheMiss.value.headers['x-read-source']).toBe('primary');
      expect(cacheMiss.value.headers['x-read-fallback']).toBe('replica_unavailable');
      // Neither touches the replica: as fast as ever.
      expect(cacheHit.value.headers['x-read-source']).toBe('cache');
      expect(primary.value.statusCode).toBe(200);
      expect(write.value.token).toMatch(/^\d+-\d+-\d+$/);
      expect(ready.value.statusCode).toBe(200);
      expect(ready.value.json<{ replica: { reachable: boolean } }>().replica.reachable).toBe(false);
      for (const r of [cacheHit, primary, write]) expect(r.ms).toBeLessThan(config.dbTimeoutMs);
    } finally {
      resume();
    }
    expect(await counter('dbTimeouts', { pool: 'reader' })).toBeGreaterThan(before.timeouts);
    expect(await counter('readFallbacks', { strategy: 'gtid-wait', reason: 'replica_unavailable' })).toBe(
      before.gtidFallbacks + 1,
    );
    expect(await counter('readFallbacks', { strategy: 'cache', reason: 'replica_unavailable' })).toBe(
      before.cacheFallbacks + 1,
    );
    expect(await counter('unavailable', { dependency: 'reader' })).toBe(before.unavailable + 2);

    // The connections that overran were dropped, not pooled: after the resume every read works.
    expect(await eventually(async () => (await get(`/users/${user.id}`)).statusCode === 200)).toBe(true);
    const after = await Promise.all(Array.from({ length: 30 }, () => get(`/users/${user.id}`)));
    expect(after.map((r) => r.statusCode)).toEqual(after.map(() => 200));
  });
});

describe('a flood of gtid-waits', () => {
  /** Sequential plain `eventual` reads over HTTP, one client: their latencies in ms. */
  async function plainReads(id: number, n = 300): Promise<number[]> {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const res = await fetch(`${base}/users/${id}`, { headers: { 'x-read-consistency': 'eventual' } });
      await res.arrayBuffer();
      ms.push(performance.now() - t0);
      expect(res.status).toBe(200);
    }
    return ms;
  }

  it('of 50 tokens from the future leaves other clients’ replica reads within 2× their p99', async () => {
    const { id } = await created();
    expect(await eventually(async () => (await get(`/users/${id}`)).statusCode === 200)).toBe(true);
    await plainReads(id, 100); // warm-up: JIT, keep-alive sockets, prepared statements
    const alone = quantile(await plainReads(id), 0.99);

    // A valid token no server has (MariaDB's largest sequence number): each wait holds on for the timeout.
    const future = { 'x-read-consistency': 'gtid-wait', 'x-consistency-token': '0-1-18446744073709551615' };
    let flooding = true;
    const answers: { status: number; fallback: string | null; ms: number }[] = [];
    const flooder = async () => {
      while (flooding) {
        const t0 = performance.now();
        const res = await fetch(`${base}/users/${id}`, { headers: future });
        await res.arrayBuffer();
        answers.push({
          status: res.status,
          fallback: res.headers.get('x-read-fallback'),
          ms: performance.now() - t0,
        });
      }
    };
    const flood = Array.from({ length: 50 }, flooder);
    const waits = fx.app.consistency.deps.gtidWait;
    expect(await eventually(async () => waits.full, 5000)).toBe(true);
    let flooded: number[];
    let readerBusy: number;
    try {
      flooded = await plainReads(id);
      const s = poolStats(fx.app.reader);
      readerBusy = s.total - s.idle;
    } finally {
      flooding = false;
      await Promise.all(flood);
    }
    const again = quantile(await plainReads(id), 0.99);
    const normal = Math.max(alone, again);
    const during = quantile(flooded, 0.99);
    console.log(
      `eventual p99 alone ${alone.toFixed(2)} ms / after ${again.toFixed(2)} ms, during a 50-wait flood ${during.toFixed(2)} ms`,
    );
    expect(during, `p99 ${during} ms during the flood vs ${normal} ms without`).toBeLessThanOrEqual(
      2 * normal + 10,
    );
    // The waits never took a reader connection: at most the one plain read in flight.
    expect(readerBusy).toBeLessThanOrEqual(1);
    // Every flood request got its answer from the primary once its wait timeout was spent, none a 5xx.
    expect(answers.length).toBeGreaterThan(0);
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(['timeout', 'wait_busy']).toContain(a.fallback);
      expect(a.ms).toBeLessThan(fx.config.gtidWaitTimeoutMs + fx.config.dbTimeoutMs + 3000);
    }
  });
});
