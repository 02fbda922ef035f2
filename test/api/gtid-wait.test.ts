/**
 * The GTID wait against the real replica: a wait that gives no result (NULL, or no row) is not "reached" and
 * reads the primary, counted; a token the server cannot parse (numbers out of range) is a 400, not a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeRead, type ReadDeps } from '../../api/read/execute.ts';
import { userLookups } from '../../api/users/sql.ts';
import { type Dialect, dialectFor } from '../../common/dialect.ts';
import { type ApiFixture, startApiFixture, uniqueEmail } from './fixture.ts';

let fx: ApiFixture;

beforeAll(async () => {
  fx = await startApiFixture({ CQRS_API_GTID_WAIT_TIMEOUT_MS: '300' });
});

afterAll(async () => {
  await fx?.close();
});

async function created(): Promise<{ id: number; token: string }> {
  const res = await fx.app.inject({
    method: 'POST',
    url: '/users',
    payload: { email: uniqueEmail('gtid-wait'), name: 'gtid wait' },
  });
  expect(res.statusCode).toBe(201);
  return { id: (res.json() as { id: number }).id, token: String(res.headers['x-consistency-token']) };
}

/**
 * The app's real deps, with the wait statement swapped for one that answers like a server that cannot wait,
 * and optionally a dialect that reads NULL as 0 (as common/dialect.ts once did): execute.ts must not trust it.
 */
function depsWithWait(waitForGtid: string, naiveDialect = false): ReadDeps {
  const dialect: Dialect = {
    ...dialectFor(fx.config.flavor),
    waitForGtid,
    ...(naiveDialect ? { gtidWaitReached: (r: unknown) => Number(r) === 0 } : {}),
  };
  const warnings: object[] = [];
  return { ...fx.app.consistency.deps, dialect, log: { warn: (obj) => warnings.push(obj) } };
}

const fallbacks = async () => {
  const metric = await fx.app.metrics.gtidWaitFallbacks.get();
  return metric.values.find((v) => v.labels.reason === 'timeout')?.value ?? 0;
};

describe('a GTID wait without a result', () => {
  it.each([
    ['NULL', 'SELECT NULL AS waited FROM DUAL WHERE ? IS NOT NULL AND ? IS NOT NULL'],
    ['no row', 'SELECT 0 AS waited FROM DUAL WHERE ? IS NULL AND ? IS NULL'],
  ])('%s is not reached: the primary answers, counted as a fallback', async (_, sql) => {
    const { id, token } = await created();
    const before = await fallbacks();
    const outcome = await executeRead(
      depsWithWait(sql, true),
      { target: 'replica-after-gtid', token },
      userLookups.byId(String(id)),
    );
    expect(outcome.source).toBe('primary');
    expect(outcome.fallback).toBe('timeout');
    expect(outcome.users.map((u) => u.id)).toEqual([id]);
    expect(outcome.visibility).toEqual({ lagUs: 0, basis: 'commit' });
    expect(await fallbacks()).toBe(before + 1);
  });
});

describe('tokens out of the server range', () => {
  it.each(['4294967296-1-1', '0-4294967296-1', '0-1-18446744073709551616', '9999999999-1-1', '0-1-1,0-1-2'])(
    '%s is a 400',
    async (token) => {
      const res = await fx.app.inject({
        method: 'GET',
        url: '/users/1',
        headers: { 'x-read-consistency': 'gtid-wait', 'x-consistency-token': token },
      });
      expect(res.statusCode, res.body).toBe(400);
      expect((res.json() as { message: string }).message).toMatch(/token/);
    },
  );

  it("is a ClientError 400 from the server's own parse error when it gets past the schema", async () => {
    const deps = depsWithWait(dialectFor(fx.config.flavor).waitForGtid);
    const lookup = userLookups.byId('1');
    await expect(
      executeRead(deps, { target: 'replica-after-gtid', token: '4294967296-1-1' }, lookup),
    ).rejects.toMatchObject({ name: 'ClientError', statusCode: 400 });
  });

  it.each(['4294967295-4294967295-18446744073709551615', '0-1-1,1-1-1'])(
    '%s (at the limits) is waited for',
    async (token) => {
      const res = await fx.app.inject({
        method: 'GET',
        url: '/users/1',
        headers: { 'x-read-consistency': 'gtid-wait', 'x-consistency-token': token },
      });
      expect([200, 404], res.body).toContain(res.statusCode);
      expect(res.headers['x-read-fallback']).toBe('timeout');
    },
  );
});
