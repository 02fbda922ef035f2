/** Instant queries against a real Prometheus's HTTP API, for the tests that check what a run streamed. */

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query at `atS` (Unix seconds), or now. */
export async function promInstant(prom: string, expr: string, atS?: number): Promise<PromSample[]> {
  const time = atS === undefined ? '' : `&time=${atS}`;
  const res = await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(expr)}${time}`);
  const body = (await res.json()) as { status: string; data?: { result: PromSample[] }; error?: string };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data?.result ?? [];
}

/** The labels of each series `expr` selects. */
export async function promSeries(prom: string, expr: string): Promise<Record<string, string>[]> {
  return (await promInstant(prom, expr)).map((s) => s.metric);
}

/** The value of a one-series instant query; NaN when it selects nothing. */
export async function promValue(prom: string, expr: string, atS?: number): Promise<number> {
  const [first] = await promInstant(prom, expr, atS);
  return first ? Number(first.value[1]) : Number.NaN;
}

/**
 * A run's series as of its last sample: stale markers end every series when the run ends, so an instant query
 * asked after it sees nothing, but a range still holds the samples.
 */
export const lastOfRun = (series: string, testid: string, range = '5m') =>
  `last_over_time(${series}{testid="${testid}"}[${range}])`;

/**
 * The time (Unix s) of the newest sample, float or native histogram, of the series `selector` picks within
 * the last 5 minutes: what an instant query must be asked at to see a run that has ended, for functions
 * Prometheus 2.42 does not apply to native histograms over a range (last_over_time answers NaN for them).
 */
export async function lastSampleTime(prom: string, selector: string): Promise<number> {
  const res = await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(`${selector}[5m]`)}`);
  const body = (await res.json()) as {
    data?: { result: { values?: [number, string][]; histograms?: [number, unknown][] }[] };
  };
  const times = (body.data?.result ?? []).flatMap((r) =>
    [...(r.values ?? []), ...(r.histograms ?? [])].map(([t]) => t),
  );
  if (times.length === 0) throw new Error(`${selector}: no sample in the last 5 minutes`);
  return Math.max(...times);
}
