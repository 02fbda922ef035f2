/**
 * The local stack's variables (stack/config.ts reads them): the state folder, whether the API starts, the
 * readiness timeout, where an installed Grafana lives, one port variable per service and one password variable
 * per lab account. The port and password variables are derived from the stack's defaults, so a new service or
 * account gets its variable.
 */
import { z } from 'zod';
import { STACK_DEFAULT_USERS } from '../common/stack-credentials.ts';
import { STACK_DEFAULT_PORTS, type StackPortName } from '../common/stack-defaults.ts';
import { DEFAULT_TOPOLOGY, TOPOLOGIES } from '../common/topology.ts';
import { type EnvVar, envVar, FLAG_EXPECTED, flag, int, intExpected } from './env.ts';

export type StackRole = keyof typeof STACK_DEFAULT_USERS;

export const STACK_VARS = {
  /** Resolved against the working directory; unset, the stack lives in the project's .stack/. */
  stateDir: envVar('CQRS_STACK_DIR', z.string().optional(), 'a folder path', 'State folder of the stack'),
  /** `npm run stack:up -- --topology cluster` overrides it for one call. */
  topology: envVar(
    'CQRS_STACK_TOPOLOGY',
    z.enum(TOPOLOGIES).default(DEFAULT_TOPOLOGY),
    `one of ${TOPOLOGIES.join('|')}`,
    'async: a primary and a replica through the delay proxy; cluster: three Galera nodes',
  ),
  withApi: envVar('CQRS_STACK_API', flag('1'), FLAG_EXPECTED, '0 starts the stack without the CQRS API'),
  readyTimeoutMs: envVar(
    'CQRS_STACK_READY_TIMEOUT_MS',
    int(1000, 600_000).default(30_000),
    `${intExpected(1000, 600_000)} (ms)`,
    'How long one service may take to become ready',
  ),
  /** Resolved against the working directory; unset, stack/grafana.ts finds it from the binary on PATH. */
  grafanaHome: envVar(
    'CQRS_GRAFANA_HOME',
    z.string().optional(),
    'a folder path',
    "Grafana's home folder (holding public/ and conf/defaults.ini), when stack:up cannot find it from the binary",
  ),
} as const;

/** Below 1024 a port needs privileges the stack never asks for. */
const PORT_MIN = 1024;
type PortSchema = z.ZodDefault<ReturnType<typeof int>>;

/** The variable that moves one port, e.g. delayProxyControl → CQRS_STACK_PORT_DELAY_PROXY_CONTROL. */
export function portEnvName(name: StackPortName): string {
  return `CQRS_STACK_PORT_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

export const STACK_PORT_VARS = Object.fromEntries(
  (Object.keys(STACK_DEFAULT_PORTS) as StackPortName[]).map((name) => [
    name,
    envVar(
      portEnvName(name),
      int(PORT_MIN, 65535).default(STACK_DEFAULT_PORTS[name]),
      `a port ${PORT_MIN}-65535`,
      `Port of ${name}`,
    ),
  ]),
) as { readonly [N in StackPortName]: EnvVar<PortSchema> };

export function passwordEnvName(role: StackRole): string {
  return `CQRS_STACK_${role.toUpperCase()}_PASSWORD`;
}

/** Spliced into SQL literals (stack/replication.ts), my.cnf and DSNs/URLs: no character that would end or split one. */
const password = z
  .string()
  .regex(/^[\x21-\x7e]{1,64}$/)
  .refine((pw) => !/['"\\@:/]/.test(pw));
type PasswordSchema = z.ZodDefault<typeof password>;

export const STACK_PASSWORD_VARS = Object.fromEntries(
  (Object.keys(STACK_DEFAULT_USERS) as StackRole[]).map((role) => [
    role,
    envVar(
      passwordEnvName(role),
      password.default(STACK_DEFAULT_USERS[role].password),
      '1-64 printable characters without quotes, \\ @ : /',
      `Password of the lab's ${role} account`,
      { secret: true },
    ),
  ]),
) as { readonly [R in StackRole]: EnvVar<PasswordSchema> };
