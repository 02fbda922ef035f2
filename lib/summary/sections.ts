/**
 * The consistency report's sections, one declaration each: the workload path it reports on, the (sub)metrics it
 * reads with their kinds, and its Markdown. A scenario lists the paths it uses (lib/thresholds.ts,
 * lib/api/thresholds.ts) and shows only those sections, so a path it never takes prints no table of zeros.
 * k6 keeps a tagged submetric in its summary only when a threshold names it: `reportPlan` turns the sections'
 * needs into those keep-only thresholds and keeps them apart from the verdicts, which are all the reports list.
 * Runtime-neutral.
 */
import type { K6MetricKind } from '../../common/metrics.ts';
import { count, type SummaryData, type Thresholds, type TrendView } from './data.ts';
import {
  type ConsistencyFigures,
  ENDPOINTS,
  type EndpointFigures,
  endpointFigures,
  endpointSubmetricList,
  type FigureOptions,
  GENERATOR_METRICS,
  type GeneratorFigures,
  generatorFigures,
  HEARTBEAT_METRICS,
  heartbeatFigures,
  type MetricNeed,
  needsOf,
  PROBE_METRICS,
  probeFigures,
  RECONCILE_METRICS,
  reconcileFigures,
  SESSION_METRICS,
  sessionFigures,
} from './figures.ts';
import { freshAfter, mdTable, ms, num, pct } from './format.ts';

export type { MetricNeed } from './figures.ts';

/**
 * What a scenario's workload does, as far as the report is concerned: read-after-write probes that poll until
 * the write is visible (`probe`), or reads that are only counted stale or fresh (`stale`), heartbeat
 * sampling, session checks, acknowledgements reconciled at the end, SQL sent from k6, requests to the API.
 */
export type ReportPath = 'probe' | 'stale' | 'heartbeat' | 'session' | 'ledger' | 'sql' | 'api';

export interface ReportContext extends FigureOptions {
  /** The strategies the scenario runs, one row each in the API's strategy comparison; [] for SQL. */
  readonly strategies: readonly string[];
}

export interface ReportSection {
  /** Its heading in consistency.md. */
  readonly title: string;
  /** The path it reports on; absent: every scenario. */
  readonly path?: ReportPath;
  /** Every (sub)metric its Markdown reads. */
  needs(ctx: ReportContext): readonly MetricNeed[];
  /** Its Markdown, heading included, without a trailing blank line. */
  markdown(data: SummaryData, ctx: ReportContext): string;
}

/** What the lag columns are, and the client-side figure beside them. */
function lagNote(upperBounds: number, samples: number, client: TrendView | null): string {
  const basis =
    upperBounds > 0
      ? `${num(upperBounds)} of ${num(samples)} lags are upper bounds (no apply stamp on the replica: its time at the read that saw the row)`
      : "the replica's own apply stamp minus the primary's write time, microsecond resolution";
  const side =
    client && client.count > 0
      ? `; client-side (ack received → first read that saw it returned, whole-ms k6 clock): p50 ${ms(client.p50)}, p95 ${ms(client.p95)}`
      : '';
  return `Lag: server-side, ${basis}${side}.`;
}

/** How probes, the stale rate and read errors relate: said under the table, since an outage moves them apart. */
function probeNote(f: Pick<ConsistencyFigures, 'probeErrors' | 'reads'>): string {
  const errors =
    f.probeErrors > 0
      ? ` ${num(f.probeErrors)} probes had a read fail after their write was acknowledged (\`probe_errors\`): ` +
        'neither stale nor fresh when the immediate read failed, so left out of the stale rate; neither seen ' +
        'nor timed out when a poll failed.'
      : ' No probe had a read fail (`probe_errors` 0).';
  return (
    `Probes: acknowledged probe writes. Stale rate: stale reads over the ${num(f.reads)} immediate reads that ` +
    `answered.${errors}`
  );
}

/** What the two wait columns are (lib/summary/freshness.ts). */
export const FRESHNESS_NOTE =
  'Fresh after: the wait after a write past which at least 99% (99.9%) of reads would have been fresh, from ' +
  'the distribution of the lag over every probe, timed-out ones counted as never fresh (`> timeout`: more ' +
  'than 1% (0.1%) were not visible within the probe timeout). Never below the true wait, at most the next ' +
  'kept percentile above it; with fewer than 100 (1000) probes it is the largest lag, which is then exact.';

