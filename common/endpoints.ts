import type { Flavor } from './dialect.ts';
import { remoteWriteEnv, remoteWriteUrl } from './k6-output.ts';
import { httpUrl, redisUrl, type StackPortName } from './stack-defaults.ts';
import { DEFAULT_TOPOLOGY, TOPOLOGY_ENV, type Topology } from './topology.ts';

/** One MySQL endpoint with the credentials of the role that uses it. */
export interface DbEndpoint {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

/** Everything a scenario, the API or a test needs to reach a running stack. Written to `<state>/stack.json`. */
export interface StackEndpoints {
  flavor: Flavor;
  /** How the reader gets the writer's rows (common/topology.ts): the strategies it can serve follow from it. */
  topology: Topology;
  writer: DbEndpoint;
  reader: DbEndpoint;
  /** The replica, as a login that may read replica status (SHOW SLAVE/REPLICA STATUS). */
  replicaMonitor: DbEndpoint;
  /**
   * Admin access over the unix socket, for stack control and tests: as the OS user running the stack (root in
   * CI), authenticated by unix_socket, so no password exists to leak.
   */
  primaryAdminSocket: string;
  replicaAdminSocket: string;
  /** With the password the stack generated (stack/secrets.ts). */
  redisUrl: string;
  apiUrl: string;
  prometheusUrl: string;
  remoteWriteUrl: string;
  /** Where stack:up starts Grafana when it is installed (stack/grafana.ts). */
  grafanaUrl: string;
  delayProxyControlUrl: string;
}

export type DbRole = 'writer' | 'reader' | 'monitor';

/** What the endpoints of one stack are made of; the stack's own config, or the defaults. */
export interface StackLayout {
  flavor: Flavor;
  /** Unset: the default (async). */
  topology?: Topology;
  host: string;
  database: string;
  ports: Readonly<Record<StackPortName, number>>;
  users: Readonly<Record<DbRole, { readonly user: string; readonly password: string }>>;
  redisPassword?: string;
  sockets: { primary: string; replica: string };
}

/** One DB login of a stack. */
export function dbEndpoint(layout: Omit<StackLayout, 'sockets' | 'flavor'>, role: DbRole): DbEndpoint {
  const port = role === 'writer' ? layout.ports.primary : layout.ports.replica;
  return { host: layout.host, port, database: layout.database, ...layout.users[role] };
}

/** The one place a stack's endpoints are built: stack:up writes them, the API and k6 defaults match them. */
export function stackEndpoints(layout: StackLayout): StackEndpoints {
  const http = (port: number) => httpUrl(port, layout.host);
  return {
    flavor: layout.flavor,
    topology: layout.topology ?? DEFAULT_TOPOLOGY,
    writer: dbEndpoint(layout, 'writer'),
    reader: dbEndpoint(layout, 'reader'),
    replicaMonitor: dbEndpoint(layout, 'monitor'),
    primaryAdminSocket: layout.sockets.primary,
    replicaAdminSocket: layout.sockets.replica,
    redisUrl: redisUrl(layout.ports.redis, layout.redisPassword, layout.host),
    apiUrl: http(layout.ports.api),
    prometheusUrl: http(layout.ports.prometheus),
    remoteWriteUrl: remoteWriteUrl(http(layout.ports.prometheus)),
    grafanaUrl: http(layout.ports.grafana),
    delayProxyControlUrl: http(layout.ports.delayProxyControl),
  };
}

/**
 * Go MySQL driver DSN, as xk6-sql takes it. `interpolateParams=true` keeps a parameterised statement to one
 * round trip (otherwise the driver prepares, executes and closes: three), which matters when measuring
 * millisecond visibility lag.
 */
export function goDsn(e: DbEndpoint): string {
  return `${e.user}:${e.password}@tcp(${e.host}:${e.port})/${e.database}?interpolateParams=true`;
}

/** URL form for Node clients (mysql2 `uri`). */
export function mysqlUrl(e: DbEndpoint): string {
  return `mysql://${encodeURIComponent(e.user)}:${encodeURIComponent(e.password)}@${e.host}:${e.port}/${e.database}`;
}

/** The env file: names usable as k6 `__ENV` (and as the API's environment). */
export function toEnv(e: StackEndpoints): Record<string, string> {
  return {
    CQRS_FLAVOR: e.flavor,
    [TOPOLOGY_ENV]: e.topology,
    CQRS_WRITER_DSN: goDsn(e.writer),
    CQRS_READER_DSN: goDsn(e.reader),
    CQRS_REPLICA_MONITOR_DSN: goDsn(e.replicaMonitor),
    CQRS_WRITER_URL: mysqlUrl(e.writer),
    CQRS_READER_URL: mysqlUrl(e.reader),
    CQRS_REDIS_URL: e.redisUrl,
    CQRS_API_URL: e.apiUrl,
    CQRS_PROMETHEUS_URL: e.prometheusUrl,
    // The remote-write output's settings (common/k6-output.ts), so `k6 run -o experimental-prometheus-rw` by
    // hand after sourcing the env file sends what npm start sends.
    ...remoteWriteEnv({ prometheusUrl: e.prometheusUrl }),
  };
}
