/**
 * Reads the committed dashboards (dashboards/*.json) the way the tests look at them: every panel query and
 * every variable query, and Grafana's variable substitution, so a query can be parsed or sent to Prometheus.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface TargetJson {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
  [key: string]: unknown;
}

export interface PanelJson {
  id?: number;
  type: string;
  title?: string;
  gridPos?: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: TargetJson[];
  /** A collapsed row keeps its panels here. */
  panels?: PanelJson[];
  [key: string]: unknown;
}

export interface VariableJson {
  name: string;
  type: string;
  query?: unknown;
  datasource?: { type?: string; uid?: string };
  [key: string]: unknown;
}

export interface DashboardJson {
  uid: string;
  title: string;
  panels: PanelJson[];
  templating: { list: VariableJson[] };
  tags: string[];
  [key: string]: unknown;
}

export interface PanelQuery {
  /** The dashboard's uid. */
  dashboard: string;
  panelId: number;
  panelTitle: string;
  refId: string;
  expr: string;
}

export const DASHBOARD_DIR = resolve(import.meta.dirname, '..', '..', 'dashboards');

/** Every dashboards/*.json, in file-name order. */
export function loadDashboards(dir: string = DASHBOARD_DIR): DashboardJson[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as DashboardJson);
}

/** Panels at the top level and inside collapsed rows. */
export function allPanels(d: DashboardJson): PanelJson[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every target with an expression, rows' nested panels included. */
export function panelQueries(d: DashboardJson): PanelQuery[] {
  return allPanels(d).flatMap((p) =>
    (p.targets ?? []).flatMap((t) =>
      typeof t.expr === 'string' && t.expr !== ''
        ? [
            {
              dashboard: d.uid,
              panelId: p.id ?? -1,
              panelTitle: p.title ?? '',
              refId: t.refId ?? '',
              expr: t.expr,
            },
          ]
        : [],
    ),
  );
}

/** Query-type variables and their query (Grafana stores it as a string or as `{ query }`). */
export function variableQueries(d: DashboardJson): { name: string; query: string }[] {
  return d.templating.list.flatMap((v) => {
    if (v.type !== 'query') return [];
    const q = v.query;
    const query =
      typeof q === 'string'
        ? q
        : typeof q === 'object' && q !== null && typeof (q as { query?: unknown }).query === 'string'
          ? (q as { query: string }).query
          : '';
    return query === '' ? [] : [{ name: v.name, query }];
  });
}

/** What Grafana's built-ins stand for when a test has to pick a value. */
const BUILTIN_DEFAULTS: Readonly<Record<string, string>> = {
  __rate_interval: '1m',
  __interval: '15s',
  __range: '5m',
};

// ${name} / ${name:format}, [[name]] / [[name:format]], then $name (longest identifier wins).
const VARIABLE = /\$\{(\w+)(?::[\w-]+)?\}|\[\[(\w+)(?::[\w-]+)?\]\]|\$(\w+)/g;

/**
 * Grafana's substitution of `values` (and the built-ins) into a query. The format suffix is dropped: the
 * tests give values already in the form a regex matcher takes. Throws on a variable `values` does not give.
 */
export function substitute(expr: string, values: Readonly<Record<string, string>>): string {
  const all = { ...BUILTIN_DEFAULTS, ...values };
  return expr.replace(VARIABLE, (whole, braced?: string, bracketed?: string, bare?: string) => {
    const name = braced ?? bracketed ?? bare ?? '';
    const value = Object.hasOwn(all, name) ? all[name] : undefined;
    if (value === undefined) throw new Error(`unknown variable ${whole} in query: ${expr}`);
    return value;
  });
}
