/**
 * A whole local stack on free random ports in a temp folder, for integration tests. Each test file that needs
 * one starts its own and stops it by PID in afterAll.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StackEndpoints } from '../../common/endpoints.ts';
import { STACK_DEFAULT_PORTS, type StackPortName } from '../../common/stack-defaults.ts';
import type { Topology } from '../../common/topology.ts';
import { portEnvName } from '../../stack/config.ts';
import {
  loadStackConfig,
  type StackConfig,
  setLag,
  stackDown,
  stackUp,
  startService,
  stopService,
} from '../../stack/index.ts';
import { isPortFree } from '../../stack/ports.ts';
import type { ServiceName } from '../../stack/services.ts';

export interface TestStack {
  cfg: StackConfig;
  endpoints: StackEndpoints;
  stateDir: string;
  setLag(spec: string): Promise<void>;
  stopService(name: ServiceName): Promise<void>;
  startService(name: ServiceName): Promise<void>;
  down(): Promise<void>;
}

/**
 * A block of consecutive free ports, one per stack service, in 10000-32759: below Linux's ephemeral range
 * (32768+), so an outgoing connection can never take one between the check and the server's listen.
 */
export async function freePorts(): Promise<Record<StackPortName, number>> {
  const names = Object.keys(STACK_DEFAULT_PORTS) as StackPortName[];
  for (let attempt = 0; attempt < 50; attempt++) {
    // Blocks a whole stack apart, so two test files' stacks never share a port.
    const stride = names.length;
    const base = 10_000 + Math.floor(Math.random() * Math.floor((32_760 - 10_000) / stride - 1)) * stride;
    const ports = names.map((_, i) => base + i);
    const free = await Promise.all(ports.map((p) => isPortFree(p)));
    if (free.every(Boolean))
      return Object.fromEntries(names.map((n, i) => [n, ports[i]])) as Record<StackPortName, number>;
  }
  throw new Error('no block of free ports found');
}

/** The environment that moves every stack port, for a stack started as a separate process (CLI, npm start). */
export function portEnv(ports: Record<StackPortName, number>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(ports).map(([n, p]) => [portEnvName(n as StackPortName), String(p)]),
  );
}

export interface TestStackOptions {
  api?: boolean;
  /** Unset: async (a primary and a replica). */
  topology?: Topology;
}

export async function testStackConfig(opts: TestStackOptions = {}): Promise<StackConfig> {
  const stateDir = mkdtempSync(join(tmpdir(), 'cqrs-stack-'));
  return loadStackConfig(
    {},
    { stateDir, ports: await freePorts(), withApi: opts.api ?? false, topology: opts.topology ?? 'async' },
  );
}

export async function startTestStack(opts: TestStackOptions = {}): Promise<TestStack> {
  const cfg = await testStackConfig(opts);
  let up: Awaited<ReturnType<typeof stackUp>>;
  try {
    up = await stackUp(cfg);
  } catch (err) {
    rmSync(cfg.stateDir, { recursive: true, force: true });
    throw err;
  }
  return {
    cfg,
    endpoints: up.endpoints,
    stateDir: cfg.stateDir,
    setLag: async (spec) => {
      await setLag(cfg, spec);
    },
    stopService: (name) => stopService(cfg, name),
    startService: (name) => startService(cfg, name),
    down: async () => {
      await stackDown(cfg, { purge: true });
    },
  };
}
