/**
 * House defaults of every dashboard: the datasource and template variables, the k6 label selector, the
 * query shapes that stay right with several k6 runners, panel factories with units, thresholds and colours,
 * stable uids and tags. A dashboard module only picks metrics and lays panels out.
 */
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import * as units from '@grafana/grafana-foundation-sdk/units';
import type { REMOTE_WRITE_TREND_STATS } from '../../common/k6-output.ts';
import {
  type ApiMetricDef,
  K6_METRICS,
  type K6MetricDef,
  nativeHistogramSeries,
  remoteWriteSeries,
} from '../../common/metrics.ts';
import { K6_BUILTINS } from './k6-builtins.ts';
import { MYSQLD_EXPORTER } from './mysqld-exporter.ts';

/** The uid of the provisioned Prometheus datasource (provisioning/datasources), the variable's default. */
export const DATASOURCE_UID = 'cqrs-prometheus';
export const DATASOURCE_NAME = 'Prometheus (CQRS)';

/** Every panel and query points at the `datasource` variable, so one dashboard serves any Prometheus. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template
export const DATASOURCE: common.DataSourceRef = { type: 'prometheus', uid: '${datasource}' };

/** `generated` marks files a human must not edit; `cqrs` groups them (dashboard links use it). */
export const TAGS = ['generated', 'cqrs', 'k6'];

/** A stable uid: the same across regenerations and Grafana instances, so links and bookmarks keep working. */
export function dashboardUid(slug: string): string {
  const uid = `cqrs-${slug}`;
  if (!/^[a-z0-9-]{1,40}$/.test(uid))
    throw new Error(`invalid dashboard uid; reason: expected [a-z0-9-]{1,40}, got ${uid}`);
  return uid;
}

export const UNITS = {
  seconds: units.Seconds,
  share: units.PercentUnit,
  perSecond: units.OpsPerSecond,
  requestsPerSecond: units.RequestsPerSecond,
  bytes: units.BytesIEC,
  count: units.Short,
  none: units.NoUnit,
} as const;

export const COLOURS = { good: 'green', bad: 'red', warn: 'orange', neutral: 'text' } as const;

/**
 * Green only at exactly 0, red from 1, neutral below 0 and when there is no data: the colour of a count that
 * must stay at zero (missing writes, dropped iterations, violations).
 */
export const ZERO_IS_GREEN: dashboard.Threshold[] = [
  { value: null, color: COLOURS.neutral },
  { value: 0, color: COLOURS.good },
  { value: 1, color: COLOURS.bad },
];

/** A 1/0 value as Yes/No: `good` says which answer is green (a thread running: yes; the generator limited: no). */
export function yesNo(good: 'yes' | 'no'): dashboard.ValueMapping[] {
  const [yes, no] = good === 'yes' ? [COLOURS.good, COLOURS.bad] : [COLOURS.bad, COLOURS.good];
  return [
    {
      type: dashboard.MappingType.ValueToText,
      options: { '0': { text: 'No', color: no, index: 0 }, '1': { text: 'Yes', color: yes, index: 1 } },
    },
  ];
}

// ---------------------------------------------------------------------------------------------------------
// Template variables.

/** Labels every k6 series can carry: run tags (`testid`, `script`, `strategy`, `lag`) and k6-operator's. */
export const K6_RUN_LABELS = ['testid', 'script', 'strategy', 'lag', 'testrun_name', 'instance_id'] as const;
export type K6RunLabel = (typeof K6_RUN_LABELS)[number];

const LABELS: Record<K6RunLabel, string> = {
  testid: 'Test id',
  script: 'Script',
  strategy: 'Strategy',
  lag: 'Injected lag',
  testrun_name: 'TestRun',
  instance_id: 'Runner',
};

/** A series selector `{__name__=~"a|b", ...}` matching any of several series. */
export const anyOf = (names: readonly string[], ...matchers: string[]): string =>
  `{${[`__name__=~"${names.join('|')}"`, ...matchers].join(', ')}}`;

