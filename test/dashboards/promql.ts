/**
 * The dashboards' queries as PromQL syntax trees (@prometheus-io/lezer-promql, the parser of Prometheus's own
 * UI), and what the tests read off them: parse errors, the series each query selects, and its aggregations.
 */
import { parser } from '@prometheus-io/lezer-promql';
import {
  type DashboardJson,
  loadDashboards,
  panelQueries,
  substitute,
  variableQueries,
} from '../helpers/dashboard-queries.ts';

export type Node = ReturnType<typeof parser.parse>['topNode'];

export interface Parsed {
  readonly expr: string;
  readonly root: Node;
}

export function parse(expr: string): Parsed {
  return { expr, root: parser.parse(expr).topNode };
}

export const text = (p: Parsed, n: Node): string => p.expr.slice(n.from, n.to);

/** Every node under `n`, `n` included, depth first. */
export function descendants(n: Node): Node[] {
  const out: Node[] = [];
  const walk = (x: Node) => {
    out.push(x);
    for (let c = x.firstChild; c; c = c.nextSibling) walk(c);
  };
  walk(n);
  return out;
}

/** The parser's error nodes, each with the text it could not place. */
export function syntaxErrors(p: Parsed): string[] {
  return descendants(p.root)
    .filter((n) => n.type.isError)
    .map((n) => `at ${n.from}: ${JSON.stringify(p.expr.slice(n.from, Math.max(n.to, n.from + 10)))}`);
}

/**
 * The series names a vector selector can select: its metric name, or the alternatives of a
 * `__name__="…"` / `__name__=~"a|b"` matcher (any other regex is returned whole, so it cannot pass as a name).
 */
export function selectorNames(p: Parsed, selector: Node): string[] {
  const id = selector.getChild('Identifier');
  if (id) return [text(p, id)];
  const names: string[] = [];
  for (const m of descendants(selector).filter((n) => n.name === 'UnquotedLabelMatcher')) {
    const label = m.getChild('LabelName');
    const value = m.getChild('StringLiteral');
    const op = m.getChild('MatchOp')?.firstChild?.name;
    if (!label || !value || text(p, label) !== '__name__') continue;
    const raw = JSON.parse(text(p, value)) as string;
    names.push(...(op === 'EqlRegex' && /^[\w:|]+$/.test(raw) ? raw.split('|') : [raw]));
  }
  return names;
}

export function selectors(p: Parsed): Node[] {
  return descendants(p.root).filter((n) => n.name === 'VectorSelector');
}

/** Every series name a query selects. */
export function seriesNames(p: Parsed): string[] {
  return selectors(p).flatMap((s) => selectorNames(p, s));
}

/** `sum`, `max`, `avg`… of an aggregation node; `histogram_quantile`, `rate`… of a function call. */
export function operator(p: Parsed, n: Node): string | null {
  if (n.name === 'AggregateExpr') {
    const op = n.getChild('AggregateOp');
    return op ? text(p, op) : null;
  }
  if (n.name === 'FunctionCall') {
    const id = n.getChild('FunctionIdentifier');
    return id ? text(p, id) : null;
  }
  return null;
}

/** The argument expressions of a function call or aggregation, in order. */
export function args(n: Node): Node[] {
  const body = n.getChild('FunctionCallBody');
  const out: Node[] = [];
  for (let c = body?.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

/** What a test fills each template variable with: a regex every label value matches, or a real value. */
export function variableValues(d: DashboardJson): Record<string, string> {
  return Object.fromEntries(
    d.templating.list.map((v) => [v.name, v.type === 'datasource' ? 'cqrs-prometheus' : '.+']),
  );
}

/** Grafana's `label_values(selector, label)` holds a PromQL selector; `label_values(label)` holds none. */
export function variablePromql(query: string): string | null {
  const m = /^label_values\((.*),\s*(\w+)\s*\)$/s.exec(query.trim());
  if (m?.[1]) return m[1];
  if (/^label_values\(\s*\w+\s*\)$/.test(query.trim())) return null;
  const result = /^query_result\((.*)\)$/s.exec(query.trim());
  return result?.[1] ?? query;
}

export interface LocatedQuery {
  readonly where: string;
  readonly parsed: Parsed;
}

/** Every panel query and variable query of the committed dashboards, substituted and parsed. */
export function allQueries(dashboards: DashboardJson[] = loadDashboards()): LocatedQuery[] {
  return dashboards.flatMap((d) => {
    const values = variableValues(d);
    const panels = panelQueries(d).map((q) => ({
      where: `${d.uid} panel ${q.panelId} "${q.panelTitle}" ${q.refId}`,
      parsed: parse(substitute(q.expr, values)),
    }));
    const vars = variableQueries(d).flatMap((v) => {
      const promql = variablePromql(v.query);
      return promql === null
        ? []
        : [{ where: `${d.uid} variable ${v.name}`, parsed: parse(substitute(promql, values)) }];
    });
    return [...panels, ...vars];
  });
}
