import { describe, expect, it } from 'vitest';
import { CURVE_PERCENTILES, percentileStat, type SummaryData } from '../../lib/summary/data.ts';
import { freshnessCurve } from '../../lib/summary/freshness.ts';

/** A lag trend whose kept percentile p is p ms (min 0.5, max 200), plus a timeout counter. */
function summary(
  visible: number,
  timeouts: number,
  lagKey = 'visibility_lag',
  timeoutKey = 'visibility_timeouts',
) {
  const values: Record<string, number> = { count: visible, min: 0.5, max: 200, avg: 40 };
  for (const p of CURVE_PERCENTILES) values[percentileStat(p)] = p;
  return {
    metrics: {
      [lagKey]: { type: 'trend', contains: 'time', values },
      [timeoutKey]: { type: 'counter', values: { count: timeouts, rate: 0 } },
    },
  } as SummaryData;
}

describe('freshnessCurve', () => {
  it('is the lag distribution itself when every probe became visible: t99 and t99.9 are p(99) and p(99.9)', () => {
    const c = freshnessCurve(summary(1000, 0));
    expect(c).toMatchObject({ probes: 1000, timeouts: 0, t99Ms: 99, t999Ms: 99.9 });
    // At the min, one probe is certainly fresh.
    expect(c?.points[0]).toEqual({ lagMs: 0.5, freshShare: 1 / 1000 });
    expect(c?.points.at(-1)).toEqual({ lagMs: 200, freshShare: 1 });
    expect(c?.points.find((p) => p.lagMs === 50)?.freshShare).toBe(0.5);
  });

  it('holds the curve below 1 by the timed-out share and rounds t99 up to the next kept percentile', () => {
    // 995 visible + 5 timed out: 99% of all needs 99.497% of the visible ones → p(99.5), never p(99).
    const c = freshnessCurve(summary(995, 5));
    expect(c?.t99Ms).toBe(99.5);
    // 99.9% of all would need more than every visible probe.
    expect(c?.t999Ms).toBeNull();
    expect(c?.points.at(-1)?.freshShare).toBeCloseTo(0.995, 12);
    const shares = c?.points.map((p) => p.freshShare) ?? [];
    expect([...shares].sort((a, b) => a - b)).toEqual(shares);
  });

  it("never claims more than k6's interpolated percentiles guarantee: with few probes it moves up a point", () => {
    // 200 probes: p(99.9) lies between the two largest, so only 199 (99.5%) are fresh there; 99.9% needs all 200.
    expect(freshnessCurve(summary(200, 0))).toMatchObject({ t99Ms: 99, t999Ms: 200 });
    // 150 probes: p(99) holds 148 (98.7%); 99% needs 149, which p(99.5) holds.
    expect(freshnessCurve(summary(150, 0))).toMatchObject({ t99Ms: 99.5, t999Ms: 200 });
    const c = freshnessCurve(summary(150, 0));
    expect(c?.points.find((p) => p.lagMs === 99)?.freshShare).toBe(148 / 150);
  });

  it('has no t99 when more than 1% of probes were never fresh within the timeout', () => {
    const c = freshnessCurve(summary(98, 2));
    expect(c).toMatchObject({ probes: 100, timeouts: 2, t99Ms: null, t999Ms: null });
    expect(c?.points.at(-1)?.freshShare).toBeCloseTo(0.98, 12);
  });

  it('reads a strategy submetric when given its keys', () => {
    const lag = 'visibility_lag{strategy:gtid-wait}';
    const timeouts = 'visibility_timeouts{strategy:gtid-wait}';
    expect(freshnessCurve(summary(10, 0, lag, timeouts))).toBeNull();
    // Ten probes: 99% of them is all ten, which only the max guarantees.
    expect(freshnessCurve(summary(10, 0, lag, timeouts), { lag, timeouts })?.t99Ms).toBe(200);
  });

  it('is null without probes, and an empty curve when every probe timed out', () => {
    expect(freshnessCurve({ metrics: {} })).toBeNull();
    expect(freshnessCurve(summary(0, 0))).toBeNull();
    expect(freshnessCurve(summary(0, 7))).toEqual({
      probes: 7,
      timeouts: 7,
      points: [],
      t99Ms: null,
      t999Ms: null,
    });
  });
});
