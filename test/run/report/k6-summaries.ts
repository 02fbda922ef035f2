/**
 * Real summary data for the report's tests, without a database: a stock k6 runs a generated script that
 * declares every metric of common/metrics.ts, adds known samples (tags included), keeps the trend stats of
 * SUMMARY_TREND_STATS and gets the thresholds of the scenario's own report plan (so the submetrics the
 * reports read are kept exactly as in a real run); its handleSummary writes k6's summary data as
 * summary.json. k6 computes every percentile and count. The k6 is K6_STOCK_BIN, else the pinned test runtime
 * of build/test-k6/install.sh; everything is written under a temp folder.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { K6_METRICS, type K6MetricKey } from '../../../common/metrics.ts';
import { apiReportPlan } from '../../../lib/api/thresholds.ts';
import { SUMMARY_TREND_STATS, type SummaryData, type Thresholds } from '../../../lib/summary/data.ts';
import { sqlReportPlan } from '../../../lib/thresholds.ts';
import type { HeartbeatSeries, ReportRun } from '../../../run/report/model.ts';

export { STOCK_K6, STOCK_K6_MISSING as NO_STOCK_K6 } from '../../helpers/k6-e2e.ts';

type Tags = Readonly<Record<string, string>>;
/** [metric, value, tags]: one `.add()` in the script. */
export type Sample = readonly [K6MetricKey, number, Tags?];

const SCRIPT = `
import { Counter, Gauge, Rate, Trend } from 'k6/metrics';
const KINDS = { counter: Counter, gauge: Gauge, rate: Rate, trend: Trend };
const DEFS = JSON.parse(open('./metrics.json'));
const SAMPLES = JSON.parse(open('./samples.json'));
const metrics = {};
for (const [key, d] of Object.entries(DEFS)) metrics[key] = new KINDS[d.kind](d.name, d.isTime);
export const options = JSON.parse(open('./options.json'));
export default function () {
  for (const [key, value, tags] of SAMPLES) metrics[key].add(value, tags || {});
}
export function handleSummary(data) {
  return { 'summary.json': JSON.stringify(data, null, 2) };
}
`;

export interface K6Summary {
  readonly exitCode: number;
  readonly summary: SummaryData;
  readonly output: string;
}

/** Runs the script once in `dir` (created) and reads back the summary.json k6 wrote there. */
export async function k6Summary(
  k6: string,
  dir: string,
  samples: readonly Sample[],
  thresholds: Thresholds,
): Promise<K6Summary> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'script.js'), SCRIPT);
  writeFileSync(join(dir, 'metrics.json'), JSON.stringify(K6_METRICS));
  writeFileSync(join(dir, 'samples.json'), JSON.stringify(samples));
  writeFileSync(
    join(dir, 'options.json'),
    JSON.stringify({ vus: 1, iterations: 1, summaryTrendStats: SUMMARY_TREND_STATS, thresholds }),
  );
  const r = await execa(k6, ['run', '--quiet', '--no-color', 'script.js'], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: dir },
    extendEnv: false,
    reject: false,
    all: true,
    timeout: 60_000,
  });
  const file = join(dir, 'summary.json');
  if (!existsSync(file)) throw new Error(`k6 wrote no summary.json (exit ${r.exitCode}):\n${r.all}`);
  return {
    exitCode: r.exitCode ?? -1,
    summary: JSON.parse(readFileSync(file, 'utf8')) as SummaryData,
    output: r.all ?? '',
  };
}

/** mulberry32: the same samples on every run. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A sample of an exponential distribution with the given mean. */
const exp = (rnd: () => number, mean: number) => -mean * Math.log(1 - rnd());

export const PROBES = 400;

/** How one read strategy behaves at an injected delay, for the generated samples. */
interface Behaviour {
  readonly staleShare: number;
  readonly timeouts: number;
  /** Server-side visibility lag of one probe, ms. */
  lag(rnd: () => number): number;
  /** Share of reads the primary serves. */
  readonly primaryShare: number;
  /** One read's latency, ms. */
  read(rnd: () => number): number;
}

function behaviour(strategy: string, lagMs: number): Behaviour {
  const replicaLag = (rnd: () => number) => lagMs + 0.15 + exp(rnd, 0.35 + lagMs / 20);
  const staleShare = Math.min(0.97, 0.06 + lagMs / 45);
  const timeouts = lagMs >= 50 ? 3 : 0;
  switch (strategy) {
    case 'primary':
      return {
        staleShare: 0,
        timeouts: 0,
        lag: (rnd) => 0.02 + exp(rnd, 0.03),
        primaryShare: 1,
        read: (rnd) => 1.4 + exp(rnd, 0.6),
      };
    case 'gtid-wait':
      return {
        staleShare: 0,
        timeouts,
        lag: replicaLag,
        primaryShare: lagMs >= 50 ? 0.04 : 0.005,
        read: (rnd) => 1.1 + lagMs + exp(rnd, 0.5 + lagMs / 10),
      };
    default:
      return { staleShare, timeouts, lag: replicaLag, primaryShare: 0, read: (rnd) => 0.9 + exp(rnd, 0.4) };
  }
}

/** The probe, endpoint and ledger samples a read-after-write workload adds, tagged `tags`. */
function probeSamples(b: Behaviour, rnd: () => number, tags: Tags): Sample[] {
  const out: Sample[] = [];
  const stale = Math.round(PROBES * b.staleShare);
  for (let i = 0; i < PROBES; i++) {
    out.push(['probeWrites', 1, tags], ['probeReads', 1, tags]);
    if (i < stale) out.push(['staleReads', 1, tags]);
    if (i < b.timeouts) out.push(['visibilityTimeouts', 1, tags]);
    else out.push(['visibilityLag', b.lag(rnd), tags], ['visibilityTimeouts', 0, tags]);
    out.push(['ackedWrites', 1], ['ledgerFlushed', 1], ['reconcileChecked', 1]);
  }
  return out;
}

