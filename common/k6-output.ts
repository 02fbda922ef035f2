/**
 * The k6 output settings of every way of running: `npm start`, the README's `k6 run` line (through the stack's
 * env file), Compose and k6-operator TestRuns. One place decides how a run streams to Prometheus:
 * remote-write, native histograms (percentiles that merge across runners), trend stats for servers without
 * them, push interval, stale markers and the run's tags. Runtime-neutral: no imports.
 */

/** `k6 run -o <this>`. */
export const REMOTE_WRITE_OUTPUT = 'experimental-prometheus-rw';

/**
 * Trend stats k6 sends as gauges when native histograms are off: each its own series, per runner, computed
 * over the run so far (not a window), in seconds for time trends. With native histograms on, k6 sends the
 * histogram instead and none of these. No `count`: k6 v2.2 divides it by 1000 for time trends as if it were
 * a time (internal/output/prometheusrw/remotewrite/trend.go), so it would be wrong.
 */
export const REMOTE_WRITE_TREND_STATS = ['p(50)', 'p(95)', 'p(99)', 'max'] as const;

/**
 * How often k6 pushes. k6's default, 5 s, gives a 10 s run two points per series (a heartbeat-lag chart of
 * two dots); at 1 s it can be watched live and its time series drawn, and Prometheus (the local stack scrapes
 * at 1 s anyway) takes that from many runners. The dashboards' datasource takes it as its minimum interval.
 */
export const REMOTE_WRITE_PUSH_INTERVAL = '1s';

/** Prometheus's remote-write receiver below its base URL. */
export const REMOTE_WRITE_PATH = '/api/v1/write';

/**
 * The run-level tags, on every sample of the run. `script` is the bundle (k6's own `scenario` tag names the
 * scenario inside it); `strategy` is the SQL scenarios' strategy (the API scenarios tag each request with
 * its own, so they pass none); `lag` is the injected replication delay.
 */
export interface RunTags {
  readonly testid: string;
  readonly script?: string;
  readonly strategy?: string;
  readonly lag?: string;
}

export interface OutputOptions {
  /** Prometheus's base URL, e.g. http://127.0.0.1:29090. */
  readonly prometheusUrl: string;
  /** False for a Prometheus without native histograms: percentiles then come only from the trend stats. */
  readonly nativeHistograms?: boolean;
  readonly pushInterval?: string;
}

export interface K6OutputSettings {
  /** `k6 run` arguments, before the script. */
  readonly args: readonly string[];
  /** Environment of the k6 process (or of a runner pod). */
  readonly env: Readonly<Record<string, string>>;
}

/** The remote-write receiver of a Prometheus at `base`. */
export function remoteWriteUrl(base: string): string {
  return `${base.replace(/\/+$/, '')}${REMOTE_WRITE_PATH}`;
}

/** The K6_* variables that point a run's remote-write output at a Prometheus, run tags aside. */
export function remoteWriteEnv(opts: OutputOptions): Record<string, string> {
  return {
    K6_PROMETHEUS_RW_SERVER_URL: remoteWriteUrl(opts.prometheusUrl),
    K6_PROMETHEUS_RW_TREND_STATS: REMOTE_WRITE_TREND_STATS.join(','),
    K6_PROMETHEUS_RW_PUSH_INTERVAL: opts.pushInterval ?? REMOTE_WRITE_PUSH_INTERVAL,
    // Series end when the run ends, instead of lingering 5 minutes in every panel.
    K6_PROMETHEUS_RW_STALE_MARKERS: 'true',
    ...(opts.nativeHistograms === false ? {} : { K6_FEATURES: 'native-histograms' }),
  };
}

/** `--tag k=v` for each run tag that is set, in a fixed order. */
export function tagArgs(tags: RunTags): string[] {
  const order = ['testid', 'script', 'strategy', 'lag'] as const;
  return order.flatMap((k) => (tags[k] === undefined ? [] : ['--tag', `${k}=${tags[k]}`]));
}

/** Everything a run needs to stream to Prometheus: `-o`, its tags, and the K6_* environment. */
export function k6OutputSettings(opts: OutputOptions, tags: RunTags): K6OutputSettings {
  return { args: ['-o', REMOTE_WRITE_OUTPUT, ...tagArgs(tags)], env: remoteWriteEnv(opts) };
}

/**
 * A test id for a run that was given none: a prefix, the UTC time to the second and a short random suffix, in
 * the alphabet CQRS_TEST_ID accepts (lib/config.ts), so two runs started in the same second differ.
 */
export function newTestId(prefix: string, now: Date, random: () => number = Math.random): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const suffix = Math.floor(random() * 36 ** 4)
    .toString(36)
    .padStart(4, '0');
  return `${prefix}-${stamp}-${suffix}`;
}

/** The series-name suffix k6 gives a trend stat: `p(99.9)` → `p999`, `max` → `max`. */
export function trendStatSuffix(stat: string): string {
  return stat.replace(/[()]/g, '').replace('.', '');
}

/** The file k6's web dashboard exports its report to, in a run's report folder. */
export const WEB_DASHBOARD_FILE = 'k6-dashboard.html';

/**
 * k6's own web dashboard, saved as one HTML file at the end of the run (K6_WEB_DASHBOARD_EXPORT), with no
 * live server (port -1), so runs one after another never fight over its port. k6 skips the export of a run
 * shorter than two aggregation periods (10 s by default), so the period is 1 s.
 */
export function webDashboardEnv(exportFile: string): Record<string, string> {
  return {
    K6_WEB_DASHBOARD: 'true',
    K6_WEB_DASHBOARD_PORT: '-1',
    K6_WEB_DASHBOARD_PERIOD: '1s',
    K6_WEB_DASHBOARD_EXPORT: exportFile,
  };
}
