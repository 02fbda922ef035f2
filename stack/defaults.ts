/**
 * Defaults of the local stack: ports (none is 3306, so a MariaDB already there is left alone), the database and
 * the lab credentials. The k6 config and the API default to the same values, so a fresh `stack:up` needs no env.
 * This is a loopback-only lab: the passwords are fixed and documented, and every one can be overridden.
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

export const STACK_DEFAULT_USERS = {
  writer: { user: 'writer', password: 'writer-secret' },
  reader: { user: 'reader', password: 'reader-secret' },
  repl: { user: 'repl', password: 'repl-secret' },
  exporter: { user: 'exporter', password: 'exporter-secret' },
  /** Reads replica status from k6 (Seconds_Behind); the exporter login is capped at 3 connections. */
  monitor: { user: 'monitor', password: 'monitor-secret' },
} as const;

export const STACK_HOST = '127.0.0.1';
