/**
 * The consistency figures of one run, computed from summary data: what the Markdown report shows and what
 * `npm start` puts in its comparison table. Runtime-neutral.
 */
import { K6_METRICS } from '../../common/metrics.ts';
import { count, gaugeMax, perSecond, type SummaryData, submetric, type TrendView, trend } from './data.ts';

const M = K6_METRICS;

export interface EndpointFigures {
  readonly statements: number;
  readonly perSecond: number;
  readonly errors: number;
  readonly latency: TrendView | null;
}

export interface ConsistencyFigures {
  readonly probes: number;
  readonly staleReads: number;
  /** stale / immediate reads; null without probes. */
  readonly staleRate: number | null;
  readonly visibilityLag: TrendView | null;
  readonly visibilityTimeouts: number;
  readonly heartbeatLag: TrendView | null;
  readonly secondsBehindMax: number | null;
  readonly rywViolations: number;
  readonly monotonicViolations: number;
  readonly reconcile: {
    readonly checked: number;
    readonly missingWriter: number;
    readonly missingReader: number;
  };
  readonly writer: EndpointFigures;
  readonly reader: EndpointFigures;
  readonly errors: number;
}

function endpoint(data: SummaryData, name: 'writer' | 'reader'): EndpointFigures {
  const tags = { endpoint: name };
  return {
    statements: count(data, submetric(M.dbQueries.name, tags)),
    perSecond: perSecond(data, submetric(M.dbQueries.name, tags)),
    errors: count(data, submetric(M.dbErrors.name, tags)),
    latency: trend(data, submetric(M.dbQueryDuration.name, tags)),
  };
}

export function consistencyFigures(data: SummaryData): ConsistencyFigures {
  const reads = count(data, M.rawReads.name);
  const stale = count(data, M.staleReads.name);
  return {
    probes: count(data, M.rawWrites.name),
    staleReads: stale,
    staleRate: reads > 0 ? stale / reads : null,
    visibilityLag: trend(data, M.visibilityLag.name),
    visibilityTimeouts: count(data, M.visibilityTimeouts.name),
    heartbeatLag: trend(data, M.heartbeatLag.name),
    secondsBehindMax: gaugeMax(data, M.secondsBehind.name),
    rywViolations: count(data, M.rywViolations.name),
    monotonicViolations: count(data, M.monotonicViolations.name),
    reconcile: {
      checked: count(data, M.reconcileChecked.name),
      missingWriter: count(data, M.reconcileMissingWriter.name),
      missingReader: count(data, M.reconcileMissingReader.name),
    },
    writer: endpoint(data, 'writer'),
    reader: endpoint(data, 'reader'),
    errors: count(data, M.dbErrors.name),
  };
}
