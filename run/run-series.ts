/**
 * A run's time series, read back from the Prometheus it streamed to: what a summary cannot hold. Today the
 * replica's heartbeat lag over the run, for the HTML report's chart.
 */
import { K6_METRICS, remoteWriteSeries } from '../common/metrics.ts';
import type { HeartbeatSeries } from './report/model.ts';

interface RangeResponse {
  status: string;
  error?: string;
  data?: { result: { values: [number, string][] }[] };
}

/** The PromQL of a run's heartbeat lag: the gauge k6 sends raw, so in ms; the worst runner at each step. */
export function heartbeatQuery(testId: string): string {
  return `max(${remoteWriteSeries(K6_METRICS.heartbeatLagNow)}{testid="${testId}"})`;
}

/**
 * The heartbeat lag of run `testId` between two times (ms), one point per `stepS`; undefined when Prometheus
 * holds none (the run sampled no heartbeat, or did not stream) or does not answer.
 */
export async function heartbeatSeries(
  prometheusUrl: string,
  testId: string,
  fromMs: number,
  toMs: number,
  stepS = 1,
): Promise<HeartbeatSeries | undefined> {
  const q = new URLSearchParams({
    query: heartbeatQuery(testId),
    start: (fromMs / 1000).toFixed(3),
    end: (toMs / 1000).toFixed(3),
    step: String(stepS),
  });
  try {
    const res = await fetch(`${prometheusUrl}/api/v1/query_range?${q}`, {
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json()) as RangeResponse;
    const values = body.status === 'success' ? body.data?.result[0]?.values : undefined;
    const points = (values ?? [])
      .map(([t, v]) => [t, Number(v)] as const)
      .filter(([, v]) => Number.isFinite(v));
    if (points.length === 0) return undefined;
    return { t: points.map(([t]) => t), lagMs: points.map(([, v]) => v) };
  } catch {
    return undefined;
  }
}
