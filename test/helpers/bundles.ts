/**
 * For the tests that look at built scenario bundles: which scenarios exist, bundling them once per test file,
 * parsing a bundle's imports and exports, and evaluating a bundle in Node with k6's modules stubbed out
 * (k6 itself is not needed to run the tests).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';
import { afterAll, beforeAll, expect } from 'vitest';
import { bundleScenarios } from '../../build/bundle.ts';
import type { ApiScenarioName } from '../../lib/api/thresholds.ts';
import type { SummaryData } from '../../lib/summary/data.ts';
import type { SqlScenarioName } from '../../lib/thresholds.ts';

const ROOT = resolve(import.meta.dirname, '../..');

// Spelled out, not read from scenarios/, so that a scenario that stops bundling fails a test.
export const SQL_SCENARIOS: readonly string[] = [
  'sql-read-after-write',
  'sql-replica-lag',
  'sql-write-load',
  'sql-read-load',
  'sql-mixed',
] satisfies SqlScenarioName[];
export const API_SCENARIOS: readonly string[] = [
  'api-read-after-write',
  'api-mixed',
  'api-seed-compat',
] satisfies ApiScenarioName[];

/** The config smoke check: validates the config and opens nothing. */
export const CONFIG_SCENARIOS: readonly string[] = ['smoke-config'];

/** What a bundle may import at all: k6 resolves `k6` and `k6/...` itself; anything else would fail in k6. */
export const ALLOWED_IMPORTS = /^(k6|k6\/[a-z0-9/_-]+)$/;

/**
 * Modules every stock k6 (v1, v2) has built in, so a bundle importing only these runs on `grafana/k6` and
 * k6 Cloud. Not `k6/x/...`: those are extensions.
 */
export const K6_BUILTIN_MODULES: readonly string[] = [
  'k6',
  'k6/crypto',
  'k6/data',
  'k6/encoding',
  'k6/execution',
  'k6/html',
  'k6/http',
  'k6/metrics',
  'k6/net/grpc',
  'k6/timers',
  'k6/ws',
];

/** xk6-sql and its MySQL driver: only the SQL scenarios need a k6 built with them (build/xk6/). */
export const SQL_EXTENSION_MODULES: readonly string[] = ['k6/x/sql', 'k6/x/sql/driver/mysql'];

/** The modules a scenario's family may import: the API and config bundles run on a stock k6. */
export function allowedModules(scenario: string): readonly string[] {
  if (SQL_SCENARIOS.includes(scenario)) return [...K6_BUILTIN_MODULES, ...SQL_EXTENSION_MODULES];
  if (API_SCENARIOS.includes(scenario) || CONFIG_SCENARIOS.includes(scenario)) return K6_BUILTIN_MODULES;
  throw new Error(`scenario ${scenario} belongs to no family: add it to SQL_, API_ or CONFIG_SCENARIOS`);
}

