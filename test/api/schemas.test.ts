import { describe, expect, it } from 'vitest';
import { tokenProblem } from '../../api/read/token.ts';
import {
  CLIENT_ID_PATTERN,
  GTID_TOKEN_PATTERN,
  MAX_HEADER_BYTES,
  OTHER_HEADERS_MAX_BYTES,
  TOKEN_MAX_LENGTH,
} from '../../api/schemas.ts';

describe('consistency token pattern', () => {
  const re = new RegExp(GTID_TOKEN_PATTERN, 'u');
  it.each([
    '0-1-42',
    '0-1-42,1-2-7',
    '3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5',
    '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7,4e11fa47-71ca-11e1-9e33-c80aa9429562:tag_a:1',
  ])('accepts %s', (t) => expect(re.test(t)).toBe(true));
  it.each(['', 'abc', '0-1', '0-1-42;', "0-1-1' OR 1=1", '0-1-1 ', '0-1-1\n', '1-2-3,'])('rejects %j', (t) =>
    expect(re.test(t)).toBe(false),
  );
});

describe('MySQL gtid-set grammar (8.4, with tags)', () => {
  const re = new RegExp(GTID_TOKEN_PATTERN, 'u');
  const u1 = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
  const u2 = '4E11FA47-71CA-11E1-9E33-C80AA9429562';
  it.each([
    `${u1}:1`,
    `${u1}:1-5:tag:1-3`,
    `${u1}:1-5:7-9:tag_a:1-3:4:Tag_B:9`,
    `${u1}:tag:1-3`,
    `${u1}:_t:1:t2:2-4`,
    `${u1}:1-5:${'t'.repeat(32)}:1`,
    `${u1}:1-5:tag:1-3,${u2}:1-100000000000`,
    `${u1}:tag:1,${u2}:other:5-6:x:7`,
  ])('accepts %s', (t) => expect(re.test(t)).toBe(true));
  it.each([
    `${u1}`,
    `${u1}:`,
    `${u1}:tag`,
    `${u1}:1-5:tag`,
    `${u1}:1-5:tag:`,
    `${u1}:1-5::1`,
    `${u1}:1-`,
    `${u1}:-1`,
    `${u1}:1--5`,
    `${u1}:1-5:9tag:1`,
    `${u1}:1-5:${'t'.repeat(33)}:1`,
    `${u1}:1-5:ta-g:1`,
    `${u1}:1,`,
    `${u1}:1,,${u2}:1`,
    `${u1}:1, ${u2}:1`,
    `${u1.slice(0, 35)}:1`,
    `${u1.replace(/-/g, '')}:1`,
    `${u1}g:1`,
    `${u1}:1-5,0-1-42`,
    `0-1-42,${u1}:1`,
  ])('rejects %j', (t) => expect(re.test(t)).toBe(false));

  it('runs in linear time on long and adversarial tokens', () => {
    const longValid = Array.from({ length: 1200 }, (_, i) => `${u1}:1-${i + 1}:tag:${i}`).join(',');
    const adversarial = `${u1}${':1'.repeat(30_000)}:`;
    const tagged = `${u1}:1${':t:1'.repeat(15_000)}:t`;
    const started = performance.now();
    expect(re.test(longValid)).toBe(true);
    expect(re.test(adversarial)).toBe(false);
    expect(re.test(tagged)).toBe(false);
    expect(re.test(`${'0-1-1,'.repeat(10_000)}x`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('token ranges (the format beside the pattern)', () => {
  const u = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
  it.each([
    '4294967295-4294967295-18446744073709551615',
    '0-1-1,1-1-1',
    `${u}:1-9223372036854775807`,
    `${u}:5:tag:1-1`,
  ])('accepts %s', (t) => expect(tokenProblem(t)).toBeUndefined());
  it.each([
    '4294967296-1-1',
    '0-4294967296-1',
    '0-1-18446744073709551616',
    '0-1-1,0-1-2',
    `${u}:0`,
    `${u}:1-9223372036854775808`,
    `${u}:5-3`,
    `${u}:tag:0-2`,
  ])('rejects %s', (t) => expect(tokenProblem(t)).toEqual(expect.any(String)));
});

describe('header limits', () => {
  it('hold a token of the longest length with the other headers on top', () => {
    expect(MAX_HEADER_BYTES).toBeGreaterThanOrEqual(TOKEN_MAX_LENGTH + OTHER_HEADERS_MAX_BYTES);
    expect(TOKEN_MAX_LENGTH).toBeGreaterThan(4096);
  });
});

describe('client id pattern', () => {
  const re = new RegExp(CLIENT_ID_PATTERN, 'u');
  it('accepts uuids and rejects separators', () => {
    expect(re.test('5dbfe41d-7983-4622-a270-c081f4ed23f3')).toBe(true);
    expect(re.test('vu-12:iter.3')).toBe(true);
    expect(re.test('a b')).toBe(false);
    expect(re.test('x'.repeat(129))).toBe(false);
  });
});
