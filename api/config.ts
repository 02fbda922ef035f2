/**
 * The API's configuration: its section of the Node-side table (config/api.ts), read once at boot. The type is
 * inferred from the schemas; a bad value throws the one ConfigError (common/config-error.ts).
 */
import { ConfigError } from '../common/config-error.ts';
import { strategyAvailable, unavailableReason } from '../common/strategies.ts';
import { serverKind } from '../common/topology.ts';
import { API_VARS } from '../config/api.ts';
import { type Env, envSchema, readEnv, type SectionValues } from '../config/env.ts';

// server.ts catches it by this name.
export { ConfigError };

export type ApiConfig = SectionValues<typeof API_VARS>;

/** Every variable the API reads, as one zod object keyed by name (docs/api.md lists them all). */
export const ConfigSchema = envSchema(API_VARS);

/**
 * Validates the environment (only the API's names are read; empty strings count as unset). A default strategy
 * these servers cannot serve (common/strategies.ts `servers`) is refused here, at boot, rather than in every
 * request that names none.
 */
export function loadConfig(env: Env = process.env): ApiConfig {
  const config = readEnv(API_VARS, env);
  const kind = serverKind(config.flavor, config.topology);
  if (!strategyAvailable(config.defaultStrategy, kind)) {
    throw new ConfigError(
      `invalid ${API_VARS.defaultStrategy.name}; reason: ${unavailableReason(config.defaultStrategy, kind)}`,
    );
  }
  return config;
}
