/** The cache entries' format (api/read/cache.ts): a valid User with its visibility beside it. */
import { describe, expect, it } from 'vitest';
import { decodeCached } from '../../api/read/cache.ts';
import { User } from '../../api/schemas.ts';

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
});
