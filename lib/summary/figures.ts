/**
 * The consistency figures of one run, computed from summary data: what the Markdown report shows and what
 * `npm start` puts in its comparison table. Each group of figures reads the metrics its `*_METRICS` table
 * names, and the report sections (sections.ts) declare their needs from the same tables. Runtime-neutral.
 */
import { K6_METRICS, type K6MetricDef, type K6MetricKind } from '../../common/metrics.ts';
import {
  count,
  gaugeMax,
  K6_BUILTIN_METRICS,
  perSecond,
  type SummaryData,
  submetric,
  type TrendView,
  trend,
} from './data.ts';
import { num, pct } from './format.ts';
import { type FreshnessCurve, freshnessCurve } from './freshness.ts';

const M = K6_METRICS;

/** A (sub)metric the report reads, and the kind of its metric. */
export interface MetricNeed {
  /** The metric's name, or a submetric key (`db_errors{endpoint:writer}`). */
  readonly key: string;
  readonly kind: K6MetricKind;
}

/** The needs of a table of metric definitions, in its order. */
export function needsOf(defs: Readonly<Record<string, Pick<K6MetricDef, 'name' | 'kind'>>>): MetricNeed[] {
  return Object.values(defs).map((d) => ({ key: d.name, kind: d.kind }));
}

/** What the read-after-write figures read. */
export const PROBE_METRICS = {
  probes: M.probeWrites,
  reads: M.probeReads,
  staleReads: M.staleReads,
  probeErrors: M.probeErrors,
  visibilityLag: M.visibilityLag,
  visibilityLagClient: M.visibilityLagClient,
  visibilityUpperBounds: M.visibilityLagUpperBound,
  visibilityTimeouts: M.visibilityTimeouts,
} as const satisfies Record<string, K6MetricDef>;

export const HEARTBEAT_METRICS = {
  heartbeatLag: M.heartbeatLag,
  secondsBehind: M.secondsBehind,
} as const satisfies Record<string, K6MetricDef>;

export const SESSION_METRICS = {
  rywViolations: M.rywViolations,
  monotonicViolations: M.monotonicViolations,
} as const satisfies Record<string, K6MetricDef>;

export const RECONCILE_METRICS = {
  acknowledged: M.ackedWrites,
  inLedger: M.ledgerFlushed,
  checked: M.reconcileChecked,
  missingWriter: M.reconcileMissingWriter,
  missingReader: M.reconcileMissingReader,
} as const satisfies Record<string, K6MetricDef>;

/** k6's built-in metrics the load generator's figures read. */
export const GENERATOR_METRICS = {
  iterations: { name: K6_BUILTIN_METRICS.iterations, kind: 'counter' },
  dropped: { name: K6_BUILTIN_METRICS.droppedIterations, kind: 'counter' },
  vus: { name: K6_BUILTIN_METRICS.vus, kind: 'gauge' },
  vusMax: { name: K6_BUILTIN_METRICS.vusMax, kind: 'gauge' },
} as const satisfies Record<string, Pick<K6MetricDef, 'name' | 'kind'>>;

export const ENDPOINTS = ['writer', 'reader'] as const;
export type EndpointName = (typeof ENDPOINTS)[number];

/** Which metric each column of the Endpoints table comes from, tagged `endpoint:<name>`. */
const ENDPOINT_METRICS = {
  statements: M.dbQueries,
  errors: M.dbErrors,
  latency: M.dbQueryDuration,
} as const satisfies Record<string, K6MetricDef>;

export type EndpointSubmetrics = { readonly [K in keyof typeof ENDPOINT_METRICS]: string };

function endpointKeys(endpoint: EndpointName): EndpointSubmetrics {
  const key = (m: K6MetricDef) => submetric(m.name, { endpoint });
  return {
    statements: key(ENDPOINT_METRICS.statements),
    errors: key(ENDPOINT_METRICS.errors),
    latency: key(ENDPOINT_METRICS.latency),
  };
}

/**
 * The one declaration of the per-endpoint submetrics the Endpoints table reads. k6 keeps a tagged submetric
 * in the summary only when a threshold names it; the Endpoints section declares these as its needs, and
 * sections.ts turns the needs into the thresholds that keep them.
 */
export const ENDPOINT_SUBMETRICS: Readonly<Record<EndpointName, EndpointSubmetrics>> = {
  writer: endpointKeys('writer'),
  reader: endpointKeys('reader'),
};

/** Every submetric in ENDPOINT_SUBMETRICS with the kind of its metric. */
export function endpointSubmetricList(): MetricNeed[] {
  const fields = Object.keys(ENDPOINT_METRICS) as (keyof typeof ENDPOINT_METRICS)[];
  return ENDPOINTS.flatMap((e) =>
    fields.map((f) => ({ key: ENDPOINT_SUBMETRICS[e][f], kind: ENDPOINT_METRICS[f].kind })),
  );
}

