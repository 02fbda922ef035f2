/**
 * Secrets the stack generates once per state folder and keeps in `<state>/secrets.json` (0600): the Redis
 * password. Generated rather than a documented default, so reading the README does not open the cache to every
 * local user. They reach clients only through the 0600 files stack:up writes (stack.env, stack.json).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface StackSecrets {
  redisPassword: string;
}

const WELL_FORMED = /^[A-Za-z0-9_-]{16,128}$/;

export const secretsFile = (stateDir: string) => join(stateDir, 'secrets.json');

/** The state folder's secrets; made (and saved, when the folder exists) on first use. */
export function stackSecrets(stateDir: string): StackSecrets {
  const file = secretsFile(stateDir);
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8')) as Partial<StackSecrets>;
    if (typeof saved.redisPassword === 'string' && WELL_FORMED.test(saved.redisPassword)) {
      return { redisPassword: saved.redisPassword };
    }
  } catch {
    // absent or unreadable: make new ones
  }
  // URL-safe, so it goes into redis:// URLs and redis.conf without quoting.
  const fresh: StackSecrets = { redisPassword: randomBytes(24).toString('base64url') };
  if (existsSync(stateDir)) {
    writeFileSync(file, `${JSON.stringify(fresh)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return fresh;
}
