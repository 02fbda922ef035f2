/**
 * The cache: its entries' format (api/read/cache.ts), its keys against the real column collation, the
 * read-through fill on a miss (exact entry, both keys, the TTL), and a Redis outage's log (rate-limited) and
 * metrics (every one counted).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCached } from '../../api/read/cache.ts';
import { User } from '../../api/schemas.ts';
import { cacheKeys, collationKey } from '../../api/users/sql.ts';
import { VISIBILITY_HEADERS } from '../../common/visibility.ts';
import { type ApiFixture, eventually, startApiFixture, uniqueEmail } from './fixture.ts';

const user = { id: 3, email: 'a@b.co', name: 'Ann', created_at: '2026-01-01T00:00:00.000Z' };

describe('cached users', () => {
  it('come back as the User fields alone, with the visibility they were stored with', () => {
    const json = JSON.stringify({ ...user, visibility: { lagUs: 612, basis: 'cache-set' } });
    expect(decodeCached(json)).toEqual({ user, visibility: { lagUs: 612, basis: 'cache-set' } });
    expect(Object.keys(decodeCached(json).user)).toEqual(Object.keys(User.properties));
  });

  it.each([
    ['no visibility (an entry from before it was recorded)', {}],
    ['a null visibility', { visibility: null }],
    ['an unknown basis', { visibility: { lagUs: 1, basis: 'guess' } }],
    ['a negative lag', { visibility: { lagUs: -1, basis: 'cache-set' } }],
    ['a fractional lag', { visibility: { lagUs: 1.5, basis: 'cache-set' } }],
  ])('report no visibility for %s', (_, extra) => {
    expect(decodeCached(JSON.stringify({ ...user, ...extra }))).toEqual({ user, visibility: undefined });
  });

  it('fold ASCII case in email keys and nothing else', () => {
    expect(collationKey('Ann.Lee+Tag@Example.TEST')).toBe('ann.lee+tag@example.test');
    // Outside ASCII the collation's folding (accents too) is not reproduced: at worst a miss, never a wrong hit.
    expect(collationKey('ÉCOLE@x.test')).toBe('École@x.test');
  });
});

describe('with a real stack', () => {
  let fx: ApiFixture;
  const lines: { level: number; msg: string }[] = [];

  beforeAll(async () => {
    const stream = {
      write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }),
    };
    fx = await startApiFixture({}, { logger: { level: 'warn', stream } });
  });

  afterAll(async () => {
    await fx?.close();
  });

  const read = (query: string) =>
    fx.app.inject({ method: 'GET', url: `/users?${query}`, headers: { 'x-read-consistency': 'cache' } });
  const post = (email: string) =>
    fx.app.inject({ method: 'POST', url: '/users', payload: { email, name: 'cased' } });

  it('hits for an email in another case than it was stored in, as the collation compares it', async () => {
    const stored = uniqueEmail('Mixed.Case').replace('@example.test', '@Example.TEST');
    const created = await post(stored);
    expect(created.statusCode, created.body).toBe(201);
    // The column says these are one user: a second insert in other case is a duplicate.
    expect((await post(stored.toLowerCase())).statusCode).toBe(409);

    const lower = await read(`email=${encodeURIComponent(stored.toLowerCase())}`);
    expect(lower.headers['x-read-source']).toBe('cache');
    expect(lower.json()).toEqual([created.json()]);

    // Read-through: a miss in one casing fills the key every casing shares.
    const { id } = created.json<{ id: number }>();
    await fx.app.redis.del(cacheKeys.byId(id), cacheKeys.byEmail(stored));
    const onReplica = () =>
      fx.app.inject({ method: 'GET', url: `/users/${id}`, headers: { 'x-read-consistency': 'eventual' } });
    expect(await eventually(async () => (await onReplica()).statusCode === 200)).toBe(true);
    const upper = await read(`email=${encodeURIComponent(stored.toUpperCase())}`);
    expect(upper.headers['x-read-source']).toBe('replica');
    expect(upper.json()).toHaveLength(1);
    const again = await read(`email=${encodeURIComponent(stored.toLowerCase())}`);
    expect(again.headers['x-read-source']).toBe('cache');
  });

  it('fills both keys on a miss with the replica row and its visibility, for the TTL; a miss it cannot find fills none', async () => {
    const created = await post(uniqueEmail('fill'));
    expect(created.statusCode, created.body).toBe(201);
    const user = created.json<{ id: number; email: string }>();
    const keys = [cacheKeys.byId(user.id), cacheKeys.byEmail(user.email)];
    // The write-through filled them: start from a miss.
    expect(await fx.app.redis.exists(...keys)).toBe(2);
    await fx.app.redis.del(...keys);
    const onReplica = () =>
      fx.app.inject({
        method: 'GET',
        url: `/users/${user.id}`,
        headers: { 'x-read-consistency': 'eventual' },
      });
    expect(await eventually(async () => (await onReplica()).statusCode === 200)).toBe(true);

    const miss = await fx.app.inject({
      method: 'GET',
      url: `/users/${user.id}`,
      headers: { 'x-read-consistency': 'cache' },
    });
    expect(miss.statusCode, miss.body).toBe(200);
    expect(miss.headers['x-read-source']).toBe('replica');
    const visibility = {
      lagUs: Number(miss.headers[VISIBILITY_HEADERS.lagUs]),
      basis: miss.headers[VISIBILITY_HEADERS.basis],
    };
    expect(Number.isInteger(visibility.lagUs)).toBe(true);
    const stored = JSON.stringify({ ...miss.json(), visibility });
    expect(await fx.app.redis.mget(...keys)).toEqual([stored, stored]);
    for (const key of keys) {
      const ttl = await fx.app.redis.ttl(key);
      expect(ttl).toBeGreaterThan(fx.config.cacheTtlS - 5);
      expect(ttl).toBeLessThanOrEqual(fx.config.cacheTtlS);
    }
    // The next read is the entry, with the visibility of the read that filled it.
    const hit = await fx.app.inject({
      method: 'GET',
      url: `/users?email=${encodeURIComponent(user.email)}`,
      headers: { 'x-read-consistency': 'cache' },
    });
    expect(hit.headers['x-read-source']).toBe('cache');
    expect(hit.json()).toEqual([miss.json()]);
    expect(hit.headers[VISIBILITY_HEADERS.lagUs]).toBe(String(visibility.lagUs));
    expect(hit.headers[VISIBILITY_HEADERS.basis]).toBe(visibility.basis);

    // A user nobody has: not found, and no entry to hide it once it exists.
    const absent = user.id + 1_000_000;
    const notFound = await fx.app.inject({
      method: 'GET',
      url: `/users/${absent}`,
      headers: { 'x-read-consistency': 'cache' },
    });
    expect(notFound.statusCode).toBe(404);
    expect(await fx.app.redis.exists(cacheKeys.byId(absent))).toBe(0);
  });

  it('logs a Redis outage a few times, not once per request, and counts every failed read', async () => {
    const { id } = (await post(uniqueEmail('outage'))).json<{ id: number }>();
    const errors = async () =>
      (await fx.app.metrics.cacheRequests.get()).values.find((v) => v.labels.result === 'error')?.value ?? 0;
    const before = await errors();
    const from = lines.length;
    await fx.stack.stopService('redis');
    try {
      for (let i = 0; i < 50; i++) {
        const res = await fx.app.inject({
          method: 'GET',
          url: `/users/${id}`,
          headers: { 'x-read-consistency': 'cache' },
        });
        expect(res.statusCode).toBe(200);
        expect(res.headers['x-read-fallback']).toBe('cache_unavailable');
      }
      for (let i = 0; i < 10; i++) expect((await post(uniqueEmail('outage'))).statusCode).toBe(201);
    } finally {
      await fx.stack.startService('redis');
    }
    expect(await errors()).toBe(before + 50);
    const outage = lines.slice(from);
    const count = (re: RegExp) => outage.filter((l) => re.test(l.msg)).length;
    expect(count(/^cache read failed/)).toBe(3);
    expect(count(/^cache write failed/)).toBeLessThanOrEqual(3);
    // A few kinds, each a few lines: not 60.
    expect(outage.length, outage.map((l) => l.msg).join('\n')).toBeLessThanOrEqual(8);
  });
});
