import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleScenarios } from '../../build/bundle.ts';

const root = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'cqrs-bundle-'));

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A scenarios folder holding just one file, to bundle on its own. */
function scenarioDir(name: string, file: string, source: string): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), source);
  return dir;
}

describe('bundler', () => {
  it('turns every scenario into an ESM bundle with a sourcemap', async () => {
    const out = join(work, 'dist');
    const files = await bundleScenarios({ outDir: out, typecheck: false });
    const scenarios = readdirSync(join(root, 'scenarios')).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.d.ts'),
    );
    expect(files).toHaveLength(scenarios.length);
    for (const f of files) {
      expect(existsSync(f)).toBe(true);
      expect(existsSync(`${f}.map`)).toBe(true);
    }
  });

  it('fails the build when k6-side code imports a Node built-in', async () => {
    const dir = scenarioDir(
      'bad-node',
      'uses-fs.ts',
      "import { readFileSync } from 'node:fs';\nexport default () => readFileSync;\n",
    );
    await expect(
      bundleScenarios({ scenariosDir: dir, outDir: join(work, 'out1'), typecheck: false }),
    ).rejects.toThrow(/Node built-in "node:fs" cannot be used in k6 code/);
  });

  it('also refuses a bare built-in name', async () => {
    const dir = scenarioDir(
      'bad-bare',
      'uses-path.ts',
      "import path from 'path';\nexport default () => path;\n",
    );
    await expect(
      bundleScenarios({ scenariosDir: dir, outDir: join(work, 'out1b'), typecheck: false }),
    ).rejects.toThrow(/Node built-in "path"/);
  });

  it('fails the build on an import k6 cannot resolve', async () => {
    const dir = scenarioDir(
      'bad-import',
      'missing.ts',
      "import thing from 'no-such-package';\nexport default () => thing;\n",
    );
    await expect(
      bundleScenarios({ scenariosDir: dir, outDir: join(work, 'out2'), typecheck: false }),
    ).rejects.toThrow(/no-such-package/);
  });

  it('fails the build on a remote import', async () => {
    const dir = scenarioDir(
      'bad-remote',
      'remote.ts',
      "import x from 'https://jslib.k6.io/k6-utils/1.4.0/index.js';\nexport default x;\n",
    );
    await expect(
      bundleScenarios({ scenariosDir: dir, outDir: join(work, 'out3'), typecheck: false }),
    ).rejects.toThrow(/remote import .* is not allowed/);
  });

  it('fails the build on a type error', async () => {
    const dir = scenarioDir(
      'bad-type',
      'typo.ts',
      "import { sleep } from 'k6';\nexport default () => sleep('one');\n",
    );
    const tsconfig = join(dir, 'tsconfig.json');
    writeFileSync(
      tsconfig,
      JSON.stringify({
        extends: join(root, 'tsconfig.k6.json'),
        compilerOptions: { typeRoots: [join(root, 'node_modules', '@types')] },
        include: [join(dir, '*.ts')],
      }),
    );
    await expect(
      bundleScenarios({ scenariosDir: dir, outDir: join(work, 'out4'), tsconfig }),
    ).rejects.toThrow(/type errors in k6 code:[\s\S]*typo\.ts/);
  });
});
