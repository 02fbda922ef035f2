/**
 * The Node-side table (config/): every variable once, read only through `readEnv`, in the one error shape of
 * both runtimes; and no Node-side code reads a CQRS_* or K6_* variable from the environment behind its back.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../../common/config-error.ts';
import { envVar, pick, readEnv } from '../../config/env.ts';
import { NODE_CONFIG, nodeVariables } from '../../config/node.ts';
import { PROJECT_ROOT } from '../../stack/config.ts';

const SECTION = {
  count: envVar('T_COUNT', z.coerce.number().int().min(1).max(9).default(3), 'an integer in 1..9', ''),
  list: envVar(
    'T_LIST',
    z
      .string()
      .default('a')
      .transform((s) => s.split(','))
      .pipe(z.array(z.enum(['a', 'b']))),
    'a list of a|b',
    '',
  ),
  url: envVar('T_URL', z.url().optional(), 'a URL', ''),
  secret: envVar('T_SECRET', z.string().min(8).optional(), 'at least 8 characters', '', { secret: true }),
};

describe('readEnv', () => {
  it('reads defaults, treats empty as unset, and types the values by their schemas', () => {
    expect(readEnv(SECTION, {})).toEqual({ count: 3, list: ['a'], url: undefined, secret: undefined });
    expect(readEnv(SECTION, { T_COUNT: '', T_LIST: 'b,a' })).toMatchObject({ count: 3, list: ['b', 'a'] });
  });

  it('throws one ConfigError in the shape `invalid NAME; reason: expected …, got "…"`', () => {
    expect(() => readEnv(SECTION, { T_COUNT: '12' })).toThrow(
      new ConfigError('invalid T_COUNT; reason: expected an integer in 1..9, got "12"'),
    );
    // One bad item of a list is the one shown.
    expect(() => readEnv(SECTION, { T_LIST: 'a,zz,b' })).toThrow(
      'invalid T_LIST; reason: expected a list of a|b, got "zz"',
    );
  });

  it('redacts a connection string and never shows a secret', () => {
    let message = '';
    try {
      readEnv(SECTION, { T_URL: 'mysql://u:hunter2@' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^invalid T_URL; reason: expected a URL, got "mysql:\/\/u:\*\*\*@"$/);
    expect(() => readEnv(SECTION, { T_SECRET: 'short' })).toThrow(
      new ConfigError('invalid T_SECRET; reason: expected at least 8 characters'),
    );
  });

  it('reads only the variables of the section it is given', () => {
    expect(readEnv(pick(SECTION, 'list'), { T_COUNT: 'lots' })).toEqual({ list: ['a'] });
    expect(() => readEnv(SECTION, { T_COUNT: 'lots' })).toThrow(ConfigError);
  });
});

describe('the Node-side table', () => {
  it('names every variable once, under the project prefix (or k6’s own K6_)', () => {
    const names = nodeVariables().map((v) => v.spec.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^(CQRS|K6)_[A-Z0-9_]+$/);
    expect(names).toEqual(
      expect.arrayContaining(['CQRS_API_PORT', 'CQRS_STACK_PORT_DELAY_PROXY_CONTROL', 'CQRS_REPORT_DIR']),
    );
  });

  it('has a default or an optional value for every variable: nothing is required to start', () => {
    for (const [section, vars] of Object.entries(NODE_CONFIG)) {
      expect(() => readEnv(vars, {}), section).not.toThrow();
    }
  });

  it('is the only reader of the environment on the Node side', () => {
    const files = ['api', 'stack', 'run', 'bench', 'build', 'common'].flatMap((d) =>
      tsFiles(join(PROJECT_ROOT, d)),
    );
    expect(files.length).toBeGreaterThan(20);
    // A variable read by name: process.env.CQRS_X, env.K6_X, env['CQRS_X'] (PATH and the like are the OS's).
    const direct = /\b(?:process\.)?env(?:\.|\[\s*['"`])(?:CQRS|K6)_[A-Z0-9_]+/;
    const offenders = files.flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .flatMap((line, i) =>
          direct.test(line) ? [`${relative(PROJECT_ROOT, f)}:${i + 1}: ${line.trim()}`] : [],
        ),
    );
    expect(offenders).toEqual([]);
  });
});

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}
