/**
 * The local stack's settings, read from the environment once and validated against the stack's section of the
 * Node-side table (config/stack.ts). Every port can be moved with CQRS_STACK_PORT_<NAME> (e.g.
 * CQRS_STACK_PORT_PRIMARY=33306), the state folder with CQRS_STACK_DIR.
 */
import { resolve } from 'node:path';
import { ConfigError } from '../common/config-error.ts';
import { STACK_DEFAULT_USERS } from '../common/stack-credentials.ts';
import { STACK_DATABASE, STACK_HOST, type StackPortName } from '../common/stack-defaults.ts';
import type { Topology } from '../common/topology.ts';
import { type Env, readEnv } from '../config/env.ts';
import { portEnvName, STACK_PASSWORD_VARS, STACK_PORT_VARS, STACK_VARS } from '../config/stack.ts';
import { SERVER_OS_USER } from './os-user.ts';

export { portEnvName } from '../config/stack.ts';

export const PROJECT_ROOT = resolve(import.meta.dirname, '..');

export interface StackConfig {
  stateDir: string;
  host: string;
  database: string;
  /** How the writer's rows reach the reader: a replica through the delay proxy, or a Galera cluster. */
  topology: Topology;
  ports: Record<StackPortName, number>;
  users: { [K in keyof typeof STACK_DEFAULT_USERS]: { user: string; password: string } };
  /** Start the CQRS API with the stack (when api/server.ts exists). */
  withApi: boolean;
  /** How long one service may take to become ready. */
  readyTimeoutMs: number;
  /** The OS user the database servers run as when the stack runs as root (stack/os-user.ts). */
  serverOsUser: string;
  /** CQRS_GRAFANA_HOME, resolved; unset, stack/grafana.ts finds the home from the binary on PATH. */
  grafanaHome?: string;
}

export function loadStackConfig(
  env: Env = process.env,
  overrides: Partial<Omit<StackConfig, 'ports'>> & { ports?: Partial<Record<StackPortName, number>> } = {},
): StackConfig {
  // A port given in code is checked as if it came from its variable.
  const portOverrides = Object.entries(overrides.ports ?? {}).map(([name, p]) => [
    portEnvName(name as StackPortName),
    String(p),
  ]);
  const ports = readEnv(STACK_PORT_VARS, { ...env, ...Object.fromEntries(portOverrides) });
  const seen = new Map<number, StackPortName>();
  for (const [name, p] of Object.entries(ports) as [StackPortName, number][]) {
    const other = seen.get(p);
    if (other) {
      throw ConfigError.invalid(
        portEnvName(name),
        `a port no other service has (${portEnvName(other)} is ${p} too)`,
        String(p),
      );
    }
    seen.set(p, name);
  }
  const passwords = readEnv(STACK_PASSWORD_VARS, env);
  const users = structuredClone(STACK_DEFAULT_USERS) as StackConfig['users'];
  for (const role of Object.keys(users) as (keyof StackConfig['users'])[])
    users[role].password = passwords[role];
  const e = readEnv(STACK_VARS, env);
  const grafanaHome = overrides.grafanaHome ?? e.grafanaHome;
  return {
    stateDir: resolve(overrides.stateDir ?? e.stateDir ?? resolve(PROJECT_ROOT, '.stack')),
    host: STACK_HOST,
    database: STACK_DATABASE,
    topology: overrides.topology ?? e.topology,
    ports: { ...ports },
    users,
    withApi: overrides.withApi ?? e.withApi,
    readyTimeoutMs: overrides.readyTimeoutMs ?? e.readyTimeoutMs,
    serverOsUser: overrides.serverOsUser ?? SERVER_OS_USER,
    ...(grafanaHome ? { grafanaHome: resolve(grafanaHome) } : {}),
  };
}
