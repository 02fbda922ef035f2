/**
 * How the servers behind the writer and reader endpoints replicate, and so which read strategies they can
 * serve. The flavour (common/dialect.ts) says which SQL they speak; the topology says how a write reaches the
 * reader: an asynchronous replica (`async`) or a virtually synchronous cluster (`cluster`: Galera on MariaDB,
 * Group Replication on MySQL). Together they name one kind of server setup. Runtime-neutral: no imports but
 * types.
 */
import type { Flavor } from './dialect.ts';

export const TOPOLOGIES = ['async', 'cluster'] as const;
export type Topology = (typeof TOPOLOGIES)[number];

/** What the local stack, the API and the k6 side assume when nothing says otherwise. */
export const DEFAULT_TOPOLOGY: Topology = 'async';

/** The variable that says it, on every side (the stack's env file sets it for k6 and the API). */
export const TOPOLOGY_ENV = 'CQRS_TOPOLOGY';

/** One kind of server setup: a flavour replicating one way. */
export type ServerKind = 'mariadb-async' | 'mariadb-galera' | 'mysql-async' | 'mysql-group-replication';

export const SERVER_KINDS: readonly ServerKind[] = [
  'mariadb-async',
  'mariadb-galera',
  'mysql-async',
  'mysql-group-replication',
];

export function serverKind(flavor: Flavor, topology: Topology): ServerKind {
  if (topology === 'async') return flavor === 'mariadb' ? 'mariadb-async' : 'mysql-async';
  return flavor === 'mariadb' ? 'mariadb-galera' : 'mysql-group-replication';
}

/** In words, for errors and docs: "MariaDB Galera", "an async MySQL replica", … */
export const SERVER_KIND_NAMES: { readonly [K in ServerKind]: string } = {
  'mariadb-async': 'an async MariaDB replica',
  'mariadb-galera': 'a MariaDB Galera cluster',
  'mysql-async': 'an async MySQL replica',
  'mysql-group-replication': 'a MySQL Group Replication cluster (InnoDB Cluster)',
};

export function isTopology(value: string): value is Topology {
  return (TOPOLOGIES as readonly string[]).includes(value);
}
