/**
 * k6-style duration strings ("500ms", "2s", "1m30s", "1h") to milliseconds. Runtime-neutral: the config, the
 * profiles and Node-side tools all read durations the way k6 itself writes them.
 */
const UNIT_MS: Readonly<Record<string, number>> = {
  us: 0.001,
  µs: 0.001,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const WHOLE = /^(?:\d+(?:\.\d+)?(?:us|µs|ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(us|µs|ms|s|m|h)/g;

/** Returns the duration in ms, or null when `text` is not a duration (a bare "0" is allowed). */
export function parseDurationMs(text: string): number | null {
  const s = text.trim();
  if (s === '0') return 0;
  if (!WHOLE.test(s)) return null;
  let total = 0;
  PART.lastIndex = 0;
  // An exec loop rather than matchAll: plain ES2015 regex features, whatever the JS runtime.
  for (let m = PART.exec(s); m !== null; m = PART.exec(s))
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  return total;
}

/**
 * Formats ms back into a k6 duration string that parses to exactly `ms`: the largest unit that divides it
 * ("90s", "2m"), else milliseconds, with a fraction if need be ("0.5ms", which k6 and Go accept too).
 */
export function formatDuration(ms: number): string {
  const value = Math.max(0, ms);
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (value > 0 && value % size === 0) return `${value / size}${unit}`;
  }
  return value === 0 ? '0s' : `${plainDecimal(value)}ms`;
}

/**
 * `n` in plain decimal notation: String(1e-7) is "1e-7", which neither the duration nor the number parsers
 * read. Same digits as String(n), so the text parses back to exactly `n`.
 */
export function plainDecimal(n: number): string {
  const text = String(n);
  const e = text.indexOf('e');
  if (e < 0) return text;
  const sign = text.startsWith('-') ? '-' : '';
  const mantissa = text.slice(sign.length, e);
  const digits = mantissa.replace('.', '');
  const dot = mantissa.indexOf('.');
  // Where the decimal point falls within `digits` once the exponent is applied.
  const point = (dot < 0 ? mantissa.length : dot) + Number(text.slice(e + 1));
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}
