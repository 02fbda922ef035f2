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

/** Formats ms back into a k6 duration string (whole milliseconds are enough for scenario options). */
export function formatDuration(ms: number): string {
  const whole = Math.max(0, Math.round(ms));
  if (whole % 3_600_000 === 0 && whole > 0) return `${whole / 3_600_000}h`;
  if (whole % 60_000 === 0 && whole > 0) return `${whole / 60_000}m`;
  if (whole % 1000 === 0) return `${whole / 1000}s`;
  return `${whole}ms`;
}
