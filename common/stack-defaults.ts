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
} as const;

export type StackPortName = keyof typeof STACK_DEFAULT_PORTS;

export const STACK_DATABASE = 'cqrs';

export const STACK_HOST = '127.0.0.1';
