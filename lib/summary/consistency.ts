/**
 * The Markdown consistency report: first, when k6 dropped iterations, one line saying the load generator was
 * the limit (figures.ts, generatorWarning); then stale reads, visibility lag, heartbeat lag, session violations,
 * reconciliation, throughput and latency by endpoint, the load generator's figures (dropped iterations even when
 * 0), thresholds. Extra sections plug in through `extraSections` (the API scenarios add their strategy
 * comparison, lib/api/report.ts).
 */
import { type SummaryData, type TrendView, thresholdResults } from './data.ts';
import {
  type ConsistencyFigures,
  consistencyFigures,
  type EndpointFigures,
  type FigureOptions,
  type GeneratorFigures,
  generatorWarning,
} from './figures.ts';
import { mdTable, ms, num, pct } from './format.ts';

export type ReportSection = (data: SummaryData) => string;

export interface ConsistencyReportOptions extends FigureOptions {
  readonly title: string;
  /** Redacted config lines shown at the top. */
  readonly configLines?: readonly string[];
  readonly extraSections?: readonly ReportSection[];
}

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
function probeNote(f: ConsistencyFigures): string {
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

export function consistencyReport(data: SummaryData, opts: ConsistencyReportOptions): string {
  const f = consistencyFigures(data, opts);
  const parts: string[] = [`# ${opts.title}`, ''];
  const warning = generatorWarning(f.generator);
  if (warning) parts.push(`**${warning}**`, '');
  if (opts.configLines?.length) parts.push('```', ...opts.configLines, '```', '');
  const vis = f.visibilityLag;
  const client = f.visibilityLagClient;
  parts.push(
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
          num(f.visibilityTimeouts),
          num(f.probeErrors),
        ],
      ],
    ),
    '',
    probeNote(f),
    '',
    lagNote(f.visibilityUpperBounds, vis?.count ?? 0, client),
    '',
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
    '',
    '## Session guarantees',
    mdTable(
      ['read-your-writes violations', 'monotonic-read violations'],
      [[num(f.rywViolations), num(f.monotonicViolations)]],
    ),
    '',
    '## Reconciliation',
    mdTable(
      ['acknowledged writes', 'checked', 'unverified', 'missing on writer', 'missing on reader'],
      [
        [
          num(f.reconcile.acknowledged),
          num(f.reconcile.checked),
          num(Math.max(0, f.reconcile.acknowledged - f.reconcile.checked)),
          num(f.reconcile.missingWriter),
          num(f.reconcile.missingReader),
        ],
      ],
    ),
    '',
    "Unverified: acknowledgements still in a VU's ledger buffer when the run ended (an interrupted run); they " +
      'were not checked, so they are never counted missing.',
    '',
  );
  // The API scenarios send no SQL from k6: no table of zeros for them.
  if (f.writer.statements + f.reader.statements + f.writer.errors + f.reader.errors > 0) {
    parts.push(
      '## Endpoints',
      mdTable(
        ['endpoint', 'statements', 'per second', 'avg', 'p50', 'p95', 'p99', 'max', 'errors'],
        [endpointRow('writer', f.writer), endpointRow('reader', f.reader)],
      ),
      '',
      "Statement latencies are client-side on k6's clock, which has whole milliseconds: the avg is unbiased " +
        '(a statement of 0.3 ms reads 1 ms three times in ten), the percentiles are ±1 ms.',
      '',
    );
  }
  for (const section of opts.extraSections ?? []) parts.push(section(data), '');
  parts.push(
    '## Load generator',
    mdTable(
      ['iterations started', 'dropped', 'achieved', 'scheduled', 'peak VUs'],
      [generatorRow(f.generator)],
    ),
    '',
    'Dropped: iterations k6 could not start on time (no free VU within CQRS_VUS); above 0 the client-side ' +
      "latencies include its own queueing. Rates are over the workload's schedule (or the whole run when " +
      'that is unknown), helper scenarios included.',
    '',
  );
  const thresholds = thresholdResults(data);
  if (thresholds.length > 0) {
    parts.push(
      '## Thresholds',
      mdTable(
        ['metric', 'threshold', 'result'],
        thresholds.map((t) => [t.metric, t.expression, t.ok ? 'pass' : '**FAIL**']),
      ),
      '',
    );
  }
  return parts.join('\n');
}
