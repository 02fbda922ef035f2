/**
 * The API scenarios' bundles (the bundler's real output), checked like the SQL ones: k6-only ES imports,
 * the lifecycle exports, every `exec` exported, thresholds, config errors at init; plus what is particular to
 * them: one k6 scenario per strategy at the same rate, and the strategy comparison in the report.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleScenarios } from '../../build/bundle.ts';
import { K6_METRICS } from '../../common/metrics.ts';

const API_SCENARIOS = ['api-read-after-write', 'api-mixed', 'api-seed-compat'];
const ALLOWED_IMPORTS = /^(k6|k6\/[a-z0-9/_-]+)$/;

const K6_STUBS: Record<string, string> = {
  k6: 'export const sleep = () => {}; export const check = () => true; export default { sleep, check };',
  'k6/metrics':
    'class M { constructor(name) { this.name = name; } add() {} }\n' +
    'export class Counter extends M {} export class Gauge extends M {} export class Rate extends M {} export class Trend extends M {}',
  'k6/execution':
    'export default { vu: { idInTest: 1 }, scenario: { name: "eventual" }, test: { options: { tags: {} } } };',
  'k6/http':
    'export const expectedStatuses = (...s) => ({ s });\n' +
    'const fail = () => { throw new Error("no HTTP in bundle tests"); };\n' +
    'export default { expectedStatuses, get: fail, post: fail };',
  'k6/x/sql':
    'const db = { exec: () => ({ lastInsertId: () => 1, rowsAffected: () => 1 }), query: () => [], close() {} };\n' +
    'export function open(driver) { if (typeof driver !== "symbol") throw new Error("driver must be a Symbol"); return db; }\n' +
    'export default { open };',
  'k6/x/sql/driver/mysql': 'export default Symbol("mysql");',
};

let outDir: string;
let evalSeq = 0;

function k6Stubs(): Plugin {
  return {
    name: 'k6-stubs',
    setup(b) {
      b.onResolve({ filter: /^k6(\/.*)?$/ }, (args) => ({ path: args.path, namespace: 'k6-stub' }));
      b.onLoad({ filter: /.*/, namespace: 'k6-stub' }, (args) => {
        const contents = K6_STUBS[args.path];
        return contents === undefined
          ? { errors: [{ text: `no stub for ${args.path}` }] }
          : { contents, loader: 'js' };
      });
    },
  };
}

async function imports(file: string) {
  const result = await build({
    entryPoints: [file],
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'neutral',
    external: ['*'],
    logLevel: 'silent',
  });
  const input = Object.entries(result.metafile.inputs).find(([p]) => p.endsWith(basename(file)));
  return input?.[1].imports ?? [];
}

/** Evaluates a bundle's init code with stubbed k6 modules and the given __ENV. */
async function evaluate(name: string, env: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const result = await build({
    entryPoints: [join(outDir, `${name}.js`)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    plugins: [k6Stubs()],
    logLevel: 'silent',
  });
  const out = join(outDir, `${name}.${evalSeq++}.eval.mjs`);
  writeFileSync(out, result.outputFiles[0]?.text ?? '');
  (globalThis as { __ENV?: Record<string, string> }).__ENV = env;
  try {
    return (await import(pathToFileURL(out).href)) as Record<string, unknown>;
  } finally {
    (globalThis as { __ENV?: Record<string, string> }).__ENV = {};
  }
}

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'cqrs-api-bundles-'));
  await bundleScenarios({ outDir, typecheck: false });
});

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

interface ScenarioOptions {
  scenarios: Record<string, { exec?: string; rate?: number; tags?: Record<string, string> }>;
  thresholds: Record<string, string[]>;
}

