/**
 * The API's configuration: its section of the Node-side table (config/api.ts), read once at boot. The type is
 * inferred from the schemas; a bad value throws the one ConfigError (common/config-error.ts).
 */
import { API_VARS } from '../config/api.ts';
import { type Env, envSchema, readEnv, type SectionValues } from '../config/env.ts';

// server.ts catches it by this name.
export { ConfigError } from '../common/config-error.ts';

export type ApiConfig = SectionValues<typeof API_VARS>;

/** Every variable the API reads, as one zod object keyed by name (docs/api.md lists them all). */
export const ConfigSchema = envSchema(API_VARS);

/** Validates the environment (only the API's names are read; empty strings count as unset). */
export function loadConfig(env: Env = process.env): ApiConfig {
  return readEnv(API_VARS, env);
}
