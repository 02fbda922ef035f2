/**
 * Secrets the stack generates once per state folder and keeps in `<state>/secrets.json` (0600): the Redis
 * password, Grafana's admin password and its signing key. Generated rather than documented defaults, so reading
 * the README (or Grafana's own admin/admin) does not open the stack to every local user. They reach clients only
 * through the 0600 files stack:up writes (stack.env, stack.json, grafana/grafana.ini).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StackSecrets {
  redisPassword: string;
  grafanaAdminPassword: string;
  grafanaSecretKey: string;
}

const WELL_FORMED = /^[A-Za-z0-9_-]{16,128}$/;

export const secretsFile = (stateDir: string) => join(stateDir, 'secrets.json');

// URL-safe: it goes into redis:// URLs, redis.conf and grafana.ini without quoting.
const fresh = () => randomBytes(24).toString('base64url');

/**
 * The state folder's secrets; each one made (and saved, when the folder exists) on first use. A folder from an
 * earlier version keeps the ones it has, so a running Redis keeps its password when Grafana's are added.
 */
export function stackSecrets(stateDir: string): StackSecrets {
  const file = secretsFile(stateDir);
  let saved: Record<string, unknown> = {};
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    // absent or unreadable: make new ones
  }
  const keep = (key: keyof StackSecrets) => {
    const v = saved[key];
    return typeof v === 'string' && WELL_FORMED.test(v) ? v : undefined;
  };
  const secrets: StackSecrets = {
    redisPassword: keep('redisPassword') ?? fresh(),
    grafanaAdminPassword: keep('grafanaAdminPassword') ?? fresh(),
    grafanaSecretKey: keep('grafanaSecretKey') ?? fresh(),
  };
  const changed = (Object.keys(secrets) as (keyof StackSecrets)[]).some((k) => saved[k] !== secrets[k]);
  if (changed && existsSync(stateDir)) {
    writeFileSync(file, `${JSON.stringify(secrets)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return secrets;
}
