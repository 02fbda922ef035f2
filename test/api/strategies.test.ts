/**
 * Each read strategy against a real replica 50 ms behind (delay proxy): write, read at once, count stale
 * reads. Then a frozen replica for the gtid-wait fallback, and the /metrics series the run produced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_METRICS } from '../../common/metrics.ts';
import type { Strategy } from '../../common/strategies.ts';
import { type ApiFixture, p50, startApiFixture, uniqueEmail } from './fixture.ts';

const LAG_MS = 50;
const ROUNDS = 20;
let fx: ApiFixture;

beforeAll(async () => {
  // A timeout well above the lag, so only the frozen replica makes gtid-wait fall back.
  fx = await startApiFixture({ CQRS_API_GTID_WAIT_TIMEOUT_MS: '300' });
  await fx.stack.setLag(`${LAG_MS}ms`);
});

afterAll(async () => {
  await fx?.close();
});

interface Round {
  stale: boolean;
  source: string | undefined;
  readMs: number;
  waitMs: number | undefined;
  fallback: string | undefined;
}

async function writeThenRead(strategy: Strategy, clientId: string): Promise<Round> {
  const created = await fx.app.inject({
    method: 'POST',
    url: '/users',
    headers: { 'x-client-id': clientId },
    payload: { email: uniqueEmail(strategy), name: `probe ${strategy}` },
  });
  expect(created.statusCode).toBe(201);
  const token = created.headers['x-consistency-token'];
  expect(token).toMatch(/^\d+-\d+-\d+$/);
  const { id } = created.json() as { id: number };
  const started = performance.now();
  const read = await fx.app.inject({
    method: 'GET',
    url: `/users/${id}`,
    headers: {
      'x-read-consistency': strategy,
      'x-client-id': clientId,
      'x-consistency-token': String(token),
    },
  });
  const readMs = performance.now() - started;
  expect([200, 404]).toContain(read.statusCode);
  const wait = read.headers['x-read-wait-ms'];
  return {
    stale: read.statusCode === 404,
    source: read.headers['x-read-source'] as string | undefined,
    readMs,
    waitMs: wait === undefined ? undefined : Number(wait),
    fallback: read.headers['x-read-fallback'] as string | undefined,
  };
}

async function run(strategy: Strategy): Promise<Round[]> {
  const rounds: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await writeThenRead(strategy, `client-${strategy}`));
  return rounds;
}

const staleShare = (rounds: Round[]) => rounds.filter((r) => r.stale).length / rounds.length;

describe(`read strategies with ${LAG_MS} ms replica lag`, () => {
  it('eventual reads the replica and misses most fresh writes', async () => {
    const rounds = await run('eventual');
    expect(staleShare(rounds)).toBeGreaterThan(0.5);
    expect(new Set(rounds.map((r) => r.source))).toEqual(new Set(['replica']));
  });

  it('primary never misses', async () => {
    const rounds = await run('primary');
    expect(staleShare(rounds)).toBe(0);
    expect(new Set(rounds.map((r) => r.source))).toEqual(new Set(['primary']));
  });

  it('gtid-wait never misses, serves from the replica, and costs about the lag', async () => {
    const rounds = await run('gtid-wait');
    expect(staleShare(rounds)).toBe(0);
    expect(new Set(rounds.map((r) => r.source))).toEqual(new Set(['replica']));
    expect(rounds.every((r) => r.waitMs !== undefined && r.fallback === undefined)).toBe(true);
    const median = p50(rounds.map((r) => r.readMs));
    expect(median).toBeGreaterThan(LAG_MS / 2);
    expect(median).toBeLessThanOrEqual(LAG_MS + 20);
  });

  it('sticky never misses: the writer reads the primary inside its window', async () => {
    const rounds = await run('sticky');
    expect(staleShare(rounds)).toBe(0);
    expect(new Set(rounds.map((r) => r.source))).toEqual(new Set(['primary']));
  });

  it('sticky sends a client without recent writes to the replica', async () => {
    const res = await fx.app.inject({
      method: 'GET',
      url: '/users?email=nobody%40example.test',
      headers: { 'x-read-consistency': 'sticky', 'x-client-id': 'never-wrote' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-read-source']).toBe('replica');
  });

  it('cache never misses: reads hit the write-through copy', async () => {
    const rounds = await run('cache');
    expect(staleShare(rounds)).toBe(0);
    expect(new Set(rounds.map((r) => r.source))).toEqual(new Set(['cache']));
  });

  it('GET /get counts its empty results as stale reads', async () => {
    let empty = 0;
    for (let i = 0; i < 10; i++) {
      const res = await fx.app.inject({ method: 'GET', url: '/get?consistency=eventual' });
      expect(res.statusCode).toBe(200);
      if ((res.json() as unknown[]).length === 0) empty += 1;
    }
    expect(empty).toBeGreaterThan(5);
    const consistent = await fx.app.inject({
      method: 'GET',
      url: '/get',
      headers: { 'x-read-consistency': 'gtid-wait' },
    });
    expect(consistent.json()).toHaveLength(1);
    const text = await fx.app.metrics.registry.getSingleMetricAsString(API_METRICS.staleReads.name);
    expect(text).toMatch(new RegExp(`${API_METRICS.staleReads.name}\\{strategy="eventual"\\} ${empty}`));
  });
});

describe('gtid-wait with a frozen replica', () => {
  it('times out, falls back to the primary, and counts it', async () => {
    await fx.stack.setLag('freeze');
    try {
      const before = (await fx.app.metrics.gtidWaitTimeouts.get()).values[0]?.value ?? 0;
      const round = await writeThenRead('gtid-wait', 'client-frozen');
      expect(round.stale).toBe(false);
      expect(round.source).toBe('primary');
      expect(round.fallback).toBe('timeout');
      expect(round.waitMs).toBeGreaterThanOrEqual(fx.config.gtidWaitTimeoutMs - 5);
      const after = (await fx.app.metrics.gtidWaitTimeouts.get()).values[0]?.value ?? 0;
      expect(after - before).toBe(1);
      const fallbacks = await fx.app.metrics.gtidWaitFallbacks.get();
      expect(fallbacks.values.find((v) => v.labels.reason === 'timeout')?.value).toBeGreaterThanOrEqual(1);
      // The eventual baseline on a frozen replica: every fresh read is stale.
      expect((await writeThenRead('eventual', 'client-frozen')).stale).toBe(true);
    } finally {
      await fx.stack.setLag('thaw');
    }
  });
});

describe('/metrics', () => {
  it('exposes every documented series with its labels', async () => {
    // A cache miss (an id nobody wrote) so the cache counter has both results.
    await fx.app.inject({
      method: 'GET',
      url: '/users/999999999',
      headers: { 'x-read-consistency': 'cache' },
    });
    const res = await fx.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    const lines = res.body.split('\n').filter((l) => l && !l.startsWith('#'));
    for (const def of Object.values(API_METRICS)) {
      const sample = def.kind === 'histogram' ? `${def.name}_bucket` : def.name;
      const found = lines.filter((l) => l.startsWith(`${sample}{`) || l.startsWith(`${sample} `));
      expect(found.length, `${def.name} has samples`).toBeGreaterThan(0);
      const labelKeys = (line: string) => [...line.matchAll(/([a-z_]+)="/g)].map((m) => m[1]);
      const withLabels = found.filter((l) => def.labels.every((k) => labelKeys(l).includes(k)));
      expect(withLabels.length, `${def.name} carries ${def.labels.join(',')}`).toBeGreaterThan(0);
    }
    expect(res.body).toMatch(
      /cqrs_api_request_duration_seconds_bucket\{[^}]*route="\/users\/:id"[^}]*strategy="gtid-wait"[^}]*source="replica"/,
    );
    expect(res.body).toMatch(/cqrs_api_cache_requests_total\{result="hit"\}/);
    expect(res.body).toMatch(/cqrs_api_cache_requests_total\{result="miss"\}/);
    expect(res.body).toMatch(/cqrs_api_pool_connections\{pool="reader",state="idle"\}/);
  });
});
