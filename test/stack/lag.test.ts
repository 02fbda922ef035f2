import { describe, expect, it } from 'vitest';
import { parseLag } from '../../stack/lag.ts';

describe('stack:lag values', () => {
  it.each([
    ['0', { kind: 'proxy', delayMs: 0 }],
    ['5ms', { kind: 'proxy', delayMs: 5 }],
    ['50ms', { kind: 'proxy', delayMs: 50 }],
    ['1.5s', { kind: 'proxy', delayMs: 1500 }],
    [' 200MS ', { kind: 'proxy', delayMs: 200 }],
    ['freeze', { kind: 'freeze' }],
    ['thaw', { kind: 'thaw' }],
    ['apply-delay=2s', { kind: 'apply-delay', seconds: 2 }],
    ['master-delay=0', { kind: 'apply-delay', seconds: 0 }],
  ])('%s', (raw, expected) => {
    expect(parseLag(raw)).toEqual(expected);
  });

  it.each(['', 'bogus', '50', '-5ms', '10m', '5 ms', 'apply-delay=1.5s', '601s', 'apply-delay=90000s'])(
    'rejects %j with a one-line reason',
    (raw) => {
      expect(() => parseLag(raw)).toThrow(/^invalid lag ".*"; /);
    },
  );
});
