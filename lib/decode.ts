/**
 * The one place where xk6-sql row values are decoded. The Go MySQL driver hands text (and DECIMAL, and
 * TIMESTAMP without parseTime) back as byte slices, which reach JavaScript as arrays of byte codes or as an
 * ArrayBuffer depending on the k6 version (xk6-sql issue 12). k6 has no TextDecoder, so UTF-8 is decoded here.
 */
export type Cell = string | number | boolean | null;
export type DecodedRow = Readonly<Record<string, Cell>>;

function utf8(bytes: ArrayLike<number>): string {
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i] as number;
    let cp: number;
    let extra: number;
    if (b < 0x80) [cp, extra] = [b, 0];
    else if (b >= 0xf0) [cp, extra] = [b & 0x07, 3];
    else if (b >= 0xe0) [cp, extra] = [b & 0x0f, 2];
    else if (b >= 0xc0) [cp, extra] = [b & 0x1f, 1];
    else [cp, extra] = [0xfffd, 0];
    for (let k = 1; k <= extra; k++) cp = (cp << 6) | ((bytes[i + k] ?? 0x80) & 0x3f);
    out += String.fromCodePoint(cp);
    i += extra + 1;
  }
  return out;
}

function isByteArray(value: unknown): value is ArrayLike<number> {
  return Array.isArray(value) && value.every((x) => typeof x === 'number' && x >= 0 && x <= 255);
}

export function decodeCell(value: unknown): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof ArrayBuffer) return utf8(new Uint8Array(value));
  if (ArrayBuffer.isView(value))
    return utf8(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  if (isByteArray(value)) return utf8(value);
  if (value instanceof Date) return value.getTime();
  return String(value);
}

export function decodeRow(row: Readonly<Record<string, unknown>>): DecodedRow {
  const out: Record<string, Cell> = {};
  for (const key of Object.keys(row)) out[key] = decodeCell(row[key]);
  return out;
}

/** A numeric column (DECIMAL and BIGINT may arrive as text); null stays null, garbage is an error. */
export function numberCell(row: DecodedRow, column: string): number | null {
  const value = row[column];
  if (value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n))
    throw new Error(`column ${column}: expected a number, got ${JSON.stringify(value)}`);
  return n;
}

export function stringCell(row: DecodedRow, column: string): string | null {
  const value = row[column];
  return value === null || value === undefined ? null : String(value);
}
