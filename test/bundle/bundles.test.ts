/**
 * Tests on the built bundles (the bundler's real output, not the sources): each scenario bundles, imports only
 * what k6 provides and what its family may (only the SQL scenarios need xk6-sql; the API and config ones run
 * on a stock k6), parses as an ES module, and exports `options`, a default function and every function its
 * scenarios name in `exec`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  API_SCENARIOS,
  allowedModules,
  analyseBundle,
  CONFIG_SCENARIOS,
  disallowedImports,
  expectEveryExecExported,
  expectOnlyK6Imports,
  K6_BUILTIN_MODULES,
  SQL_EXTENSION_MODULES,
  SQL_SCENARIOS,
  useBuiltBundles,
} from '../helpers/bundles.ts';

const built = useBuiltBundles('cqrs-bundles-');

/** The SQL scenarios need their DSNs (no bundle carries a default); any that parse do for init code. */
const DSNS = {
  CQRS_WRITER_DSN: 'writer:pw@tcp(127.0.0.1:1)/cqrs',
  CQRS_READER_DSN: 'reader:pw@tcp(127.0.0.1:2)/cqrs',
  CQRS_REPLICA_MONITOR_DSN: 'monitor:pw@tcp(127.0.0.1:2)/cqrs',
};
const evaluate = (scenario: string, env: Record<string, string> = {}) =>
  built.evaluate(scenario, { ...DSNS, ...env });

describe('scenario bundles', () => {
  it('bundles every SQL scenario and the config smoke check', () => {
    const names = built.files.map((b) => basename(b, '.js'));
    expect(names).toEqual(expect.arrayContaining([...SQL_SCENARIOS, 'smoke-config']));
  });

  it('imports only k6 modules, with ES import statements (no require, no Node built-ins, no remote URLs)', async () => {
    for (const file of built.files) await expectOnlyK6Imports(file);
  });

  it('API scenarios and the config check import only k6 built-in modules: they run on a stock k6', async () => {
    for (const name of [...API_SCENARIOS, ...CONFIG_SCENARIOS]) {
      const { imports } = await analyseBundle(built.path(name));
      const paths = imports.map((i) => i.path);
      expect(
        paths.filter((p) => p.startsWith('k6/x/')),
        name,
      ).toEqual([]);
      expect(await disallowedImports(built.path(name), K6_BUILTIN_MODULES), name).toEqual([]);
    }
  });

  it('the family check fails an API bundle that imports xk6-sql', async () => {
    // A stand-in bundle under an API scenario's name, as if the API harness still opened the ledger in SQL.
    const file = join(mkdtempSync(join(built.dir, 'fake-')), 'api-read-after-write.js');
    writeFileSync(
      file,
      "import http from 'k6/http';\nimport sql from 'k6/x/sql';\nimport driver from 'k6/x/sql/driver/mysql';\n" +
        'export default function () { http.get(String(sql.open(driver, ""))); }\n',
    );
    expect(await disallowedImports(file, allowedModules('api-read-after-write'))).toEqual(
      SQL_EXTENSION_MODULES,
    );
    expect(await disallowedImports(file, allowedModules('sql-read-after-write'))).toEqual([]);
    await expect(expectOnlyK6Imports(file)).rejects.toThrow(/imports beyond its family's/);
    expect(() => allowedModules('new-scenario')).toThrow(/belongs to no family/);
  });

  it('SQL scenarios use xk6-sql with the MySQL driver module', async () => {
    for (const name of SQL_SCENARIOS) {
      const { imports } = await analyseBundle(built.path(name));
      expect(imports.map((i) => i.path)).toEqual(
        expect.arrayContaining(['k6/x/sql', 'k6/x/sql/driver/mysql']),
      );
    }
  });

  it('exports options and a default function; SQL scenarios also setup, teardown and handleSummary', async () => {
    for (const file of built.files) {
      const { exports } = await analyseBundle(file);
      expect(exports, basename(file)).toEqual(expect.arrayContaining(['options', 'default']));
      if (SQL_SCENARIOS.includes(basename(file, '.js'))) {
        expect(exports).toEqual(expect.arrayContaining(['setup', 'teardown', 'handleSummary']));
      }
    }
  });

  it('every exec named in options.scenarios is an exported function (k6 would refuse to start otherwise)', async () => {
    for (const name of SQL_SCENARIOS) {
      const mod = await evaluate(name);
      expectEveryExecExported(mod, name);
      expect((mod.options as { thresholds: object }).thresholds).toHaveProperty('reconcile_missing_writer');
      expect(typeof mod.default).toBe('function');
    }
  });

  it('a bad variable fails init with the config error, as a value k6 prints without a stack', async () => {
    for (const name of [...SQL_SCENARIOS, ...API_SCENARIOS, ...CONFIG_SCENARIOS]) {
      const thrown = await evaluate(name, { CQRS_RATE: 'lots' }).then(
        () => undefined,
        (err: unknown) => err,
      );
      // k6 appends the JS stack to an Error's message; any other value it prints as String(value) alone.
      expect(thrown, name).not.toBeInstanceOf(Error);
      expect(String(thrown), name).toBe(
        'invalid CQRS_RATE; reason: expected an integer in 1..100000, got "lots"',
      );
    }
  });
});
