/**
 * Tests on the built bundles (the bundler's real output, not the sources): each scenario bundles, imports only
 * what k6 provides, parses as an ES module, and exports `options`, a default function and every function its
 * scenarios name in `exec`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleScenarios } from '../../build/bundle.ts';

const ALLOWED_IMPORTS = /^(k6|k6\/[a-z0-9/_-]+)$/;
const SQL_SCENARIOS = [
  'sql-read-after-write',
  'sql-replica-lag',
  'sql-write-load',
  'sql-read-load',
  'sql-mixed',
];

let outDir: string;
let bundles: string[];

/** Parses one bundle with esbuild (a real parser) and lists its imports and exports. */
async function analyse(
  file: string,
): Promise<{ imports: Metafile['inputs'][string]['imports']; exports: string[] }> {
  const result = await build({
    entryPoints: [file],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2020',
    external: ['*'],
    logLevel: 'silent',
  });
  const input = Object.entries(result.metafile.inputs).find(([path]) => path.endsWith(basename(file)));
  const output = Object.values(result.metafile.outputs)[0];
  return { imports: input?.[1].imports ?? [], exports: output?.exports ?? [] };
}

/** Stand-ins for k6's modules, just enough to evaluate a bundle's init code in Node and read its options. */
const K6_STUBS: Record<string, string> = {
  k6: 'export const sleep = () => {}; export const check = () => true; export default { sleep, check };',
  'k6/metrics':
    'class M { constructor(name) { this.name = name; } add() {} }\n' +
    'export class Counter extends M {} export class Gauge extends M {} export class Rate extends M {} export class Trend extends M {}',
  'k6/execution': 'export default { vu: { idInTest: 1 }, test: { options: { tags: {} } } };',
  'k6/x/sql':
    'const db = { exec: () => ({ lastInsertId: () => 1, rowsAffected: () => 1 }), query: () => [], close() {} };\n' +
    'export function open(driver, dsn, opts) { if (typeof driver !== "symbol") throw new Error("driver must be a Symbol"); return db; }\n' +
    'export default { open };',
  'k6/x/sql/driver/mysql': 'export default Symbol("mysql");',
};

function k6Stubs(): Plugin {
  return {
    name: 'k6-stubs',
    setup(b) {
      b.onResolve({ filter: /^k6(\/.*)?$/ }, (args) => ({ path: args.path, namespace: 'k6-stub' }));
      b.onLoad({ filter: /.*/, namespace: 'k6-stub' }, (args) => {
        const contents = K6_STUBS[args.path];
        if (contents === undefined) return { errors: [{ text: `no stub for ${args.path}` }] };
        return { contents, loader: 'js' };
      });
    },
  };
}

/** Evaluates a bundle's init code with stubbed k6 modules and an empty __ENV; returns its exports. */
async function evaluate(file: string): Promise<Record<string, unknown>> {
  const result = await build({
    entryPoints: [file],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    plugins: [k6Stubs()],
    logLevel: 'silent',
  });
  const out = join(outDir, `${basename(file, '.js')}.eval.mjs`);
  writeFileSync(out, result.outputFiles[0]?.text ?? '');
  (globalThis as { __ENV?: Record<string, string> }).__ENV = {};
  return (await import(pathToFileURL(out).href)) as Record<string, unknown>;
}

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'cqrs-bundles-'));
  bundles = await bundleScenarios({ outDir, typecheck: false });
});

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

describe('scenario bundles', () => {
  it('bundles every SQL scenario and the config smoke check', () => {
    const names = bundles.map((b) => basename(b, '.js'));
    expect(names).toEqual(expect.arrayContaining([...SQL_SCENARIOS, 'smoke-config']));
  });

  it('imports only k6 modules, with ES import statements (no require, no Node built-ins, no remote URLs)', async () => {
    for (const file of bundles) {
      const { imports } = await analyse(file);
      for (const imp of imports) {
        expect(imp.path, `${basename(file)} imports ${imp.path}`).toMatch(ALLOWED_IMPORTS);
        expect(imp.kind, `${basename(file)}: ${imp.path}`).toBe('import-statement');
      }
      const source = readFileSync(file, 'utf8');
      expect(source).not.toMatch(/jslib\.k6\.io/);
    }
  });

  it('SQL scenarios use xk6-sql with the MySQL driver module', async () => {
    for (const name of SQL_SCENARIOS) {
      const { imports } = await analyse(join(outDir, `${name}.js`));
      expect(imports.map((i) => i.path)).toEqual(
        expect.arrayContaining(['k6/x/sql', 'k6/x/sql/driver/mysql']),
      );
    }
  });

  it('exports options and a default function; SQL scenarios also setup, teardown and handleSummary', async () => {
    for (const file of bundles) {
      const { exports } = await analyse(file);
      expect(exports, basename(file)).toEqual(expect.arrayContaining(['options', 'default']));
      if (SQL_SCENARIOS.includes(basename(file, '.js'))) {
        expect(exports).toEqual(expect.arrayContaining(['setup', 'teardown', 'handleSummary']));
      }
    }
  });

  it('every exec named in options.scenarios is an exported function (k6 would refuse to start otherwise)', async () => {
    for (const name of SQL_SCENARIOS) {
      const mod = await evaluate(join(outDir, `${name}.js`));
      const options = mod.options as { scenarios: Record<string, { exec?: string }>; thresholds: object };
      expect(Object.keys(options.scenarios).length, name).toBeGreaterThan(0);
      for (const [scenario, s] of Object.entries(options.scenarios)) {
        expect(typeof mod[s.exec ?? 'default'], `${name}: ${scenario} → ${s.exec}`).toBe('function');
      }
      expect(options.thresholds).toHaveProperty('reconcile_missing_writer');
      expect(typeof mod.default).toBe('function');
    }
  });

  it('a bad variable fails init with the config error', async () => {
    const file = join(outDir, 'sql-read-after-write.js');
    const result = await build({
      entryPoints: [file],
      bundle: true,
      write: false,
      format: 'esm',
      plugins: [k6Stubs()],
      logLevel: 'silent',
    });
    const out = join(outDir, 'bad-env.mjs');
    writeFileSync(out, result.outputFiles[0]?.text ?? '');
    (globalThis as { __ENV?: Record<string, string> }).__ENV = { CQRS_RATE: 'lots' };
    await expect(import(pathToFileURL(out).href)).rejects.toThrow(
      'invalid CQRS_RATE; reason: expected an integer in 1..100000, got "lots"',
    );
    (globalThis as { __ENV?: Record<string, string> }).__ENV = {};
  });
});
