/**
 * The committed dashboards and provisioning files are exactly what the generator renders: a change to
 * dashboards/src/ without `npm run dashboards` fails here (and so in CI), as does a stray or stale file.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderAll } from '../../dashboards/src/render.ts';
import { DASHBOARD_DIR } from '../helpers/dashboard-queries.ts';

/** Generated output in dashboards/: everything but the sources and the README. */
function committedFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const path = join(dir, e);
      const rel = relative(DASHBOARD_DIR, path);
      if (rel === 'src' || rel === 'README.md') continue;
      if (statSync(path).isDirectory()) walk(path);
      else out.push(rel);
    }
  };
  walk(DASHBOARD_DIR);
  return out.sort();
}

describe('dashboards/ regeneration', () => {
  const rendered = renderAll();

  it.each([...rendered.keys()])(
    '%s is committed byte for byte as rendered (run `npm run dashboards`)',
    (file) => {
      expect(readFileSync(join(DASHBOARD_DIR, file), 'utf8')).toBe(rendered.get(file));
    },
  );

  it('every generated file in dashboards/ is one the generator writes', () => {
    expect(committedFiles()).toEqual([...rendered.keys()].sort());
  });

  it('renders the same bytes twice (no timestamps, stable key order)', () => {
    expect([...renderAll()]).toEqual([...rendered]);
  });

  it('writes sorted keys, 2-space indent and a final newline', () => {
    for (const [file, content] of rendered) {
      if (!file.endsWith('.json')) continue;
      expect(content.endsWith('}\n')).toBe(true);
      expect(content).toBe(`${JSON.stringify(JSON.parse(content), null, 2)}\n`);
      const keys = Object.keys(JSON.parse(content) as object);
      expect(keys).toEqual([...keys].sort());
    }
  });
});
