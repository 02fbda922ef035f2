import { describe, expect, it } from 'vitest';
import { decodeCell, decodeRow, numberCell, stringCell } from '../../lib/decode.ts';

const bytes = (s: string) => [...new TextEncoder().encode(s)];

describe('row decoding (xk6-sql byte arrays)', () => {
  it('decodes byte-code arrays, ArrayBuffers and typed arrays as UTF-8', () => {
    expect(decodeCell(bytes('run:0:1:2'))).toBe('run:0:1:2');
    expect(decodeCell(new TextEncoder().encode('héllo €😀').buffer)).toBe('héllo €😀');
    expect(decodeCell(new TextEncoder().encode('ok'))).toBe('ok');
    expect(decodeCell(bytes('ü€😀'))).toBe('ü€😀');
  });

  it('keeps numbers, strings, booleans and nulls', () => {
    expect(decodeRow({ a: 1, b: 'x', c: null, d: undefined, e: true })).toEqual({
      a: 1,
      b: 'x',
      c: null,
      d: null,
      e: true,
    });
  });

  it('reads numeric columns that arrive as text (DECIMAL, BIGINT)', () => {
    const row = decodeRow({ lag_us: bytes('52034'), ts_us: bytes('1764118000123456'), missing: null });
    expect(numberCell(row, 'lag_us')).toBe(52_034);
    expect(numberCell(row, 'ts_us')).toBe(1_764_118_000_123_456);
    expect(numberCell(row, 'missing')).toBeNull();
    expect(stringCell(row, 'lag_us')).toBe('52034');
    expect(() => numberCell(decodeRow({ x: 'abc' }), 'x')).toThrow('column x: expected a number, got "abc"');
  });
});
