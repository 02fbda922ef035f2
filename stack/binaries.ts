/**
 * Finds the server binaries on PATH and says which Debian package provides a missing one. Checked before
 * anything starts, so a missing binary never leaves a half-started stack.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import type { Flavor } from '../common/dialect.ts';
import { StackError } from './errors.ts';

export interface Binaries {
  flavor: Flavor;
  mysqld: string;
  /** MariaDB's initialiser; MySQL initialises with `mysqld --initialize-insecure`. */
  installDb?: string;
  prometheus: string;
  promtool: string;
  exporter: string;
  redis: string;
}

const PACKAGES = {
  mariadbd: 'mariadb-server',
  'mariadb-install-db': 'mariadb-server',
  prometheus: 'prometheus',
  promtool: 'prometheus',
  'prometheus-mysqld-exporter': 'prometheus-mysqld-exporter',
  'redis-server': 'redis-server',
} as const;

export function which(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function requireBinary(name: keyof typeof PACKAGES, path: string): string {
  const found = which(name, path);
  if (!found) {
    throw new StackError(`${name} not found on PATH; install it with: apt-get install ${PACKAGES[name]}`);
  }
  return found;
}

/** Resolves every binary the stack needs; prefers MariaDB, and accepts a MySQL 8.x `mysqld` instead. */
export async function findBinaries(path = process.env.PATH ?? ''): Promise<Binaries> {
  let flavor: Flavor = 'mariadb';
  let mysqld = which('mariadbd', path);
  let installDb: string | undefined;
  if (mysqld) {
    installDb = requireBinary('mariadb-install-db', path);
  } else {
    const plain = which('mysqld', path);
    if (!plain) requireBinary('mariadbd', path);
    mysqld = plain as string;
    const { stdout } = await execa(mysqld, ['--version'], { reject: false });
    if (/mariadb/i.test(stdout)) {
      installDb = requireBinary('mariadb-install-db', path);
    } else {
      flavor = 'mysql';
    }
  }
  return {
    flavor,
    mysqld,
    ...(installDb ? { installDb } : {}),
    prometheus: requireBinary('prometheus', path),
    promtool: requireBinary('promtool', path),
    exporter: which('mysqld_exporter', path) ?? requireBinary('prometheus-mysqld-exporter', path),
    redis: requireBinary('redis-server', path),
  };
}
