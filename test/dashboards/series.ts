/**
 * Every series name a dashboard may select, derived here from the registries through k6's remote-write
 * naming rules (restated from k6 v2.2's output, not taken from the code under test): `k6_` + name, then
 * `_total` for a counter, nothing for a gauge, `_rate` for a rate, and for a trend one gauge per trend stat
 * (`p(99)` → `_p99`) or, with native histograms, one histogram `_seconds` (time trends) / bare (others).
 */
import { REMOTE_WRITE_TREND_STATS } from '../../common/k6-output.ts';
import { API_METRICS, K6_METRICS, type K6MetricDef } from '../../common/metrics.ts';
import { K6_BUILTINS } from '../../dashboards/src/k6-builtins.ts';
import { MYSQLD_EXPORTER_NAMES } from '../../dashboards/src/mysqld-exporter.ts';

export type SeriesKind =
  | 'k6-counter'
  | 'k6-gauge'
  | 'k6-rate'
  | 'k6-trend-stat'
  | 'k6-native-histogram'
  | 'api'
  | 'exporter';

export interface SeriesOrigin {
  readonly kind: SeriesKind;
  /** Where the name comes from, for failure messages. */
  readonly from: string;
}

const K6_DEFS: readonly [string, K6MetricDef][] = [
  ...Object.entries(K6_METRICS).map(([k, d]) => [`K6_METRICS.${k}`, d] as [string, K6MetricDef]),
  ...Object.entries(K6_BUILTINS).map(([k, d]) => [`k6 builtin ${k}`, d] as [string, K6MetricDef]),
];

function k6Series(def: K6MetricDef): [string, SeriesKind][] {
  const base = `k6_${def.name}`;
  switch (def.kind) {
    case 'counter':
      return [[`${base}_total`, 'k6-counter']];
    case 'gauge':
      return [[base, 'k6-gauge']];
    case 'rate':
      return [[`${base}_rate`, 'k6-rate']];
    case 'trend':
      return [
        ...REMOTE_WRITE_TREND_STATS.map(
          (s) => [`${base}_${s.replace(/[().]/g, '')}`, 'k6-trend-stat'] as [string, SeriesKind],
        ),
        [def.isTime ? `${base}_seconds` : base, 'k6-native-histogram'],
      ];
  }
}

function build(): ReadonlyMap<string, SeriesOrigin> {
  const known = new Map<string, SeriesOrigin>();
  const add = (name: string, origin: SeriesOrigin) => {
    const had = known.get(name);
    if (had && had.from !== origin.from)
      throw new Error(`${name} comes from both ${had.from} and ${origin.from}`);
    known.set(name, origin);
  };
  for (const [from, def] of K6_DEFS) for (const [name, kind] of k6Series(def)) add(name, { kind, from });
  for (const [k, def] of Object.entries(API_METRICS)) {
    const names =
      def.kind === 'histogram' ? ['_bucket', '_sum', '_count'].map((s) => def.name + s) : [def.name];
    for (const name of names) add(name, { kind: 'api', from: `API_METRICS.${k}` });
  }
  for (const name of MYSQLD_EXPORTER_NAMES)
    add(name, { kind: 'exporter', from: 'dashboards/src/mysqld-exporter.ts' });
  return known;
}

export const KNOWN_SERIES = build();

export const seriesKind = (name: string): SeriesKind | undefined => KNOWN_SERIES.get(name)?.kind;