/**
 * Where each variable reads its values: every run has `k6_vus`; `strategy` is a run tag on SQL runs and a
 * sample tag on the API's probes, so it is read from either.
 */
const VARIABLE_SOURCES: Record<Exclude<K6RunLabel, 'testid'>, string> = {
  script: `${remoteWriteSeries(K6_BUILTINS.vus)}{testid=~"$testid"}`,
  strategy: anyOf(
    [remoteWriteSeries(K6_BUILTINS.vus), remoteWriteSeries(K6_METRICS.probeWrites)],
    'testid=~"$testid"',
  ),
  lag: `${remoteWriteSeries(K6_BUILTINS.vus)}{testid=~"$testid"}`,
  testrun_name: `${remoteWriteSeries(K6_BUILTINS.vus)}{testid=~"$testid"}`,
  instance_id: `${remoteWriteSeries(K6_BUILTINS.vus)}{testid=~"$testid"}`,
};

export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder('datasource')
    .label('Data source')
    .type('prometheus')
    .current({ selected: true, text: DATASOURCE_NAME, value: DATASOURCE_UID });
}

function queryVariable(
  name: string,
  label: string,
  query: string,
  allValue: string,
): dashboard.QueryVariableBuilder {
  return new dashboard.QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCE)
    .query(query)
    .definition(query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .allValue(allValue)
    .current({ selected: true, text: ['All'], value: ['$__all'] });
}

/**
 * The k6 variables. `testid` is read as Grafana's official k6 dashboards read it, so both open side by side;
 * All is `.+` (some run). The others' All is `.*`, so a series without that label still matches.
 */
export function k6Variables(): dashboard.QueryVariableBuilder[] {
  const testid = queryVariable(
    'testid',
    LABELS.testid,
    `label_values(${remoteWriteSeries(K6_BUILTINS.vus)}, testid)`,
    '.+',
  );
  const rest = (Object.keys(VARIABLE_SOURCES) as Exclude<K6RunLabel, 'testid'>[]).map((label) =>
    queryVariable(label, LABELS[label], `label_values(${VARIABLE_SOURCES[label]}, ${label})`, '.*'),
  );
  return [testid, ...rest];
}

/** The mysqld_exporter targets (both servers in the local stack). */
export function instanceVariable(): dashboard.QueryVariableBuilder {
  return queryVariable('instance', 'MySQL instance', `label_values(${MYSQLD_EXPORTER.up}, instance)`, '.+');
}

// ---------------------------------------------------------------------------------------------------------
// Selectors and series names.

/**
 * `{testid=~"$testid", …}` over every k6 run label, plus `extra` matchers. `strategy` also matches a series
 * without the label: an API run tags only its requests and probes with a strategy, so its VUs, iterations and
 * HTTP totals carry none, and picking one strategy must not empty those panels (they show the whole run).
 */
export function k6Selector(...extra: string[]): string {
  const matcher = (l: K6RunLabel) => (l === 'strategy' ? `${l}=~"$${l}|"` : `${l}=~"$${l}"`);
  return `{${[...K6_RUN_LABELS.map(matcher), ...extra].join(', ')}}`;
}

/** The exporter matcher: one or all of the `instance` variable's targets. */
export const INSTANCE_MATCHER = 'instance=~"$instance"';

/** The exporter selector, `{instance=~"$instance", …extra}`. */
export const mysqlSelector = (...extra: string[]): string => `{${[INSTANCE_MATCHER, ...extra].join(', ')}}`;

export type TrendStat = (typeof REMOTE_WRITE_TREND_STATS)[number];

/** A k6 counter's series (`k6_<name>_total`). */
export function k6Counter(def: K6MetricDef): string {
  if (def.kind !== 'counter') throw new Error(`not a counter: ${def.name}`);
  return remoteWriteSeries(def);
}

/** A k6 trend's native histogram (`k6_<name>_seconds` for time trends). */
export function k6Histogram(def: K6MetricDef): string {
  if (def.kind !== 'trend') throw new Error(`not a trend: ${def.name}`);
  return nativeHistogramSeries(def);
}

