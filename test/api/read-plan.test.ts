import { describe, expect, it } from 'vitest';
import { chooseStrategy, planRead, type ReadContext, type ReadPlan } from '../../api/read/plan.ts';
import { StickyWindows } from '../../api/read/sticky.ts';
import { normaliseToken, writeTarget } from '../../api/write/create-user.ts';
import { STRATEGIES, type Strategy } from '../../common/strategies.ts';

describe('planRead', () => {
  const none = { token: undefined, stickyPinned: false };

  it('routes each strategy', () => {
    expect(planRead('eventual', none)).toEqual({ target: 'replica' });
    expect(planRead('primary', none)).toEqual({ target: 'primary' });
    expect(planRead('cache', none)).toEqual({ target: 'cache' });
    expect(planRead('sync-before', none)).toEqual({ target: 'own-pool', pool: 'syncBefore' });
    expect(planRead('router-split', none)).toEqual({ target: 'own-pool', pool: 'routerSplit' });
  });

  it('gtid-wait waits only when the client has a token', () => {
    expect(planRead('gtid-wait', { ...none, token: '0-1-42' })).toEqual({
      target: 'replica-after-gtid',
      token: '0-1-42',
    });
    expect(planRead('gtid-wait', none)).toEqual({ target: 'replica' });
  });

  it('sticky pins to the primary inside the window only', () => {
    expect(planRead('sticky', { ...none, stickyPinned: true })).toEqual({ target: 'primary' });
    expect(planRead('sticky', none)).toEqual({ target: 'replica' });
  });

  it('ignores a token and a pin where the strategy does not use them', () => {
    const both = { token: '0-1-1', stickyPinned: true };
    expect(planRead('eventual', both)).toEqual({ target: 'replica' });
    expect(planRead('cache', both)).toEqual({ target: 'cache' });
  });

  /** Each strategy's plan for every token and pin; the type makes a new strategy come with its row here. */
  const EXPECTED: { readonly [S in Strategy]: (ctx: ReadContext) => ReadPlan } = {
    eventual: () => ({ target: 'replica' }),
    primary: () => ({ target: 'primary' }),
    'gtid-wait': ({ token }) =>
      token === undefined ? { target: 'replica' } : { target: 'replica-after-gtid', token },
    sticky: ({ stickyPinned }) => (stickyPinned ? { target: 'primary' } : { target: 'replica' }),
    cache: () => ({ target: 'cache' }),
    'sync-before': () => ({ target: 'own-pool', pool: 'syncBefore' }),
    'router-split': () => ({ target: 'own-pool', pool: 'routerSplit' }),
  };
  const contexts: ReadContext[] = [undefined, '0-1-7'].flatMap((token) =>
    [false, true].map((stickyPinned) => ({ token, stickyPinned })),
  );

  it('has the expected plan for every strategy in the shared vocabulary, whatever the token and pin', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...STRATEGIES].sort());
    for (const s of STRATEGIES) {
      for (const ctx of contexts)
        expect(planRead(s, ctx), `${s} ${JSON.stringify(ctx)}`).toEqual(EXPECTED[s](ctx));
    }
  });
});

describe('chooseStrategy', () => {
  it('prefers the header, then the query parameter, then the default', () => {
    expect(chooseStrategy('primary', 'cache', 'eventual')).toBe('primary');
    expect(chooseStrategy(undefined, 'cache', 'eventual')).toBe('cache');
    expect(chooseStrategy(undefined, undefined, 'sticky')).toBe('sticky');
  });

  it('reads the alias gr-before as sync-before, from the header and from the query parameter', () => {
    expect(chooseStrategy('gr-before', undefined, 'eventual')).toBe('sync-before');
    expect(chooseStrategy(undefined, 'gr-before', 'eventual')).toBe('sync-before');
    expect(chooseStrategy('cache', 'gr-before', 'eventual')).toBe('cache');
    expect(chooseStrategy('sync-before', undefined, 'eventual')).toBe('sync-before');
  });
});

describe('normaliseToken', () => {
  it('strips the newlines MySQL puts in GTID sets and drops empty tokens', () => {
    expect(
      normaliseToken('3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5,\n4E11FA47-71CA-11E1-9E33-C80AA9429562:1-2'),
    ).toBe('3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5,4E11FA47-71CA-11E1-9E33-C80AA9429562:1-2');
    expect(normaliseToken('0-1-7')).toBe('0-1-7');
    expect(normaliseToken('')).toBeUndefined();
    expect(normaliseToken(null)).toBeUndefined();
  });
});

describe('StickyWindows', () => {
  it('pins a client for the window after its last write', () => {
    const s = new StickyWindows(2000);
    s.recordWrite('a', 10_000);
    expect(s.pinned('a', 10_000)).toBe(true);
    expect(s.pinned('a', 11_999)).toBe(true);
    expect(s.pinned('a', 12_000)).toBe(false);
    expect(s.pinned('b', 10_001)).toBe(false);
    expect(s.pinned(undefined, 10_001)).toBe(false);
  });

  it('extends the window on every write', () => {
    const s = new StickyWindows(100);
    s.recordWrite('a', 0);
    s.recordWrite('a', 90);
    expect(s.pinned('a', 150)).toBe(true);
  });

  it('evicts the least recently writing client beyond its bound', () => {
    const s = new StickyWindows(1000, 2);
    s.recordWrite('a', 0);
    s.recordWrite('b', 1);
    s.recordWrite('a', 2);
    s.recordWrite('c', 3);
    expect(s.size).toBe(2);
    expect(s.pinned('b', 4)).toBe(false);
    expect(s.pinned('a', 4)).toBe(true);
    expect(s.pinned('c', 4)).toBe(true);
  });
});

describe('writeTarget', () => {
  it('sends router-split writes through Router and every other write to the writer', () => {
    for (const s of STRATEGIES) expect(writeTarget(s)).toBe(s === 'router-split' ? 'routerSplit' : 'writer');
  });
});
