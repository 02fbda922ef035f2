/**
 * Tests on the built bundles (the bundler's real output, not the sources): each scenario bundles, imports only
 * what k6 provides, parses as an ES module, and exports `options`, a default function and every function its
 * scenarios name in `exec`.
 */
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  analyseBundle,
  expectEveryExecExported,
  expectOnlyK6Imports,
  SQL_SCENARIOS,
  useBuiltBundles,
} from '../helpers/bundles.ts';

const built = useBuiltBundles('cqrs-bundles-');

const evaluate = built.evaluate;

describe('scenario bundles', () => {
  it('bundles every SQL scenario and the config smoke check', () => {
    const names = built.files.map((b) => basename(b, '.js'));
    expect(names).toEqual(expect.arrayContaining([...SQL_SCENARIOS, 'smoke-config']));
  });

  it('imports only k6 modules, with ES import statements (no require, no Node built-ins, no remote URLs)', async () => {
    for (const file of built.files) await expectOnlyK6Imports(file);
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

  it('a bad variable fails init with the config error', async () => {
    await expect(evaluate('sql-read-after-write', { CQRS_RATE: 'lots' })).rejects.toThrow(
      'invalid CQRS_RATE; reason: expected an integer in 1..100000, got "lots"',
    );
  });
});