export const READ_AFTER_WRITE: ReportSection = {
  title: 'Read after write',
  path: 'probe',
  needs: () => needsOf(PROBE_METRICS),
  markdown: (data) => {
    const f = probeFigures(data);
    const vis = f.visibilityLag;
    return [
      '## Read after write',
      mdTable(
        [
          'probes',
          'stale reads',
          'stale rate',
          'lag p50',
          'lag p95',
          'lag p99',
          'lag max',
          '99% fresh after',
          '99.9% fresh after',
          'timeouts',
          'read errors',
        ],
        [
          [
            num(f.probes),
            num(f.staleReads),
            pct(f.staleRate),
            ms(vis?.p50),
            ms(vis?.p95),
            ms(vis?.p99),
            ms(vis?.max),
            freshAfter(f.freshness, f.freshness?.t99Ms ?? null),
            freshAfter(f.freshness, f.freshness?.t999Ms ?? null),
            num(f.visibilityTimeouts),
            num(f.probeErrors),
          ],
        ],
      ),
      '',
      probeNote(f),
      '',
      FRESHNESS_NOTE,
      '',
      lagNote(f.visibilityUpperBounds, vis?.count ?? 0, f.visibilityLagClient),
    ].join('\n');
  },
};

/** Reads counted stale or fresh, with no poll after a miss: no lag, timeouts or poll errors to show. */
const STALE_METRICS = {
  writes: PROBE_METRICS.probes,
  reads: PROBE_METRICS.reads,
  staleReads: PROBE_METRICS.staleReads,
} as const;

export const STALE_READS: ReportSection = {
  title: 'Stale reads',
  path: 'stale',
  needs: () => needsOf(STALE_METRICS),
  markdown: (data) => {
    const [writes, reads, stale] = [STALE_METRICS.writes, STALE_METRICS.reads, STALE_METRICS.staleReads].map(
      (m) => count(data, m.name),
    ) as [number, number, number];
    return [
      '## Stale reads',
      mdTable(
        ['writes', 'reads', 'stale reads', 'stale rate'],
        [[num(writes), num(reads), num(stale), pct(reads > 0 ? stale / reads : null)]],
      ),
      '',
      'Writes: acknowledged writes. Stale rate: reads that missed a write over the reads that answered; a miss ' +
        'is not polled again, so this workload measures no visibility lag.',
    ].join('\n');
  },
};

export const REPLICA_LAG: ReportSection = {
  title: 'Replica lag (heartbeat)',
  path: 'heartbeat',
  needs: () => needsOf(HEARTBEAT_METRICS),
  markdown: (data) => {
    const f = heartbeatFigures(data);
    return [
      '## Replica lag (heartbeat)',
      mdTable(
        ['samples', 'p50', 'p95', 'p99', 'max', 'Seconds_Behind max'],
        [
          [
            num(f.heartbeatLag?.count),
            ms(f.heartbeatLag?.p50),
            ms(f.heartbeatLag?.p95),
            ms(f.heartbeatLag?.p99),
            ms(f.heartbeatLag?.max),
            f.secondsBehindMax === null ? 'n/a' : `${f.secondsBehindMax} s`,
          ],
        ],
      ),
      '',
      'Heartbeat lag: the apply lag of the newest beat on the replica (its own apply stamp), or the age of the ' +
        'oldest beat it lacks when that is more; samples from before this run are left out.',
    ].join('\n');
  },
};

export const SESSION_GUARANTEES: ReportSection = {
  title: 'Session guarantees',
  path: 'session',
  needs: () => needsOf(SESSION_METRICS),
  markdown: (data) => {
    const f = sessionFigures(data);
    return [
      '## Session guarantees',
      mdTable(
        ['read-your-writes violations', 'monotonic-read violations'],
        [[num(f.rywViolations), num(f.monotonicViolations)]],
      ),
    ].join('\n');
  },
};

export const RECONCILIATION: ReportSection = {
  title: 'Reconciliation',
  path: 'ledger',
  needs: () => needsOf(RECONCILE_METRICS),
  markdown: (data) => {
    const r = reconcileFigures(data);
    return [
      '## Reconciliation',
      mdTable(
        ['acknowledged writes', 'checked', 'unverified', 'missing on writer', 'missing on reader'],
        [
          [
            num(r.acknowledged),
            num(r.checked),
            num(Math.max(0, r.acknowledged - r.checked)),
            num(r.missingWriter),
            num(r.missingReader),
          ],
        ],
      ),
      '',
      "Unverified: acknowledgements still in a VU's ledger buffer when the run ended (an interrupted run); they " +
        'were not checked, so they are never counted missing.',
    ].join('\n');
  },
};