/** One of a trend's stat gauges (`k6_<name>_p99`): per runner, cumulative over the run. */
export function k6TrendStat(def: K6MetricDef, s: TrendStat): string {
  if (def.kind !== 'trend') throw new Error(`not a trend: ${def.name}`);
  return remoteWriteSeries(def, s);
}

/** A gauge or rate series as k6 names it (`k6_<name>`, `k6_<name>_rate`). */
export function k6Gauge(def: K6MetricDef): string {
  if (def.kind !== 'gauge' && def.kind !== 'rate') throw new Error(`not a gauge or rate: ${def.name}`);
  return remoteWriteSeries(def);
}

/** A prom-client histogram's parts. */
export const apiBucket = (def: ApiMetricDef): string => `${histogramOnly(def)}_bucket`;
export const apiCount = (def: ApiMetricDef): string => `${histogramOnly(def)}_count`;
function histogramOnly(def: ApiMetricDef): string {
  if (def.kind !== 'histogram') throw new Error(`not a histogram: ${def.name}`);
  return def.name;
}

// ---------------------------------------------------------------------------------------------------------
// Query shapes. Each aggregates across k6 runners the one way that is right for its kind.

const by = (labels: readonly string[]): string => (labels.length === 0 ? '' : ` by (${labels.join(', ')})`);

/** Per-second rate of a counter, summed over runners (and anything not in `labels`). */
export const perSecond = (series: string, selector: string, labels: readonly string[] = []): string =>
  `sum${by(labels)} (rate(${series}${selector}[$__rate_interval]))`;

/**
 * A counter's run total: k6 counters count from the start of the run, so each series' largest value in the
 * range is its total so far (increase() would lose what a series held at its first sample); summed over runners.
 */
export const runTotal = (series: string, selector: string, labels: readonly string[] = []): string =>
  `sum${by(labels)} (max_over_time(${series}${selector}[$__range]))`;

/** A percentile of a native histogram, merged over runners by summing their rates before the quantile. */
export const quantile = (
  q: number,
  series: string,
  selector: string,
  labels: readonly string[] = [],
): string => `histogram_quantile(${q}, sum${by(labels)} (rate(${series}${selector}[$__rate_interval])))`;

/**
 * The same over the time range: the merged distribution of what the runners observed after their first push in
 * the range (increase() cannot see a histogram's content at its first sample; last_over_time answers NaN for
 * native histograms on Prometheus 2.42), so a run that starts inside the range loses its first push interval.
 */
export const rangeQuantile = (
  q: number,
  series: string,
  selector: string,
  labels: readonly string[] = [],
): string => `histogram_quantile(${q}, sum${by(labels)} (increase(${series}${selector}[$__range])))`;

/** A percentile of a classic (prom-client) histogram, buckets summed over every API instance. */
export const bucketQuantile = (
  q: number,
  bucket: string,
  selector: string,
  labels: readonly string[] = [],
): string =>
  `histogram_quantile(${q}, sum by (${['le', ...labels].join(', ')}) (rate(${bucket}${selector}[$__rate_interval])))`;

/**
 * The worst runner's value of a per-runner series (a trend stat, a rate, a gauge that does not add up).
 * Percentiles of different runners cannot be merged; their maximum is an upper bound, never an average.
 */
export const worstRunner = (series: string, selector: string, labels: readonly string[] = []): string =>
  `max${by(labels)} (${series}${selector})`;

/** The description sentence every trend-stat panel carries. */
export const PER_RUNNER_NOTE =
  'Trend stats are per runner: each k6 runner computes them over its own run so far (cumulative, not a ' +
  'window) and sends them only when native histograms are off. With several runners this shows the worst ' +
  'runner (max), not a merged percentile.';

// ---------------------------------------------------------------------------------------------------------
// Panels.

export interface Query {
  readonly expr: string;
  readonly legend: string;
}

export interface PanelSpec {
  readonly title: string;
  /** What is measured and in which unit. */
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly Query[];
  /** Columns of 24. */
  readonly w: number;
  readonly h?: number;
}

