/**
 * Load profiles, one typed module for every scenario. Open-model workloads (a request rate the system must
 * absorb, independent of its latency) use arrival-rate executors; closed-model ones (a fixed population of
 * clients) use VU executors. Background helpers (heartbeat writer, samplers) run at a constant rate for the
 * whole profile. Runtime-neutral: it only builds option objects.
 */
import type { Scenario, Stage } from 'k6/options';
import type { ProfileName } from './config.ts';
import { formatDuration, parseDurationMs } from './duration.ts';

export type LoadModel = 'open' | 'closed';

export interface Workload {
  /** Exported function of the scenario script. */
  readonly exec: string;
  readonly model: LoadModel;
  /** Target iterations/s (open model). */
  readonly rate: number;
  /** VUs (closed model) or max VUs (open model). */
  readonly vus: number;
  /** Main stage length. */
  readonly durationMs: number;
  /** Longest iteration the workload can have (e.g. the probe timeout): graceful stop waits this long. */
  readonly maxIterationMs?: number;
  readonly tags?: Readonly<Record<string, string>>;
}

interface Step {
  /** Multiple of the target (rate or VUs). */
  readonly level: number;
  readonly ms: number;
}

const rampMs = (durationMs: number) => Math.max(1000, Math.round(durationMs * 0.1));

/** The shape of each profile, as steps relative to the target; step 0 ramps from `start`. */
export function profileSteps(profile: ProfileName, durationMs: number): { start: number; steps: Step[] } {
  const ramp = rampMs(durationMs);
  switch (profile) {
    case 'smoke':
    case 'soak':
      return { start: 1, steps: [{ level: 1, ms: durationMs }] };
    case 'load':
      return {
        start: 0,
        steps: [
          { level: 1, ms: ramp },
          { level: 1, ms: durationMs },
          { level: 0, ms: ramp },
        ],
      };
    case 'stress': {
      const quarter = Math.max(1000, Math.round(durationMs / 4));
      return {
        start: 0,
        steps: [1, 2, 3, 4].flatMap((k) => [
          { level: k, ms: ramp },
          { level: k, ms: quarter },
        ]),
      };
    }
    case 'spike': {
      const third = Math.max(1000, Math.round(durationMs / 3));
      return {
        start: 1,
        steps: [
          { level: 1, ms: third },
          { level: 5, ms: 2000 },
          { level: 5, ms: third },
          { level: 1, ms: 2000 },
          { level: 1, ms: third },
        ],
      };
    }
  }
}

/** Total length of a profile, so background scenarios can run exactly as long. */
export function profileDurationMs(profile: ProfileName, durationMs: number): number {
  return profileSteps(profile, durationMs).steps.reduce((sum, s) => sum + s.ms, 0);
}

const isConstant = (profile: ProfileName) => profile === 'smoke' || profile === 'soak';

/** Smoke is a correctness check: a trickle, whatever the target says. */
const SMOKE_MAX_RATE = 10;
const SMOKE_MAX_VUS = 2;

/**
 * How long a scenario lets running iterations finish after its end: the longest iteration plus a margin. It
 * also delays the ledger flush (ledgerFlushScenario), which must start after every other scenario is done.
 */
const GRACE_MARGIN_MS = 1000;

export function profileScenario(profile: ProfileName, w: Workload): Scenario {
  const gracefulStop = formatDuration((w.maxIterationMs ?? 0) + GRACE_MARGIN_MS);
  const base = { exec: w.exec, gracefulStop, ...(w.tags ? { tags: { ...w.tags } } : {}) };
  const { start, steps } = profileSteps(profile, w.durationMs);
  const rate = profile === 'smoke' ? Math.min(w.rate, SMOKE_MAX_RATE) : w.rate;
  const vus = profile === 'smoke' ? Math.min(w.vus, SMOKE_MAX_VUS) : w.vus;
  const peak = Math.max(...steps.map((s) => s.level));

  if (w.model === 'open') {
    // Enough VUs for the peak; k6 grows the pool up to maxVUs when iterations run long.
    const maxVUs = Math.max(1, vus * (isConstant(profile) ? 1 : Math.ceil(peak)));
    const preAllocatedVUs = Math.max(1, Math.min(maxVUs, Math.ceil(rate * peak)));
    if (isConstant(profile)) {
      return {
        ...base,
        executor: 'constant-arrival-rate',
        rate,
        timeUnit: '1s',
        duration: formatDuration(w.durationMs),
        preAllocatedVUs,
        maxVUs,
      };
    }
    return {
      ...base,
      executor: 'ramping-arrival-rate',
      startRate: Math.round(rate * start),
      timeUnit: '1s',
      preAllocatedVUs,
      maxVUs,
      stages: steps.map(
        (s): Stage => ({ target: Math.round(rate * s.level), duration: formatDuration(s.ms) }),
      ),
    };
  }
  if (isConstant(profile)) {
    return {
      ...base,
      executor: 'constant-vus',
      vus: profile === 'smoke' ? 1 : vus,
      duration: formatDuration(w.durationMs),
    };
  }
  return {
    ...base,
    executor: 'ramping-vus',
    startVUs: Math.round(vus * start),
    stages: steps.map((s): Stage => ({ target: Math.round(vus * s.level), duration: formatDuration(s.ms) })),
  };
}