function endpointRow(name: string, e: EndpointFigures): string[] {
  const l = e.latency;
  return [
    name,
    num(e.statements),
    num(e.perSecond, 1),
    ms(l?.avg),
    ms(l?.p50),
    ms(l?.p95),
    ms(l?.p99),
    ms(l?.max),
    num(e.errors),
  ];
}

export const ENDPOINTS_SECTION: ReportSection = {
  title: 'Endpoints',
  path: 'sql',
  needs: endpointSubmetricList,
  markdown: (data, ctx) =>
    [
      '## Endpoints',
      mdTable(
        ['endpoint', 'statements', 'per second', 'avg', 'p50', 'p95', 'p99', 'max', 'errors'],
        ENDPOINTS.map((e) => endpointRow(e, endpointFigures(data, e, ctx))),
      ),
      '',
      "Statement latencies are client-side on k6's clock, which has whole milliseconds: the avg is unbiased " +
        '(a statement of 0.3 ms reads 1 ms three times in ten), the percentiles are ±1 ms.',
    ].join('\n'),
};

function generatorRow(g: GeneratorFigures): string[] {
  const rate = (v: number | null) => (v === null ? 'n/a' : `${num(v, 1)}/s`);
  return [
    num(g.iterations),
    num(g.dropped),
    rate(g.achievedPerSecond),
    rate(g.scheduledPerSecond),
    g.peakVus === null || g.maxVus === null ? 'n/a' : `${g.peakVus} of ${g.maxVus}`,
  ];
}

/** Every scenario: k6 itself may be what held the load back. */
export const LOAD_GENERATOR: ReportSection = {
  title: 'Load generator',
  needs: () => needsOf(GENERATOR_METRICS),
  markdown: (data, ctx) =>
    [
      '## Load generator',
      mdTable(
        ['iterations started', 'dropped', 'achieved', 'scheduled', 'peak VUs'],
        [generatorRow(generatorFigures(data, ctx))],
      ),
      '',
      'Dropped: iterations k6 could not start on time (no free VU within CQRS_VUS); above 0 the client-side ' +
        "latencies include its own queueing. Rates are over the workload's schedule (or the whole run when " +
        'that is unknown), helper scenarios included.',
    ].join('\n'),
};

/** The report's sections in order; a family's own (the API's strategy comparison) go before the load generator. */
export function sectionsFor(
  paths: readonly ReportPath[],
  familySections: readonly ReportSection[] = [],
): ReportSection[] {
  return [
    READ_AFTER_WRITE,
    STALE_READS,
    REPLICA_LAG,
    SESSION_GUARANTEES,
    RECONCILIATION,
    ENDPOINTS_SECTION,
    ...familySections,
    LOAD_GENERATOR,
  ].filter((s) => s.path === undefined || paths.includes(s.path));
}

/** A threshold that always passes, by metric kind: it only makes k6 keep the (sub)metric in the summary. */
export const KEEP_EXPRESSION: Readonly<Record<K6MetricKind, string>> = {
  counter: 'count>=0',
  trend: 'max>=0',
  gauge: 'value>=0',
  rate: 'rate>=0',
};

/** A tagged key (`name{tag:value}`): k6 has it in the summary only when a threshold names it. */
export const isSubmetric = (key: string): boolean => key.includes('{');

/** One keep-only threshold per submetric the sections read (a metric itself is there whenever it got a sample). */
export function keepThresholds(sections: readonly ReportSection[], ctx: ReportContext): Thresholds {
  const out: Thresholds = {};
  for (const s of sections)
    for (const need of s.needs(ctx)) if (isSubmetric(need.key)) out[need.key] = [KEEP_EXPRESSION[need.kind]];
  return out;
}

/** Everything a scenario's thresholds and reports are built from. */
export interface ReportPlan extends ReportContext {
  readonly sections: readonly ReportSection[];
  /** The user-facing thresholds (defaults, then CQRS_THRESHOLDS): the reports list these and only these. */
  readonly verdicts: Thresholds;
  /**
   * What k6 gets (options.thresholds): the verdicts, plus a keep-only threshold for each submetric the sections
   * read that no verdict names (a verdict on it keeps it already, and stays the only expression there).
   */
  readonly thresholds: Thresholds;
}

export function reportPlan(
  sections: readonly ReportSection[],
  strategies: readonly string[],
  verdicts: Thresholds,
): ReportPlan {
  const thresholds: Thresholds = {};
  for (const [key, exprs] of Object.entries(keepThresholds(sections, { strategies })))
    if (!verdicts[key]?.length) thresholds[key] = exprs;
  for (const [key, exprs] of Object.entries(verdicts)) if (exprs.length > 0) thresholds[key] = [...exprs];
  return { sections, strategies, verdicts, thresholds };
}