const REF_IDS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function targets(queries: readonly Query[], instant: boolean): prometheus.DataqueryBuilder[] {
  return queries.map((q, i) => {
    const t = new prometheus.DataqueryBuilder()
      .datasource(DATASOURCE)
      .refId(REF_IDS[i] ?? `Q${i}`)
      .expr(q.expr)
      .legendFormat(q.legend);
    return instant ? t.instant() : t.range();
  });
}

export type AnyPanel = timeseries.PanelBuilder | stat.PanelBuilder;

export function timeseriesPanel(
  spec: PanelSpec & { readonly min?: number; readonly max?: number; readonly stacked?: boolean },
): timeseries.PanelBuilder {
  const p = new timeseries.PanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .targets(targets(spec.queries, false))
    .unit(spec.unit)
    .span(spec.w)
    .height(spec.h ?? 8)
    .lineWidth(1)
    .fillOpacity(spec.stacked ? 30 : 5)
    .showPoints(common.VisibilityMode.Never)
    .spanNulls(false)
    .colorScheme(new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.PaletteClassic))
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(['lastNotNull', 'max']),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    );
  if (spec.min !== undefined) p.min(spec.min);
  if (spec.max !== undefined) p.max(spec.max);
  if (spec.stacked) p.stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal));
  return p;
}

export function statPanel(
  spec: PanelSpec & {
    readonly thresholds?: dashboard.Threshold[];
    readonly mappings?: dashboard.ValueMapping[];
    /** Shown instead of a number when there is no data (never a fake 0). */
    readonly noValue?: string;
  },
): stat.PanelBuilder {
  const p = new stat.PanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(DATASOURCE)
    .targets(targets(spec.queries, true))
    .unit(spec.unit)
    .span(spec.w)
    .height(spec.h ?? 6)
    .graphMode(common.BigValueGraphMode.None)
    .textMode(common.BigValueTextMode.ValueAndName)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .thresholds(
      new dashboard.ThresholdsConfigBuilder()
        .mode(dashboard.ThresholdsMode.Absolute)
        .steps(spec.thresholds ?? [{ value: null, color: COLOURS.neutral }]),
    )
    .colorScheme(new dashboard.FieldColorBuilder().mode(dashboard.FieldColorModeId.Thresholds))
    .colorMode(
      spec.thresholds || spec.mappings ? common.BigValueColorMode.Background : common.BigValueColorMode.None,
    );
  if (spec.mappings) p.mappings(spec.mappings);
  if (spec.noValue !== undefined) p.noValue(spec.noValue);
  return p;
}

// ---------------------------------------------------------------------------------------------------------
// Dashboards.

export interface Row {
  readonly title: string;
  readonly panels: readonly AnyPanel[];
}

export interface DashboardSpec {
  readonly slug: string;
  readonly title: string;
  readonly description: string;
  readonly variables: readonly (dashboard.DatasourceVariableBuilder | dashboard.QueryVariableBuilder)[];
  readonly rows: readonly Row[];
}

/**
 * A dashboard with the house settings. Panel and row ids count up in layout order, so they are unique and stable;
 * the SDK's builder places panels left to right, a new line when 24 columns are full.
 */
export function houseDashboard(spec: DashboardSpec): dashboard.Dashboard {
  const d = new dashboard.DashboardBuilder(spec.title)
    .uid(dashboardUid(spec.slug))
    .description(spec.description)
    .tags(TAGS)
    .readonly()
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: 'now-30m', to: 'now' })
    .refresh('10s')
    .link(
      new dashboard.DashboardLinkBuilder('CQRS dashboards')
        .type(dashboard.DashboardLinkType.Dashboards)
        .tags(['cqrs'])
        .asDropdown(true)
        .includeVars(true)
        .keepTime(true),
    );
  for (const v of spec.variables) d.withVariable(v);
  let id = 0;
  for (const row of spec.rows) {
    d.withRow(new dashboard.RowBuilder(row.title).id(++id));
    for (const panel of row.panels) d.withPanel(panel.id(++id));
  }
  return d.build();
}