export interface EndpointFigures {
  readonly statements: number;
  readonly perSecond: number;
  readonly errors: number;
  readonly latency: TrendView | null;
}

/**
 * Whether k6 itself held the load back. Every iteration an arrival-rate executor schedules either starts
 * (`iterations`) or is dropped (`dropped_iterations`, when no VU is free and the pool is at maxVUs), so
 * started + dropped is what was scheduled. Rates are over the scheduled workload's length when the caller
 * knows it (`workloadMs`), else over the whole run (state.testRunDurationMs: setup and teardown included, so
 * both rates read low); their ratio is exact either way.
 */
export interface GeneratorFigures {
  /** Iterations started, every scenario (background helpers included). */
  readonly iterations: number;
  readonly dropped: number;
  /** Started / scheduled (started + dropped); null when nothing was scheduled. */
  readonly startedShare: number | null;
  /** null without a duration. */
  readonly achievedPerSecond: number | null;
  readonly scheduledPerSecond: number | null;
  /** What the rates are averaged over: the workload's schedule, or the whole run; null without either. */
  readonly rateBasis: 'workload' | 'run' | null;
  readonly rateBasisMs: number | null;
  /** Most VUs busy at once (`vus` gauge max) and most allocated (`vus_max`); null when absent. */
  readonly peakVus: number | null;
  readonly maxVus: number | null;
  /** Some iterations were dropped: client-side latencies include the generator's own queueing. */
  readonly limited: boolean;
}

export interface FigureOptions {
  /**
   * Length of the scheduled workload (the profile's stages, e.g. `profileDurationMs(profile, durationMs)`),
   * for rates the user can compare with CQRS_RATE; without it they are over the whole run.
   */
  readonly workloadMs?: number;
}

export interface ConsistencyFigures {
  /** Acknowledged probe writes, error-probes included. */
  readonly probes: number;
  /** Immediate reads that answered: the stale rate's denominator. */
  readonly reads: number;
  readonly staleReads: number;
  /** stale / immediate reads that answered; null without any. */
  readonly staleRate: number | null;
  /** Probes whose immediate read or a poll failed (lib/probe.ts): neither stale nor fresh, lag nor timeout. */
  readonly probeErrors: number;
  /** Server-side: write to visibility where it was read (docs/k6-scenarios.md, "How each number is measured"). */
  readonly visibilityLag: TrendView | null;
  /** Client-side: ack received to the first read that saw it returning (k6's whole-millisecond clock). */
  readonly visibilityLagClient: TrendView | null;
  /** Probes whose server-side lag is an upper bound (no apply stamp on the replica). */
  readonly visibilityUpperBounds: number;
  readonly visibilityTimeouts: number;
  /** The t-visibility curve, with the waits after which 99% and 99.9% of reads are fresh; null without probes. */
  readonly freshness: FreshnessCurve | null;
  readonly heartbeatLag: TrendView | null;
  readonly secondsBehindMax: number | null;
  readonly rywViolations: number;
  readonly monotonicViolations: number;
  readonly reconcile: {
    /** Writes acknowledged to the client (every one is handed to the ledger). */
    readonly acknowledged: number;
    /** Of those, the ones that reached the ledger (the rest were still buffered when the run ended). */
    readonly inLedger: number;
    readonly checked: number;
    readonly missingWriter: number;
    readonly missingReader: number;
  };
  readonly writer: EndpointFigures;
  readonly reader: EndpointFigures;
  readonly errors: number;
  readonly generator: GeneratorFigures;
}

export function endpointFigures(
  data: SummaryData,
  name: EndpointName,
  opts: FigureOptions = {},
): EndpointFigures {
  const keys = ENDPOINT_SUBMETRICS[name];
  const statements = count(data, keys.statements);
  return {
    statements,
    // Over the workload's schedule when known (k6's own rate also counts setup, teardown and the ledger flush).
    perSecond: positive(opts.workloadMs)
      ? statements / (opts.workloadMs / 1000)
      : perSecond(data, keys.statements),
    errors: count(data, keys.errors),
    latency: trend(data, keys.latency),
  };
}

const positive = (ms: number | undefined): ms is number => ms !== undefined && Number.isFinite(ms) && ms > 0;

