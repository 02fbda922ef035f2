/**
 * Faults against the API as the stack runs it (a separate process, real HTTP): the replica down, Redis down,
 * and the API restarted while writes keep coming. Nothing acknowledged may be lost.
 */
import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlUrl } from '../../common/endpoints.ts';
import { API_METRICS } from '../../common/metrics.ts';
import { startTestStack, type TestStack } from '../kit/stack.ts';
import { uniqueEmail } from './fixture.ts';

let stack: TestStack;
let api: string;
let writer: Pool;

beforeAll(async () => {
  stack = await startTestStack({ api: true });
  api = stack.endpoints.apiUrl;
  writer = createPool({ uri: mysqlUrl(stack.endpoints.writer), connectionLimit: 2 });
});

afterAll(async () => {
  await writer?.end();
  await stack?.down();
});

async function createUser(tag: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${api}/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ email: uniqueEmail(tag), name: tag }),
  });
  return { res, body: (await res.json()) as { id: number; email: string } };
}

const read = (path: string, headers: Record<string, string> = {}) => fetch(`${api}${path}`, { headers });

/** Retries `probe` until it returns true; the bound only keeps a broken recovery from hanging the suite. */
async function eventually(probe: () => Promise<boolean>, boundMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('Prometheus', () => {
  it('scrapes the API the stack started, with the registry series', async () => {
    await createUser('scraped');
    const series = `${API_METRICS.requestDuration.name}_count`;
    const scraped = await eventually(async () => {
      const url = `${stack.endpoints.prometheusUrl}/api/v1/query?query=${encodeURIComponent(`${series}{job="cqrs-api"}`)}`;
      const body = (await (await fetch(url)).json()) as { data?: { result?: unknown[] } };
      return (body.data?.result?.length ?? 0) > 0;
    });
    expect(scraped, `${series} in Prometheus`).toBe(true);
  });
});

describe('replica stopped', () => {
  it('eventual gets 503, writes and primary keep working, gtid-wait falls back, readyz stays ready', async () => {
    await stack.stopService('replica');
    try {
      const eventual = await read('/users/1', { 'x-read-consistency': 'eventual' });
      expect(eventual.status).toBe(503);
      expect(eventual.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(((await eventual.json()) as { message: string }).message).toMatch(/reader database unavailable/);

      const { res, body } = await createUser('replica-down');
      expect(res.status).toBe(201);
      const token = res.headers.get('x-consistency-token') ?? '';

      const primary = await read(`/users/${body.id}`, { 'x-read-consistency': 'primary' });
      expect(primary.status).toBe(200);
      expect(primary.headers.get('x-read-source')).toBe('primary');

      const waited = await read(`/users/${body.id}`, {
        'x-read-consistency': 'gtid-wait',
        'x-consistency-token': token,
      });
      expect(waited.status).toBe(200);
      expect(waited.headers.get('x-read-source')).toBe('primary');
      expect(waited.headers.get('x-read-fallback')).toBe('replica_unavailable');

      const ready = await read('/readyz');
      expect(ready.status).toBe(200);
      const report = (await ready.json()) as { status: string; replica: { reachable: boolean } };
      expect(report.status).toBe('ready');
      expect(report.replica.reachable).toBe(false);
    } finally {
      await stack.startService('replica');
    }
    // Dead pooled connections are dropped and replaced: replica reads come back without an API restart.
    const recovered = await eventually(async () => {
      const res = await read('/users/1', { 'x-read-consistency': 'eventual' });
      return res.status !== 503;
    });
    expect(recovered).toBe(true);
  });
});

describe('Redis stopped', () => {
  it('cache reads degrade to the database without errors, and recover', async () => {
    await stack.stopService('redis');
    try {
      for (let i = 0; i < 5; i++) {
        const { res, body } = await createUser('redis-down');
        expect(res.status).toBe(201);
        const byId = await read(`/users/${body.id}`, { 'x-read-consistency': 'cache' });
        expect(byId.status).toBe(200);
        expect(byId.headers.get('x-read-source')).toBe('primary');
        expect(byId.headers.get('x-read-fallback')).toBe('cache_unavailable');
        const byEmail = await read(`/users?email=${encodeURIComponent(body.email)}&consistency=cache`);
        expect(byEmail.status).toBe(200);
        expect(await byEmail.json()).toHaveLength(1);
      }
      const ready = (await (await read('/readyz')).json()) as {
        status: string;
        redis: { reachable: boolean };
      };
      expect(ready.status).toBe('ready');
      expect(ready.redis.reachable).toBe(false);
    } finally {
      await stack.startService('redis');
    }
    const recovered = await eventually(async () => {
      const { body } = await createUser('redis-back');
      const res = await read(`/users/${body.id}`, { 'x-read-consistency': 'cache' });
      return res.headers.get('x-read-source') === 'cache';
    });
    expect(recovered).toBe(true);
  });
});

describe('API restarted under load', () => {
  it('keeps every acknowledged write', async () => {
    const acknowledged: string[] = [];
    let refused = 0;
    let running = true;
    const worker = async (n: number) => {
      let i = 0;
      while (running) {
        const email = `restart-${n}-${i++}-${Date.now()}@example.test`;
        try {
          const res = await fetch(`${api}/users`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ email, name: 'restart' }),
          });
          await res.arrayBuffer();
          if (res.status === 201) acknowledged.push(email);
          else refused += 1;
        } catch {
          // Connection refused or reset while the API is down: not acknowledged, so nothing is owed.
          refused += 1;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const workers = Array.from({ length: 6 }, (_, n) => worker(n));
    await new Promise((r) => setTimeout(r, 700));
    const beforeRestart = acknowledged.length;
    await stack.stopService('api');
    await stack.startService('api');
    const afterStart = acknowledged.length;
    await new Promise((r) => setTimeout(r, 700));
    running = false;
    await Promise.all(workers);

    expect(beforeRestart).toBeGreaterThan(0);
    expect(acknowledged.length).toBeGreaterThan(afterStart);
    const [rows] = await writer.query<RowDataPacket[]>('SELECT email FROM users WHERE email IN (?)', [
      acknowledged,
    ]);
    const stored = new Set(rows.map((r) => r.email as string));
    const missing = acknowledged.filter((e) => !stored.has(e));
    expect(
      missing,
      `${missing.length} of ${acknowledged.length} acknowledged writes missing (${refused} refused)`,
    ).toEqual([]);
  });
});