/** Inert stand-ins for k6's modules: enough to evaluate a bundle's init code in Node and read its options. */
export const K6_STUBS: Readonly<Record<string, string>> = {
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

/** A k6/metrics stand-in that records every sample into globalThis.__samples, for lifecycle tests. */
export const RECORDING_METRICS_STUB = `
    const record = (name, value, tags) => globalThis.__samples.push({ name, value: Number(value), tags: tags ?? {} });
    class M { constructor(name) { this.name = name; } add(value, tags) { record(this.name, value, tags); } }
    export class Counter extends M {} export class Gauge extends M {} export class Rate extends M {} export class Trend extends M {}`;

export interface BuiltBundles {
  /** The temporary folder holding the bundles (set in beforeAll). */
  readonly dir: string;
  /** Every bundle written, as bundleScenarios returned them. */
  readonly files: readonly string[];
  path(scenario: string): string;
  /** Evaluates a scenario's init code with the inert K6_STUBS and `env` as __ENV; returns its exports. */
  evaluate(scenario: string, env?: Record<string, string>): Promise<Record<string, unknown>>;
}

/** Bundles every scenario into a temporary folder before the file's tests and removes it after them. */
export function useBuiltBundles(prefix: string): BuiltBundles {
  const built = {
    dir: '',
    files: [] as string[],
    path: (scenario: string) => join(built.dir, `${scenario}.js`),
    evaluate: (scenario: string, env: Record<string, string> = {}) =>
      evaluateBundle(built.path(scenario), K6_STUBS, { __ENV: env }),
  };
  beforeAll(async () => {
    built.dir = mkdtempSync(join(tmpdir(), prefix));
    built.files = await bundleScenarios({ outDir: built.dir, typecheck: false });
  });
  afterAll(() => rmSync(built.dir, { recursive: true, force: true }));
  return built;
}

/** Parses one bundle with esbuild (a real parser) and lists its imports and exports. */
export async function analyseBundle(
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

/** Resolves `k6` and `k6/...` to `stubs`; stubs may import project files relative to the repository root. */
function k6StubPlugin(stubs: Readonly<Record<string, string>>): Plugin {
  return {
    name: 'k6-stubs',
    setup(b) {
      b.onResolve({ filter: /^k6(\/.*)?$/ }, (args) => ({ path: args.path, namespace: 'k6-stub' }));
      b.onLoad({ filter: /.*/, namespace: 'k6-stub' }, (args) => {
        const contents = stubs[args.path];
        return contents === undefined
          ? { errors: [{ text: `no stub for ${args.path}` }] }
          : { contents, loader: 'ts', resolveDir: ROOT };
      });
    },
  };
}

let evaluations = 0;

/**
 * Evaluates a bundle's init code in Node with k6's modules replaced by `stubs`, after setting `globals`
 * (k6's `__ENV` and whatever the stubs read) on globalThis; returns the bundle's exports.
 */
export async function evaluateBundle(
  file: string,
  stubs: Readonly<Record<string, string>>,
  globals: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const result = await build({
    entryPoints: [file],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    plugins: [k6StubPlugin(stubs)],
    logLevel: 'silent',
  });
  // A fresh file each time: Node caches modules by URL, and each evaluation must run init code again.
  const out = join(dirname(file), `${basename(file, '.js')}.${evaluations++}.eval.mjs`);
  writeFileSync(out, result.outputFiles[0]?.text ?? '');
  Object.assign(globalThis, globals);
  return (await import(pathToFileURL(out).href)) as Record<string, unknown>;
}

/** The imports of `file` that are not in `allowed` (module paths, in bundle order). */
export async function disallowedImports(file: string, allowed: readonly string[]): Promise<string[]> {
  const { imports } = await analyseBundle(file);
  return imports.map((i) => i.path).filter((path) => !allowed.includes(path));
}

/**
 * k6 runs only ES imports of its own modules: no require(), Node built-ins, npm packages or remote jslib; and
 * a bundle imports only what its family may (allowedModules), so an API bundle needing xk6-sql fails here.
 */
export async function expectOnlyK6Imports(file: string): Promise<void> {
  const { imports } = await analyseBundle(file);
  for (const imp of imports) {
    expect(imp.path, `${basename(file)} imports ${imp.path}`).toMatch(ALLOWED_IMPORTS);
    expect(imp.kind, `${basename(file)}: ${imp.path}`).toBe('import-statement');
  }
  const allowed = allowedModules(basename(file, '.js'));
  expect(await disallowedImports(file, allowed), `${basename(file)} imports beyond its family's`).toEqual([]);
  expect(readFileSync(file, 'utf8'), basename(file)).not.toMatch(/jslib\.k6\.io|require\(/);
}

/** k6 refuses to start when a scenario's `exec` names no exported function. */
export function expectEveryExecExported(mod: Record<string, unknown>, label: string): void {
  const options = mod.options as { scenarios: Record<string, { exec?: string }> };
  expect(Object.keys(options.scenarios).length, label).toBeGreaterThan(0);
  for (const [scenario, s] of Object.entries(options.scenarios)) {
    expect(typeof mod[s.exec ?? 'default'], `${label}: ${scenario} → ${s.exec}`).toBe('function');
  }
}

/**
 * The metric keys `fn` reads from summary data, recorded through a proxy over `metrics` that has none of them.
 * Reports read their keys whatever the values, so this is every (sub)metric a report or a figure needs.
 */
export function summaryKeysRead(fn: (d: SummaryData) => unknown, setupData?: unknown): Set<string> {
  const read = new Set<string>();
  const metrics = new Proxy({} as SummaryData['metrics'], {
    get: (_t, key) => {
      if (typeof key === 'string') read.add(key);
      return undefined;
    },
  });
  fn({ metrics, state: {}, setup_data: setupData });
  return read;
}

/** `metric: expression` for every threshold in `thresholds`, sorted: the names junit.xml gives its test cases. */
export function verdictNames(thresholds: Readonly<Record<string, readonly string[]>>): string[] {
  return Object.entries(thresholds)
    .flatMap(([metric, exprs]) => exprs.map((e) => `${metric}: ${e}`))
    .sort();
}

/** The test case names of a junit.xml, unescaped, sorted. */
export function junitCaseNames(xml: string): string[] {
  const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return [...xml.matchAll(/<testcase [^>]*\bname="([^"]*)"/g)]
    .map((m) => (m[1] ?? '').replace(/&(amp|lt|gt|quot|apos);/g, (_e, n: string) => entities[n] ?? ''))
    .sort();
}