export function generatorFigures(data: SummaryData, opts: FigureOptions = {}): GeneratorFigures {
  const G = GENERATOR_METRICS;
  const iterations = count(data, G.iterations.name);
  const dropped = count(data, G.dropped.name);
  const runMs = data.state?.testRunDurationMs;
  const [rateBasis, rateBasisMs] = positive(opts.workloadMs)
    ? (['workload', opts.workloadMs] as const)
    : positive(runMs)
      ? (['run', runMs] as const)
      : ([null, null] as const);
  const seconds = rateBasisMs === null ? null : rateBasisMs / 1000;
  return {
    iterations,
    dropped,
    achievedPerSecond: seconds === null ? null : iterations / seconds,
    scheduledPerSecond: seconds === null ? null : (iterations + dropped) / seconds,
    startedShare: iterations + dropped > 0 ? iterations / (iterations + dropped) : null,
    rateBasis,
    rateBasisMs,
    peakVus: gaugeMax(data, G.vus.name),
    maxVus: gaugeMax(data, G.vusMax.name),
    limited: dropped > 0,
  };
}

/**
 * The one line the text summary and consistency.md put at the top of a run whose load generator was the
 * limit; null when it was not (nothing dropped).
 */
export function generatorWarning(g: GeneratorFigures): string | null {
  if (!g.limited) return null;
  const vus =
    g.peakVus !== null && g.maxVus !== null ? ` (${g.peakVus} of ${g.maxVus} VUs busy at peak)` : '';
  const share = pct(g.startedShare);
  const over =
    g.rateBasis === 'run' && g.rateBasisMs !== null
      ? `, rates over the whole ${num(g.rateBasisMs / 1000, 1)} s run incl. setup and teardown`
      : '';
  const rates =
    g.achievedPerSecond !== null && g.scheduledPerSecond !== null
      ? `achieved ${num(g.achievedPerSecond, 1)}/s of ${num(g.scheduledPerSecond, 1)}/s scheduled (${share}${over})`
      : `${num(g.iterations)} of ${num(g.iterations + g.dropped)} scheduled iterations started (${share})`;
  return (
    `⚠ load generator was the limit: ${num(g.dropped)} iterations dropped${vus}; ${rates}` +
    " — client-side latencies include the generator's own queueing (server-side lags do not)"
  );
}

type ProbeFigures = Pick<ConsistencyFigures, keyof typeof PROBE_METRICS | 'staleRate' | 'freshness'>;

export function probeFigures(data: SummaryData): ProbeFigures {
  const P = PROBE_METRICS;
  const reads = count(data, P.reads.name);
  const stale = count(data, P.staleReads.name);
  return {
    probes: count(data, P.probes.name),
    reads,
    staleReads: stale,
    staleRate: reads > 0 ? stale / reads : null,
    probeErrors: count(data, P.probeErrors.name),
    visibilityLag: trend(data, P.visibilityLag.name),
    visibilityLagClient: trend(data, P.visibilityLagClient.name),
    visibilityUpperBounds: count(data, P.visibilityUpperBounds.name),
    visibilityTimeouts: count(data, P.visibilityTimeouts.name),
    freshness: freshnessCurve(data, { lag: P.visibilityLag.name, timeouts: P.visibilityTimeouts.name }),
  };
}

export function heartbeatFigures(
  data: SummaryData,
): Pick<ConsistencyFigures, 'heartbeatLag' | 'secondsBehindMax'> {
  return {
    heartbeatLag: trend(data, HEARTBEAT_METRICS.heartbeatLag.name),
    secondsBehindMax: gaugeMax(data, HEARTBEAT_METRICS.secondsBehind.name),
  };
}

export function sessionFigures(
  data: SummaryData,
): Pick<ConsistencyFigures, 'rywViolations' | 'monotonicViolations'> {
  return {
    rywViolations: count(data, SESSION_METRICS.rywViolations.name),
    monotonicViolations: count(data, SESSION_METRICS.monotonicViolations.name),
  };
}

export function reconcileFigures(data: SummaryData): ConsistencyFigures['reconcile'] {
  const R = RECONCILE_METRICS;
  return {
    acknowledged: count(data, R.acknowledged.name),
    inLedger: count(data, R.inLedger.name),
    checked: count(data, R.checked.name),
    missingWriter: count(data, R.missingWriter.name),
    missingReader: count(data, R.missingReader.name),
  };
}

/** Every figure of the run, whatever its scenario used (what `npm start` tabulates). */
export function consistencyFigures(data: SummaryData, opts: FigureOptions = {}): ConsistencyFigures {
  return {
    ...probeFigures(data),
    ...heartbeatFigures(data),
    ...sessionFigures(data),
    reconcile: reconcileFigures(data),
    writer: endpointFigures(data, 'writer', opts),
    reader: endpointFigures(data, 'reader', opts),
    errors: count(data, M.dbErrors.name),
    generator: generatorFigures(data, opts),
  };
}
