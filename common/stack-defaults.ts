/**
 * Defaults of the local stack that carry no secret: ports (none is 3306, so a MariaDB already there is left
 * alone), host and database. k6-side code may import this file; the lab credentials live in credentials.ts,
 * which only Node code imports, so no password can reach a bundle.
 */
export const STACK_DEFAULT_PORTS = {
  primary: 23306,
  replica: 23307,
  delayProxy: 23308,
  delayProxyControl: 23309,
  redis: 26379,
  prometheus: 29090,
  exporterPrimary: 29104,
  exporterReplica: 29105,
  api: 28080,
  grafana: 23000,
  // The cluster topology (stack/galera.ts): node 1 and node 2 take the primary and replica ports (writer and
  // reader); node 3 has its own. Each node's group-communication, incremental (IST) and full state transfer
  // (SST) ports, all on 127.0.0.1.
  node3: 23310,
  galeraGroup1: 24567,
  galeraIst1: 24568,
  galeraSst1: 24569,
  galeraGroup2: 24577,
  galeraIst2: 24578,
  galeraSst2: 24579,
  galeraGroup3: 24587,
  galeraIst3: 24588,
  galeraSst3: 24589,
} as const;

export type StackPortName = keyof typeof STACK_DEFAULT_PORTS;

export const STACK_DATABASE = 'cqrs';

export const STACK_HOST = '127.0.0.1';

/** Base URL of an HTTP service of the stack (the API, Prometheus, the delay proxy's control port). */
export function httpUrl(port: number, host: string = STACK_HOST): string {
  return `http://${host}:${port}`;
}

/** The stack's Redis; with the password stack:up generated when one is given. */
export function redisUrl(port: number, password?: string, host: string = STACK_HOST): string {
  return password ? `redis://:${password}@${host}:${port}` : `redis://${host}:${port}`;
}

/** Where the API listens when nothing else is said: the k6 side's CQRS_API_URL default and the API's own. */
export const DEFAULT_API_URL = httpUrl(STACK_DEFAULT_PORTS.api);