describe('API scenario bundles', () => {
  it.each(API_SCENARIOS)('%s imports only k6 modules with ES imports', async (name) => {
    const file = join(outDir, `${name}.js`);
    for (const imp of await imports(file)) {
      expect(imp.path).toMatch(ALLOWED_IMPORTS);
      expect(imp.kind).toBe('import-statement');
    }
    expect(readFileSync(file, 'utf8')).not.toMatch(/jslib\.k6\.io|require\(/);
  });

  it.each(API_SCENARIOS)('%s exports the lifecycle, and every exec it names', async (name) => {
    const mod = await evaluate(name);
    for (const fn of ['default', 'setup', 'teardown', 'handleSummary'])
      expect(typeof mod[fn], fn).toBe('function');
    const options = mod.options as ScenarioOptions;
    for (const [scenario, s] of Object.entries(options.scenarios)) {
      expect(typeof mod[s.exec ?? 'default'], `${scenario} → ${s.exec}`).toBe('function');
    }
    expect(options.thresholds[K6_METRICS.apiErrors.name]).toEqual(['count==0']);
  });

  it('api-read-after-write runs one scenario per strategy, at one rate, tagged with it', async () => {
    const mod = await evaluate('api-read-after-write', { CQRS_API_STRATEGIES: 'eventual,gtid-wait,cache' });
    const options = mod.options as ScenarioOptions;
    expect(Object.keys(options.scenarios)).toEqual(['eventual', 'gtid-wait', 'cache']);
    const rates = new Set(Object.values(options.scenarios).map((s) => s.rate));
    expect(rates.size).toBe(1);
    for (const [name, s] of Object.entries(options.scenarios)) expect(s.tags).toEqual({ strategy: name });
    expect(options.thresholds).toHaveProperty(K6_METRICS.reconcileMissingWriter.name);
    expect(options.thresholds).toHaveProperty(
      `${K6_METRICS.apiReads.name}{strategy:gtid-wait,source:replica}`,
    );
  });

  it('bad strategy variables fail init with one config error', async () => {
    await expect(
      evaluate('api-read-after-write', { CQRS_API_STRATEGIES: 'eventual,strong' }),
    ).rejects.toThrow(/^invalid CQRS_API_STRATEGIES; reason: expected distinct strategies/);
    await expect(evaluate('api-mixed', { CQRS_API_STRATEGY: 'fast' })).rejects.toThrow(
      'invalid CQRS_API_STRATEGY; reason: expected one of eventual|primary|gtid-wait|sticky|cache|gr-before|router-split, got "fast"',
    );
  });

  it('the consistency report compares the strategies', async () => {
    const mod = await evaluate('api-read-after-write', {
      CQRS_API_STRATEGIES: 'eventual,primary',
      CQRS_TEST_ID: 't1',
    });
    const counter = (n: number) => ({ type: 'counter', values: { count: n, rate: n } });
    const trendOf = (p50: number, p95: number) => ({
      type: 'trend',
      contains: 'time',
      values: { avg: p50, min: 0, med: p50, max: p95, 'p(90)': p95, 'p(95)': p95, 'p(99)': p95, count: 10 },
    });
    const M = K6_METRICS;
    const data = {
      metrics: {
        [`${M.rawReads.name}{strategy:eventual}`]: counter(100),
        [`${M.staleReads.name}{strategy:eventual}`]: counter(80),
        [`${M.apiReads.name}{strategy:eventual}`]: counter(100),
        [`${M.apiReads.name}{strategy:eventual,source:replica}`]: counter(100),
        [`${M.visibilityLag.name}{strategy:eventual}`]: trendOf(52, 60),
        [`${M.apiReadDuration.name}{strategy:eventual}`]: trendOf(1, 2),
        [`${M.rawReads.name}{strategy:primary}`]: counter(100),
        [`${M.staleReads.name}{strategy:primary}`]: counter(0),
        [`${M.apiReads.name}{strategy:primary}`]: counter(100),
        [`${M.apiErrors.name}{strategy:primary}`]: counter(3),
      },
      setup_data: { runId: 't1', runner: '0' },
    };
    const files = (mod.handleSummary as (d: unknown) => Record<string, string>)(data);
    const report = files['reports/t1/consistency.md'] ?? '';
    expect(report).toContain('## Strategy comparison');
    expect(report).toMatch(
      /\| eventual \| 100 \| 80\.0% \| 52\.0 ms \| 60\.0 ms \| 2\.00 ms \| 100\.0% \| 0 \|/,
    );
    expect(report).toMatch(/\| primary \| 100 \| 0\.0% \| n\/a \| n\/a \| n\/a \| 0\.0% \| 3 \|/);
  });
});
