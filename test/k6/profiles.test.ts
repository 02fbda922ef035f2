import type { ConstantArrivalRateScenario, RampingArrivalRateScenario, RampingVUsScenario } from 'k6/options';
import { describe, expect, it } from 'vitest';
import { PROFILES } from '../../lib/config.ts';
import { formatDuration, parseDurationMs } from '../../lib/duration.ts';
import {
  backgroundScenario,
  LEDGER_FLUSH,
  ledgerFlushScenario,
  profileDurationMs,
  profileScenario,
  scenarioEndMs,
  type Workload,
} from '../../lib/profiles.ts';

const open: Workload = {
  exec: 'probe',
  model: 'open',
  rate: 40,
  vus: 8,
  durationMs: 60_000,
  maxIterationMs: 2000,
};
const closed: Workload = { ...open, model: 'closed' };

describe('load profiles', () => {
  it('smoke is a trickle at a constant arrival rate', () => {
    const s = profileScenario('smoke', open) as ConstantArrivalRateScenario;
    expect(s).toMatchObject({
      executor: 'constant-arrival-rate',
      rate: 10,
      duration: '1m',
      maxVUs: 2,
      exec: 'probe',
    });
    // The longest iteration (the probe timeout, 2 s here) plus a 1 s margin.
    expect(s.gracefulStop).toBe('3s');
  });

  it('load ramps up, holds the target rate, and ramps down', () => {
    const s = profileScenario('load', open) as RampingArrivalRateScenario;
    expect(s.executor).toBe('ramping-arrival-rate');
    expect(s.startRate).toBe(0);
    expect(s.stages).toEqual([
      { target: 40, duration: '6s' },
      { target: 40, duration: '1m' },
      { target: 0, duration: '6s' },
    ]);
    expect(s.maxVUs).toBe(8);
  });

  it('stress steps to four times the target, spike jumps to five times and back', () => {
    const stress = profileScenario('stress', open) as RampingArrivalRateScenario;
    expect(Math.max(...stress.stages.map((st) => st.target))).toBe(160);
    expect(stress.maxVUs).toBe(32);
    const spike = profileScenario('spike', open) as RampingArrivalRateScenario;
    expect(spike.stages.map((st) => st.target)).toEqual([40, 200, 200, 40, 40]);
  });

  it('soak holds the target for the whole duration', () => {
    expect(profileScenario('soak', { ...open, durationMs: 3_600_000 })).toMatchObject({
      executor: 'constant-arrival-rate',
      rate: 40,
      duration: '1h',
    });
  });

  it('closed-model workloads use VU executors', () => {
    expect(profileScenario('smoke', closed)).toMatchObject({ executor: 'constant-vus', vus: 1 });
    expect(profileScenario('soak', closed)).toMatchObject({ executor: 'constant-vus', vus: 8 });
    const load = profileScenario('load', closed) as RampingVUsScenario;
    expect(load.executor).toBe('ramping-vus');
    expect(load.stages.map((st) => st.target)).toEqual([8, 8, 0]);
  });

  it('background helpers run exactly as long as the profile', () => {
    for (const p of PROFILES) {
      const total = profileDurationMs(p, 30_000);
      expect(backgroundScenario('heartbeatWrite', 10, total)).toMatchObject({
        executor: 'constant-arrival-rate',
        rate: 10,
        duration: formatDuration(total),
      });
    }
    expect(profileDurationMs('load', 30_000)).toBe(36_000);
    expect(profileDurationMs('spike', 30_000)).toBe(34_000);
  });

  it('the ledger flush starts after every scenario has ended and asks for the whole VU pool', () => {
    const main = profileScenario('load', open); // 6 s + 1 m + 6 s, graceful stop 3 s, up to 8 VUs
    const beat = backgroundScenario('heartbeatWrite', 10, profileDurationMs('load', 60_000)); // 2 VUs, 1 s
    const closedLoad = profileScenario('load', closed); // ramping VUs: its ramp-down (30 s default) counts
    expect(scenarioEndMs(main)).toBe(72_000 + 3_000);
    expect(scenarioEndMs(beat)).toBe(72_000 + 1_000);
    expect(scenarioEndMs(closedLoad)).toBe(72_000 + 30_000);
    expect(scenarioEndMs({ ...beat, startTime: '10s' })).toBe(83_000);
    expect(ledgerFlushScenario({ main, beat, sampler: beat })).toEqual({
      executor: 'per-vu-iterations',
      exec: LEDGER_FLUSH.exec,
      vus: 8 + 2 + 2,
      iterations: 1,
      startTime: '75s',
      maxDuration: '1m',
    });
    expect(ledgerFlushScenario({ closedLoad })).toMatchObject({ vus: 8, startTime: '102s' });
  });
});

describe('durations', () => {
  it('parses k6 duration strings and rejects anything else', () => {
    expect(parseDurationMs('1h2m3s4ms')).toBe(3_723_004);
    expect(parseDurationMs('250us')).toBe(0.25);
    expect(parseDurationMs('1.5s')).toBe(1500);
    expect(['', '5', 's', '1x', '-1s', '1s2'].map(parseDurationMs)).toEqual([
      null,
      null,
      null,
      null,
      null,
      null,
    ]);
  });
  it('formats back into the shortest exact form', () => {
    expect([500, 1000, 90_000, 120_000, 3_600_000].map(formatDuration)).toEqual([
      '500ms',
      '1s',
      '90s',
      '2m',
      '1h',
    ]);
  });
});