function endpointSamples(rnd: () => number, lagMs: number): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < PROBES; i++) {
    const writer = { endpoint: 'writer', op: 'probe_insert' };
    const reader = { endpoint: 'reader', op: 'point_read' };
    out.push(['dbQueries', 1, writer], ['dbQueryDuration', 2 + exp(rnd, 1.2), writer]);
    out.push(['dbQueries', 1, reader], ['dbQueryDuration', 0.6 + exp(rnd, 0.4 + lagMs / 200), reader]);
  }
  return out;
}

export interface FixtureRun extends ReportRun {
  readonly output: string;
}

const asRun = (r: K6Summary, run: Omit<ReportRun, 'summary' | 'exitCode'>): FixtureRun => ({
  ...run,
  exitCode: r.exitCode,
  summary: r.summary,
  output: r.output,
});

/** A sql-read-after-write run at an injected delay. */
export async function sqlProbeRun(k6: string, dir: string, lag: string, lagMs: number): Promise<FixtureRun> {
  const rnd = random(1000 + lagMs);
  const samples = [...probeSamples(behaviour('eventual', lagMs), rnd, {}), ...endpointSamples(rnd, lagMs)];
  const r = await k6Summary(k6, dir, samples, sqlReportPlan('sql-read-after-write', {}).thresholds);
  return asRun(r, {
    testId: `exp-sql-raw-lag${lagMs}`,
    scenario: 'sql-read-after-write',
    lag,
    strategy: 'eventual',
  });
}

/** Heartbeat samples of a run at an injected delay: one per second for a minute, from `start` (unix s). */
export function heartbeatSeries(lagMs: number, start: number): HeartbeatSeries {
  const rnd = random(7 + lagMs);
  const t = Array.from({ length: 60 }, (_, i) => start + i);
  return { t, lagMs: t.map((_, i) => lagMs + 0.3 + exp(rnd, 0.4) + (i % 20 === 10 ? 6 : 0)) };
}

/** A sql-replica-lag run: heartbeat lag, no probes. */
export async function sqlReplicaLagRun(
  k6: string,
  dir: string,
  lag: string,
  lagMs: number,
): Promise<FixtureRun> {
  const rnd = random(2000 + lagMs);
  const samples: Sample[] = [...endpointSamples(rnd, lagMs)];
  const beats = heartbeatSeries(lagMs, 1_767_225_600 + lagMs * 10);
  for (const v of beats.lagMs) samples.push(['heartbeatLag', v], ['secondsBehind', 0]);
  const r = await k6Summary(k6, dir, samples, sqlReportPlan('sql-replica-lag', {}).thresholds);
  return asRun(r, {
    testId: `exp-sql-replica-lag${lagMs}`,
    scenario: 'sql-replica-lag',
    lag,
    strategy: 'eventual',
    heartbeat: beats,
  });
}

export const API_STRATEGIES = ['eventual', 'primary', 'gtid-wait'] as const;

/** How many of a strategy's 2 × PROBES client reads the primary serves in apiProbeRun. */
export function primaryReads(strategy: string, lagMs: number): number {
  return Math.round(2 * PROBES * behaviour(strategy, lagMs).primaryShare);
}

/** Immediate reads of a probe run that were stale. */
export function staleReads(strategy: string, lagMs: number): number {
  return Math.round(PROBES * behaviour(strategy, lagMs).staleShare);
}

/** Probes of a probe run that timed out. */
export function timedOut(strategy: string, lagMs: number): number {
  return behaviour(strategy, lagMs).timeouts;
}

/** An api-read-after-write run comparing API_STRATEGIES at an injected delay. */
export async function apiProbeRun(k6: string, dir: string, lag: string, lagMs: number): Promise<FixtureRun> {
  const rnd = random(3000 + lagMs);
  const samples: Sample[] = [];
  for (const strategy of API_STRATEGIES) {
    const b = behaviour(strategy, lagMs);
    samples.push(...probeSamples(b, rnd, { strategy }));
    // Two client reads per probe (the immediate one and one poll), each from the source its strategy chose.
    const primary = primaryReads(strategy, lagMs);
    for (let i = 0; i < 2 * PROBES; i++) {
      const source = i < primary ? 'primary' : 'replica';
      samples.push(['apiReads', 1, { strategy, source }], ['apiReadDuration', b.read(rnd), { strategy }]);
    }
  }
  const plan = apiReportPlan('api-read-after-write', API_STRATEGIES, {});
  const r = await k6Summary(k6, dir, samples, plan.thresholds);
  return asRun(r, { testId: `exp-api-raw-lag${lagMs}`, scenario: 'api-read-after-write', lag });
}

/** A representative experiment: SQL probe and replica-lag runs at three delays, API runs at two. */
export async function experimentRuns(k6: string, work: string): Promise<FixtureRun[]> {
  const lags = [
    ['0', 0],
    ['5ms', 5],
    ['50ms', 50],
  ] as const;
  const runs: Promise<FixtureRun>[] = [];
  for (const [lag, lagMs] of lags) {
    runs.push(sqlProbeRun(k6, join(work, `sql-raw-${lagMs}`), lag, lagMs));
    runs.push(sqlReplicaLagRun(k6, join(work, `sql-rl-${lagMs}`), lag, lagMs));
    if (lagMs !== 5) runs.push(apiProbeRun(k6, join(work, `api-raw-${lagMs}`), lag, lagMs));
  }
  return Promise.all(runs);
}
