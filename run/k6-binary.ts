/**
 * Finds a k6 that can run the SQL scenarios: K6_BIN, else `k6` on PATH, and checks that it has xk6-sql with
 * the MySQL driver (listed under "Extensions" by `k6 version` for xk6 builds). A plain k6 ≥ 1.2 can instead
 * fetch official extensions itself at `k6 run` (needs network): allowed when CQRS_K6_AUTO_EXTENSIONS=1.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { execa } from 'execa';
import { type Env, readEnv } from '../config/env.ts';
import { K6_BINARY_VARS } from '../config/run.ts';
import { which } from '../stack/binaries.ts';

export const REQUIRED_MODULES = ['k6/x/sql', 'k6/x/sql/driver/mysql'] as const;

export const K6_HELP =
  'get one either way: a k6 v2 release with automatic extension resolution (needs network; set CQRS_K6_AUTO_EXTENSIONS=1), ' +
  'or build one with the xk6 recipe in build/xk6/ and point K6_BIN at it';

export class K6NotFoundError extends Error {
  override name = 'K6NotFoundError';
}

export interface K6Binary {
  readonly path: string;
  readonly version: string;
  /** `bundled`: the binary has xk6-sql; `auto`: k6 resolves it at run time (network). */
  readonly sql: 'bundled' | 'auto';
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Pure: reads `k6 version` output. */
export function parseK6Version(output: string): { version: string | null; modules: string[] } {
  const version = /\bk6 v(\d+\.\d+\.\d+\S*)/.exec(output)?.[1] ?? null;
  const modules = [...output.matchAll(/,\s*(k6\/x\/[\w/.-]+)/g)].map((m) => m[1] as string);
  return { version, modules };
}

function atLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split('.').map((x) => Number.parseInt(x, 10));
  return a > major || (a === major && b >= minor);
}

/** `env` is the environment k6 will run in: its K6_BIN and CQRS_K6_AUTO_EXTENSIONS, and its PATH to search. */
export async function findK6(env: Env = process.env): Promise<K6Binary> {
  const settings = readEnv(K6_BINARY_VARS, env);
  const path = settings.k6Bin ?? which('k6', env.PATH ?? '');
  if (!path)
    throw new K6NotFoundError(`no k6 found (K6_BIN is unset and there is no k6 on PATH); ${K6_HELP}`);
  if (!isExecutable(path)) throw new K6NotFoundError(`K6_BIN=${path} is not an executable file; ${K6_HELP}`);

  const run = await execa(path, ['version'], { reject: false, timeout: 15_000, all: true });
  const { version, modules } = parseK6Version(run.all ?? '');
  if (run.exitCode !== 0 || version === null) {
    throw new K6NotFoundError(`${path} does not answer \`k6 version\` like k6 does; ${K6_HELP}`);
  }
  if (REQUIRED_MODULES.every((m) => modules.includes(m))) return { path, version, sql: 'bundled' };
  if (settings.autoExtensions && atLeast(version, 1, 2)) return { path, version, sql: 'auto' };
  const why = settings.autoExtensions
    ? `k6 v${version} is too old to resolve extensions itself (needs ≥ 1.2)`
    : `k6 v${version} at ${path} lacks ${REQUIRED_MODULES.filter((m) => !modules.includes(m)).join(' and ')}`;
  throw new K6NotFoundError(`${why}; ${K6_HELP}`);
}
