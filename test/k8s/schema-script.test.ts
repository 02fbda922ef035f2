/**
 * The schema Job's script and name. The script's validation prologue runs under bash
 * (APPLY_SCHEMA_VALIDATE_ONLY=1 stops it before anything connects) with the env files `npm run k8s -- secrets`
 * writes, as the Job's env would hold them; and the Job's name follows its content, so a new migration gives a
 * new Job instead of an immutable-template error on `kubectl apply`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { K8S_DIR, writeSecrets } from '../../k8s/src/generate.ts';
import { SCHEMA_JOB_LABELS, schemaJob } from '../../k8s/src/platform.ts';
import { PLATFORM } from '../../k8s/src/render.ts';
import { migrationSources } from '../../k8s/src/schema.ts';
import { SECRETS } from '../../k8s/src/settings.ts';

const SCRIPT = join(K8S_DIR, PLATFORM, 'files', 'apply-schema.sh');
const temps: string[] = [];
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** The variables the Job's container gets: every key of both generated env files. */
function generatedSecrets(): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'cqrs-k8s-schema-'));
  temps.push(dir);
  writeSecrets(dir);
  const out: Record<string, string> = {};
  for (const s of Object.values(SECRETS)) {
    for (const line of readFileSync(join(dir, PLATFORM, 'secrets', s.file), 'utf8')
      .trim()
      .split('\n')) {
      const i = line.indexOf('=');
      out[line.slice(0, i)] = line.slice(i + 1);
    }
  }
  return out;
}

/** Runs the committed script under bash with only these variables (and PATH), stopping after validation. */
function validate(env: Record<string, string>) {
  return spawnSync('bash', [SCRIPT], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env, APPLY_SCHEMA_VALIDATE_ONLY: '1' },
    encoding: 'utf8',
  });
}

describe('apply-schema.sh validation prologue (bash)', () => {
  it('accepts the secrets `npm run k8s -- secrets` generates, rootUser=root included', () => {
    const env = generatedSecrets();
    expect(env.rootUser).toBe('root');
    const r = validate(env);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('apply-schema: inputs valid');
  });

  it('refuses a password outside 12+ of [A-Za-z0-9] with the house message, and never prints it', () => {
    const env = generatedSecrets();
    for (const bad of ['short1', 'has-a-dash-123456', "quote'd1234567"]) {
      const r = validate({ ...env, CQRS_READER_PASSWORD: bad });
      expect(r.status, bad).toBe(2);
      expect(r.stderr).toMatch(
        /^apply-schema: invalid CQRS_READER_PASSWORD; reason: expected 12\+ characters of A-Z a-z 0-9 .*, got \d+ characters that do not match\n$/,
      );
      expect(r.stderr).not.toContain(bad);
    }
    const missing = validate({ ...env, rootPassword: '' });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/invalid rootPassword; reason: expected 12\+ .*, got nothing/);
  });

  it('checks the root user as a user name (1-32 of [A-Za-z0-9_]), not as a password', () => {
    const env = generatedSecrets();
    expect(validate({ ...env, rootUser: 'cqrs_admin' }).status).toBe(0);
    for (const bad of ['', 'root;drop', 'a'.repeat(33)]) {
      const r = validate({ ...env, rootUser: bad });
      expect(r.status, bad).toBe(2);
      expect(r.stderr).toMatch(
        /^apply-schema: invalid rootUser; reason: expected 1-32 characters of A-Z a-z 0-9 _/,
      );
    }
  });
});

describe('schema Job name', () => {
  it('follows the migrations: a changed or added migration gives a different Job, the same set the same one', () => {
    const now = migrationSources();
    const name = schemaJob(now).metadata?.name as string;
    expect(name).toMatch(/^cqrs-schema-v\d{4}-[0-9a-f]{10}$/);
    expect(name.length).toBeLessThanOrEqual(63);
    expect(schemaJob(migrationSources()).metadata?.name).toBe(name);
    const last = now.at(-1);
    if (!last) throw new Error('no migrations');
    const edited = [...now.slice(0, -1), { ...last, content: `${last.content}\n-- changed` }];
    expect(schemaJob(edited).metadata?.name).not.toBe(name);
    const added = [...now, { file: '9999_next.sql', content: 'SELECT 1;' }];
    expect(schemaJob(added).metadata?.name).toMatch(/^cqrs-schema-v9999-/);
  });

  it('is the committed Job, labelled so `kubectl wait job -l` finds it whatever its name', () => {
    const committed = readFileSync(join(K8S_DIR, PLATFORM, 'schema-job.yaml'), 'utf8');
    const job = schemaJob();
    expect(committed).toContain(`name: ${job.metadata?.name}\n`);
    expect(job.metadata?.labels).toEqual(SCHEMA_JOB_LABELS);
    const readme = readFileSync(join(K8S_DIR, 'README.md'), 'utf8');
    const [key, value] = Object.entries(SCHEMA_JOB_LABELS)[0] as [string, string];
    expect(readme).toContain(`wait job -l ${key}=${value} --for=condition=complete`);
  });
});
