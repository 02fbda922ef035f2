/**
 * The dashboards' structure (the SDK's types check the builders at build time, `tsc`): the invariants Grafana
 * does not check on import but users notice, and the house rules of dashboards/src/defaults.ts.
 */
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATASOURCE_UID } from '../../dashboards/src/defaults.ts';
import { DASHBOARDS } from '../../dashboards/src/render.ts';
import {
  allPanels,
  type DashboardJson,
  loadDashboards,
  panelQueries,
  variableQueries,
} from '../helpers/dashboard-queries.ts';
import { parse, seriesNames } from './promql.ts';
import { seriesKind } from './series.ts';

const dashboards = loadDashboards();
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template
const DATASOURCE_REF = { type: 'prometheus', uid: '${datasource}' };

/** Template variables a query refers to, Grafana's `__` built-ins aside. */
function variablesUsed(expr: string): string[] {
  const names = [...expr.matchAll(/\$\{(\w+)(?::[\w-]+)?\}|\[\[(\w+)(?::[\w-]+)?\]\]|\$(\w+)/g)].map(
    (m) => m[1] ?? m[2] ?? m[3] ?? '',
  );
  return names.filter((n) => !n.startsWith('__'));
}

function datasourceRefs(d: DashboardJson): { where: string; ref: unknown }[] {
  return [
    ...allPanels(d).flatMap((p) => [
      ...(p.type === 'row' ? [] : [{ where: `panel ${p.id}`, ref: p.datasource }]),
      ...(p.targets ?? []).map((t) => ({ where: `panel ${p.id} target ${t.refId}`, ref: t.datasource })),
    ]),
    ...d.templating.list
      .filter((v) => v.type === 'query')
      .map((v) => ({ where: `variable ${v.name}`, ref: v.datasource })),
  ];
}

describe.each(dashboards.map((d) => [d.uid, d] as const))('dashboard %s', (_, d) => {
  const panels = allPanels(d);

  it('has unique panel ids', () => {
    const ids = panels.map((p) => p.id);
    expect(ids.every((id) => Number.isInteger(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps every panel inside the 24-column grid', () => {
    for (const p of panels) {
      const g = p.gridPos;
      expect(g, p.title).toBeDefined();
      if (!g) continue;
      expect(
        g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0 && g.y >= 0,
        `${p.title} ${JSON.stringify(g)}`,
      ).toBe(true);
    }
  });

  it('lays no two panels over each other', () => {
    const boxes = panels.flatMap((p) => (p.gridPos ? [{ title: p.title, ...p.gridPos }] : []));
    const overlaps = boxes.flatMap((a, i) =>
      boxes
        .slice(i + 1)
        .filter((b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h)
        .map((b) => `${a.title} / ${b.title}`),
    );
    expect(overlaps).toEqual([]);
  });

  it('points every datasource reference at the datasource variable', () => {
    for (const { where, ref } of datasourceRefs(d)) expect(ref, where).toEqual(DATASOURCE_REF);
    const ds = d.templating.list.find((v) => v.name === 'datasource');
    expect(ds?.type).toBe('datasource');
    expect(ds?.query).toBe('prometheus');
    expect((ds?.current as { value?: string } | undefined)?.value).toBe(DATASOURCE_UID);
  });

  it('has a stable uid and the generated tag', () => {
    const file = Object.entries(DASHBOARDS).find(([, build]) => build().uid === d.uid)?.[0];
    expect(file).toBeDefined();
    expect(d.uid).toBe(`cqrs-${basename(file ?? '', '.json')}`);
    expect(d.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(d.tags).toContain('generated');
  });

  it('defines every variable a query uses', () => {
    const defined = new Set(d.templating.list.map((v) => v.name));
    const used = [...panelQueries(d).map((q) => q.expr), ...variableQueries(d).map((v) => v.query)].flatMap(
      variablesUsed,
    );
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((n) => !defined.has(n))).toEqual([]);
  });

  it('describes every panel, and says so where a panel shows per-runner trend stats', () => {
    for (const p of panels.filter((x) => x.type !== 'row')) {
      const description = String(p.description ?? '');
      expect(description.length, p.title).toBeGreaterThan(40);
      const stats = (p.targets ?? []).some((t) =>
        seriesNames(parse(String(t.expr ?? ''))).some((n) => seriesKind(n) === 'k6-trend-stat'),
      );
      if (stats) expect(description, p.title).toMatch(/per runner.*worst runner/s);
    }
  });
});

describe('the k6 variables', () => {
  it('are shared with the official k6 dashboards (testid) and let series without a label match', () => {
    for (const d of dashboards.filter((x) => x.templating.list.some((v) => v.name === 'testid'))) {
      const byName = new Map(d.templating.list.map((v) => [v.name, v]));
      expect(byName.get('testid')?.query).toBe('label_values(k6_vus, testid)');
      expect(byName.get('testid')?.allValue).toBe('.+');
      for (const name of ['script', 'strategy', 'lag', 'testrun_name', 'instance_id']) {
        const v = byName.get(name);
        expect(v?.allValue, name).toBe('.*');
        expect(v?.multi && v.includeAll, name).toBe(true);
      }
    }
  });
});
