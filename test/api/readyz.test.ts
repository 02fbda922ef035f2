/**
 * /readyz reports replica lag with the scenarios' heartbeat estimator (common/heartbeat.ts), from beats the API
 * writes itself (api/plugins/heartbeat.ts): a live figure with no test run writing beats, not the apply lag of
 * some beat minutes ago (nor that beat's age, 93–142 s in issue 8).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiFixture, eventually, startApiFixture } from './fixture.ts';

interface Ready {
  status: string;
  replica: {
    reachable: boolean;
    heartbeatLagMs: number | null;
    heartbeatBasis: string | null;
    newestBeatAgeMs: number | null;
  };
  heartbeat: { intervalMs: number; lastBeatOk: boolean | null };
}

const INTERVAL_MS = 200;
let f: ApiFixture;
const ready = async () => (await f.app.inject({ method: 'GET', url: '/readyz' })).json() as Ready;
const lagMatches = (test: (lagMs: number) => boolean) => async () => {
  const lag = (await ready()).replica.heartbeatLagMs;
  return lag !== null && test(lag);
};

beforeAll(async () => {
  f = await startApiFixture({ CQRS_API_HEARTBEAT_INTERVAL_MS: String(INTERVAL_MS) });
}, 120_000);

afterAll(async () => {
  await f?.close();
});

describe('/readyz replica lag, with nobody but the API writing heartbeats', () => {
  it('is measured from fresh beats on a healthy replica', async () => {
    expect(
      await eventually(
        lagMatches(() => true),
        5000,
      ),
    ).toBe(true);
    const report = await ready();
    expect(report.heartbeat).toEqual({ intervalMs: INTERVAL_MS, lastBeatOk: true });
    expect(report.replica.heartbeatBasis).toBe('apply-stamp');
    expect(report.replica.heartbeatLagMs).toBeLessThan(1000);
    // The newest beat is about one interval old, not minutes.
    expect(report.replica.newestBeatAgeMs).toBeLessThan(10 * INTERVAL_MS);
    const beats = (await f.app.metrics.heartbeats.get()).values.find((v) => v.labels.result === 'ok');
    expect(beats?.value).toBeGreaterThan(0);
  });

  it('follows an injected lag, grows with a frozen replica, and comes back', async () => {
    try {
      await f.stack.setLag('50ms');
      expect(
        await eventually(
          lagMatches((ms) => ms >= 50 && ms < 100),
          5000,
        ),
      ).toBe(true);
      // Frozen: the beats the API keeps writing pile up unapplied, so the lag grows with the oldest one's age.
      await f.stack.setLag('freeze');
      expect(
        await eventually(
          lagMatches((ms) => ms >= 3 * INTERVAL_MS),
          5000,
        ),
      ).toBe(true);
    } finally {
      await f.stack.setLag('thaw');
      await f.stack.setLag('0');
    }
    expect(
      await eventually(
        lagMatches((ms) => ms < 50),
        5000,
      ),
    ).toBe(true);
  });
});
