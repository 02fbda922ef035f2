/**
 * Every variable the Node side reads, in one table: a section per consumer, each in its own file so that a
 * consumer imports only its own (the API's section pulls in no experiment or stack code). Each consumer
 * validates only its sections with `readEnv` (config/env.ts), so a bad benchmark variable never stops the API.
 * The k6 side has its own table, lib/config.ts; the CQRS_* variables npm start hands to k6 are read there.
 */
import { API_VARS } from './api.ts';
import { BENCH_VARS } from './bench.ts';
import type { EnvVar } from './env.ts';
import { EXPERIMENT_VARS, K6_BINARY_VARS } from './run.ts';
import { STACK_PASSWORD_VARS, STACK_PORT_VARS, STACK_VARS } from './stack.ts';

export const NODE_CONFIG = {
  /** api/config.ts */
  api: API_VARS,
  /** stack/config.ts */
  stack: STACK_VARS,
  stackPorts: STACK_PORT_VARS,
  stackPasswords: STACK_PASSWORD_VARS,
  /** run/experiment.ts (npm start) */
  experiment: EXPERIMENT_VARS,
  /** run/k6-binary.ts */
  k6Binary: K6_BINARY_VARS,
  /** bench/ */
  bench: BENCH_VARS,
} as const;

/** Every Node-side variable once, with the section that reads it. */
export function nodeVariables(): { section: keyof typeof NODE_CONFIG; spec: EnvVar }[] {
  return (Object.entries(NODE_CONFIG) as [keyof typeof NODE_CONFIG, Record<string, EnvVar>][]).flatMap(
    ([section, vars]) => Object.values(vars).map((spec) => ({ section, spec })),
  );
}