/** A helper that must tick at a fixed rate for the whole run (heartbeat writer, lag samplers). */
export function backgroundScenario(exec: string, ratePerSecond: number, durationMs: number): Scenario {
  return {
    executor: 'constant-arrival-rate',
    exec,
    rate: ratePerSecond,
    timeUnit: '1s',
    duration: formatDuration(durationMs),
    preAllocatedVUs: 1,
    maxVUs: 2,
    gracefulStop: formatDuration(GRACE_MARGIN_MS),
  };
}

/** Name and exec function of the scenario that flushes every VU's ledger buffer (lib/ledger.ts). */
export const LEDGER_FLUSH = { scenario: 'ledger_flush', exec: 'flushLedger' } as const;

const ms = (d: string | undefined, fallback = 0) =>
  d === undefined ? fallback : (parseDurationMs(d) ?? fallback);

/** When a scenario is over for sure: start, run time, then its graceful stop (and ramp-down for VU ramps). */
export function scenarioEndMs(s: Scenario): number {
  const start = ms(s.startTime);
  const grace = ms(s.gracefulStop, 30_000);
  switch (s.executor) {
    case 'constant-arrival-rate':
    case 'constant-vus':
      return start + ms(s.duration) + grace;
    case 'ramping-arrival-rate':
      return start + s.stages.reduce((t, st) => t + ms(st.duration), 0) + grace;
    case 'ramping-vus':
      return (
        start +
        s.stages.reduce((t, st) => t + ms(st.duration), 0) +
        Math.max(grace, ms(s.gracefulRampDown, 30_000))
      );
    default:
      return start + ms((s as { maxDuration?: string }).maxDuration, 600_000) + grace;
  }
}

/** The most VUs a scenario can hold at once. */
function scenarioVUs(s: Scenario): number {
  switch (s.executor) {
    case 'constant-arrival-rate':
    case 'ramping-arrival-rate':
      return s.maxVUs ?? s.preAllocatedVUs;
    case 'ramping-vus':
      return Math.max(s.startVUs ?? 1, ...s.stages.map((st) => st.target));
    default:
      return (s as { vus?: number }).vus ?? 1;
  }
}

/**
 * One iteration of `flushLedger` in every VU, after every other scenario has ended: k6 has no per-VU teardown,
 * but VUs are reused across scenarios that do not overlap, and a scenario asking for as many VUs as the whole
 * pool gets each of them once. Without it, each VU's last partial batch of acknowledgements would stay unchecked.
 */
export function ledgerFlushScenario(others: Readonly<Record<string, Scenario>>): Scenario {
  const list = Object.values(others);
  return {
    executor: 'per-vu-iterations',
    exec: LEDGER_FLUSH.exec,
    vus: Math.max(
      1,
      list.reduce((n, s) => n + scenarioVUs(s), 0),
    ),
    iterations: 1,
    startTime: formatDuration(Math.max(0, ...list.map(scenarioEndMs))),
    maxDuration: '1m',
  } as Scenario;
}

/**
 * The flush scenarios to add to `others`: ledgerFlushScenario, split into one per scenario of `others` when there
 * are several, each asking for that scenario's VUs. With k6-operator parallelism each runner runs its execution
 * segment, and k6 scales every scenario's VUs to it on its own: a sum scaled is not the sum of the scaled. Two
 * scenarios of 3 VUs over 2 runners give runner 1 2 + 2 VUs, but one flush of 6 VUs scaled gives it 3, so one
 * VU's acknowledgements were never flushed, hence never checked. Scaled scenario by scenario, the flushes ask
 * each runner for exactly as many VUs as its workloads held.
 */
export function ledgerFlushScenarios(others: Readonly<Record<string, Scenario>>): Record<string, Scenario> {
  const all = ledgerFlushScenario(others);
  const entries = Object.entries(others);
  if (entries.length <= 1) return { [LEDGER_FLUSH.scenario]: all };
  return Object.fromEntries(
    entries.map(([name, s]) => [
      `${LEDGER_FLUSH.scenario}_${name}`,
      { ...all, vus: Math.max(1, scenarioVUs(s)) },
    ]),
  );
}
