import { describe, expect, it } from 'vitest';
import { CLIENT_ID_PATTERN, GTID_TOKEN_PATTERN } from '../../api/schemas.ts';

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

describe('client id pattern', () => {
  const re = new RegExp(CLIENT_ID_PATTERN, 'u');
  it('accepts uuids and rejects separators', () => {
    expect(re.test('5dbfe41d-7983-4622-a270-c081f4ed23f3')).toBe(true);
    expect(re.test('vu-12:iter.3')).toBe(true);
    expect(re.test('a b')).toBe(false);
    expect(re.test('x'.repeat(129))).toBe(false);
  });
});
