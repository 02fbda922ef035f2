/**
 * Finds the server binaries on PATH and says which Debian package provides a missing one. Checked before
 * anything starts, so a missing binary never leaves a half-started stack.
 */
import { execa } from 'execa';
import whichPackage from 'which';
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

/** The one PATH lookup of the Node side (the stack's servers, k6, the benchmarks' wrk): an executable file. */
export function which(name: string, path = process.env.PATH ?? ''): string | undefined {
  return whichPackage.sync(name, { path, nothrow: true }) ?? undefined;
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
