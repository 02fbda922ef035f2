/** The rate-limited warnings of api/log-limit.ts, on a virtual clock. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LogLimiter } from '../../api/log-limit.ts';

let lines: { obj: Record<string, unknown>; msg: string }[];
let limiter: LogLimiter;

beforeEach(() => {
  vi.useFakeTimers();
  lines = [];
  limiter = new LogLimiter(
    { warn: (obj, msg) => lines.push({ obj: obj as Record<string, unknown>, msg }) },
    { burst: 3, periodMs: 10_000 },
  );
});

afterEach(() => {
  limiter.close();
  vi.useRealTimers();
});

describe('LogLimiter', () => {
  it('logs the first few in full, then one line per period with how many more', () => {
    for (let i = 0; i < 737; i++) limiter.warn('k', { err: `e${i}` }, 'cache read failed');
    expect(lines.map((l) => l.obj.err)).toEqual(['e0', 'e1', 'e2']);
    vi.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(4);
    expect(lines[3]?.obj).toMatchObject({ err: 'e736', suppressed: 734 });
    expect(lines[3]?.msg).toMatch(/^cache read failed: 734 more like this since the last line/);
    // Still failing in the next period: one more summary, no full lines.
    for (let i = 0; i < 5; i++) limiter.warn('k', { err: 'again' }, 'cache read failed');
    vi.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(5);
    expect(lines[4]?.obj.suppressed).toBe(5);
  });

  it('starts afresh after a quiet period, and keeps kinds apart', () => {
    for (let i = 0; i < 5; i++) limiter.warn('a', {}, 'a failed');
    limiter.warn('b', {}, 'b failed');
    expect(lines.map((l) => l.msg)).toEqual(['a failed', 'a failed', 'a failed', 'b failed']);
    vi.advanceTimersByTime(10_000); // a: summary of 2; b: quiet
    vi.advanceTimersByTime(10_000); // a: quiet, forgotten
    expect(lines).toHaveLength(5);
    limiter.warn('a', { err: 'back' }, 'a failed');
    expect(lines.at(-1)).toEqual({ obj: { err: 'back' }, msg: 'a failed' });
  });

  it('logs what it still counts when closed', () => {
    for (let i = 0; i < 10; i++) limiter.warn('k', {}, 'x');
    limiter.close();
    expect(lines).toHaveLength(4);
    expect(lines[3]?.obj.suppressed).toBe(7);
    vi.advanceTimersByTime(60_000);
    expect(lines).toHaveLength(4);
  });
});
