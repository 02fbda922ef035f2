/**
 * The import rules of .dependency-cruiser.cjs hold for the whole repository, and each rule would catch the
 * import it forbids (checked on a throwaway tree, so a rule that matches nothing cannot pass unnoticed).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { cruise, type IConfiguration, type ICruiseResult } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CONFIG = createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.cjs')) as IConfiguration;
const FOLDERS = [
  'lib',
  'scenarios',
  'common',
  'api',
  'stack',
  'run',
  'config',
  'bench',
  'build',
  'dashboards',
  'test',
];

async function violations(baseDir: string, folders: string[]): Promise<string[]> {
  const { output } = await cruise(
    folders,
    { ...CONFIG.options, validate: true, ruleSet: { forbidden: CONFIG.forbidden ?? [] }, baseDir },
    {},
    { tsConfig: { compilerOptions: { allowImportingTsExtensions: true, moduleResolution: 'bundler' } } },
  );
  return (output as ICruiseResult).summary.violations.map(
    (v) => `${v.rule.name}: ${v.from} → ${v.cycle?.map((c) => c.name).join(' → ') ?? v.to}`,
  );
}

describe('import structure', () => {
  it('the repository breaks none of the rules', async () => {
    const present = FOLDERS.filter((f) => existsSync(join(ROOT, f)));
    expect(present).toContain('lib');
    expect(await violations(ROOT, present)).toEqual([]);
  });

  const tree = mkdtempSync(join(tmpdir(), 'cqrs-imports-'));
  afterAll(() => rmSync(tree, { recursive: true, force: true }));
  const file = (path: string, body: string) => {
    mkdirSync(dirname(join(tree, path)), { recursive: true });
    writeFileSync(join(tree, path), body);
  };

  it.each([
    [
      'k6-imports-only-lib-and-common',
      'lib/a.ts',
      "import { x } from '../stack/x.ts';\nexport const a = x;\n",
    ],
    [
      'k6-side-no-node-builtins',
      'lib/b.ts',
      "import { readFileSync } from 'node:fs';\nexport const b = readFileSync;\n",
    ],
    [
      'k6-side-no-credentials',
      'scenarios/c.ts',
      "import { u } from '../common/stack-credentials.ts';\nexport const c = u;\n",
    ],
    ['common-imports-only-common', 'common/d.ts', "import { l } from '../lib/l.ts';\nexport const d = l;\n"],
    ['services-no-k6-code', 'api/e.ts', "import type { L } from '../lib/l.ts';\nexport type E = L;\n"],
    ['nothing-imports-tests', 'stack/f.ts', "import { k } from '../test/kit/k.ts';\nexport const f = k;\n"],
    [
      'bench-imports-only-test-kit',
      'bench/g.ts',
      "import { h } from '../test/helpers/h.ts';\nexport const g = h;\n",
    ],
    ['no-import-cycles', 'api/loop-a.ts', "import { b } from './loop-b.ts';\nexport const a = () => b;\n"],
  ])('%s catches %s', async (rule, path, body) => {
    file('stack/x.ts', 'export const x = 1;\n');
    file('lib/l.ts', 'export const l = 1;\nexport type L = number;\n');
    file('common/stack-credentials.ts', 'export const u = 1;\n');
    file('test/kit/k.ts', 'export const k = 1;\n');
    file('test/helpers/h.ts', 'export const h = 1;\n');
    file('api/loop-b.ts', "import { a } from './loop-a.ts';\nexport const b = () => a;\n");
    file(path, body);
    const found = await violations(tree, [path]);
    expect(
      found.some((v) => v.startsWith(`${rule}:`)),
      found.join('\n'),
    ).toBe(true);
  });
});
