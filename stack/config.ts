/**
 * The local stack's settings, read from the environment once and validated (zod). Every port can be moved
 * with CQRS_STACK_PORT_<NAME> (e.g. CQRS_STACK_PORT_PRIMARY=33306), the state folder with CQRS_STACK_DIR.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { STACK_DEFAULT_USERS } from '../common/stack-credentials.ts';
import {
  STACK_DATABASE,
  STACK_DEFAULT_PORTS,
  STACK_HOST,
  type StackPortName,
} from '../common/stack-defaults.ts';
import { StackError } from './errors.ts';
import { SERVER_OS_USER } from './os-user.ts';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

export interface StackConfig {
  stateDir: string;
  host: string;
  database: string;
  ports: Record<StackPortName, number>;
  users: { [K in keyof typeof STACK_DEFAULT_USERS]: { user: string; password: string } };
  /** Start the CQRS API with the stack (when api/server.ts exists). */
  withApi: boolean;
  /** How long one service may take to become ready. */
  readyTimeoutMs: number;
  /** The OS user the database servers run as when the stack runs as root (stack/os-user.ts). */
  serverOsUser: string;
}

const port = z.coerce.number().int().min(1024).max(65535);

/** The variable that moves one port, e.g. delayProxyControl → CQRS_STACK_PORT_DELAY_PROXY_CONTROL. */
export function portEnvName(name: StackPortName): string {
  return `CQRS_STACK_PORT_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

export function loadStackConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Omit<StackConfig, 'ports'>> & { ports?: Partial<Record<StackPortName, number>> } = {},
): StackConfig {
  const ports = {} as Record<StackPortName, number>;
  for (const name of Object.keys(STACK_DEFAULT_PORTS) as StackPortName[]) {
    const envName = portEnvName(name);
    const raw = overrides.ports?.[name] ?? env[envName] ?? STACK_DEFAULT_PORTS[name];
    const parsed = port.safeParse(raw);
    if (!parsed.success) throw new StackError(`invalid ${envName}; expected a port 1024-65535, got "${raw}"`);
    ports[name] = parsed.data;
  }
  const seen = new Map<number, StackPortName>();
  for (const [name, p] of Object.entries(ports) as [StackPortName, number][]) {
    const other = seen.get(p);
    if (other)
      throw new StackError(`invalid ports; expected distinct ports, got ${p} for both ${other} and ${name}`);
    seen.set(p, name);
  }
  const users = structuredClone(STACK_DEFAULT_USERS) as StackConfig['users'];
  for (const role of Object.keys(users) as (keyof StackConfig['users'])[]) {
    const pw = env[`CQRS_STACK_${role.toUpperCase()}_PASSWORD`];
    if (pw !== undefined) {
      if (!/^[\x21-\x7e]{1,64}$/.test(pw) || /['"\\@:/]/.test(pw)) {
        throw new StackError(
          `invalid CQRS_STACK_${role.toUpperCase()}_PASSWORD; expected 1-64 printable characters without quotes, \\ @ : /`,
        );
      }
      users[role].password = pw;
    }
  }
  const timeoutRaw = env.CQRS_STACK_READY_TIMEOUT_MS ?? '30000';
  const timeout = z.coerce.number().int().min(1000).max(600_000).safeParse(timeoutRaw);
  if (!timeout.success) {
    throw new StackError(`invalid CQRS_STACK_READY_TIMEOUT_MS; expected 1000-600000 ms, got "${timeoutRaw}"`);
  }
  return {
    stateDir: resolve(overrides.stateDir ?? env.CQRS_STACK_DIR ?? resolve(PROJECT_ROOT, '.stack')),
    host: STACK_HOST,
    database: STACK_DATABASE,
    ports,
    users,
    withApi: overrides.withApi ?? env.CQRS_STACK_API !== '0',
    readyTimeoutMs: overrides.readyTimeoutMs ?? timeout.data,
    serverOsUser: overrides.serverOsUser ?? SERVER_OS_USER,
  };
}
