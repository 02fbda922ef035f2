/**
 * The my.cnf lines that make a server a node of the local Galera cluster. Every address is 127.0.0.1 and every
 * port the node's own (config/stack.ts), so three nodes share one machine: Galera's defaults (4567, 4568,
 * 4444) would clash, and its group port would listen on every interface.
 */

/** What makes a server a Galera node: its own ports on 127.0.0.1, and the cluster it joins. */
export interface GaleraNode {
  /** 1, 2 or 3; node 1 takes the writes. */
  index: number;
  groupPort: number;
  istPort: number;
  sstPort: number;
  /** gcomm://… of every node's group port. */
  clusterAddress: string;
  /** The Galera library (wsrep_provider). */
  provider: string;
}

/** Debian `galera-4`; other distributions put the provider elsewhere (stack/galera.ts looks in each). */
export const GALERA_PROVIDER_PATHS = [
  '/usr/lib/galera/libgalera_smm.so',
  '/usr/lib/galera-4/libgalera_smm.so',
  '/usr/lib64/galera-4/libgalera_smm.so',
  '/usr/lib64/galera/libgalera_smm.so',
] as const;

export const GALERA_CLUSTER_NAME = 'cqrs-lab';

/** One GTID domain for the cluster's own transactions (wsrep_gtid_mode), another per node for local ones. */
const CLUSTER_GTID_DOMAIN = 1;

export function galeraServerOptions(node: GaleraNode): string[] {
  const providerOptions = [
    `base_port=${node.groupPort}`,
    `gmcast.listen_addr=tcp://127.0.0.1:${node.groupPort}`,
    `ist.recv_addr=127.0.0.1:${node.istPort}`,
    // Join rounds every 0.1 s instead of 1 s: on loopback a joiner then forms the group ~1 s sooner.
    'evs.join_retrans_period=PT0.1S',
  ].join(';');
  return [
    'wsrep_on=ON',
    `wsrep_provider=${node.provider}`,
    `wsrep_cluster_name=${GALERA_CLUSTER_NAME}`,
    `wsrep_cluster_address=${node.clusterAddress}`,
    'wsrep_node_address=127.0.0.1',
    `wsrep_node_name=node${node.index}`,
    `wsrep_provider_options="${providerOptions}"`,
    `wsrep_sst_receive_address=127.0.0.1:${node.sstPort}`,
    // rsync needs the servers to run as a non-root OS user (os-user.ts); the transfer's daemon drops privileges.
    'wsrep_sst_method=rsync',
    'wsrep_gtid_mode=ON',
    `wsrep_gtid_domain_id=${CLUSTER_GTID_DOMAIN}`,
    `gtid_domain_id=${100 + node.index}`,
    'log_slave_updates=ON',
    // Galera certifies rows, not statements, and needs interleaved auto-increment locks.
    'innodb_autoinc_lock_mode=2',
  ];
}
