/**
 * `npm run k8s`: writes what render.ts renders into k8s/ (committed).
 * `npm run k8s -- stage`: copies what the kustomizations read but git does not hold into each one's staged/
 *   folder (gitignored): the bundles from dist/ (run `npm run build` first), db/migrations/*.sql and the
 *   dashboards with their provisioning. Kustomize reads files only at or below a kustomization's folder, so
 *   these are copies; test/k8s checks they are byte for byte the sources.
 * `npm run k8s -- secrets`: writes each platform/secrets/*.env that does not exist yet, with random passwords.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeRendered } from '../../build/rendered-files.ts';
import { PLATFORM, renderAll, STAGED, stagedBundles, stagedPlatformFiles } from './render.ts';
import { SECRETS } from './settings.ts';

export const K8S_DIR = resolve(import.meta.dirname, '..');
export const PROJECT_ROOT = resolve(K8S_DIR, '..');

export function writeManifests(outDir: string = K8S_DIR): string[] {
  return writeRendered(outDir, renderAll());
}

export class StageError extends Error {}

/**
 * Copies every staged file from `root` (the repository) into `outDir` (a k8s/ tree), replacing each staged/
 * folder whole so a file that left the sources leaves the copy too. Returns the paths written below outDir.
 * `bundleDir`: where the built bundles are (`npm run build` writes dist/; the tests bundle into a temp folder).
 */
export function stage(
  outDir: string = K8S_DIR,
  root: string = PROJECT_ROOT,
  bundleDir: string = join(root, 'dist'),
): string[] {
  const copies: [string, string][] = [];
  for (const [dir, bundles] of Object.entries(stagedBundles())) {
    for (const b of bundles) copies.push([join(bundleDir, b), join(dir, STAGED, b)]);
  }
  for (const [src, dst] of Object.entries(stagedPlatformFiles())) {
    copies.push([join(root, src), join(PLATFORM, STAGED, dst)]);
  }
  const missing = copies.filter(([src]) => !existsSync(src)).map(([src]) => src);
  if (missing.length > 0) {
    throw new StageError(
      `invalid stage source; reason: expected ${missing.join(', ')} to exist (run \`npm run build\` first for dist/), got none`,
    );
  }
  for (const dir of new Set(copies.map(([, dst]) => dst.split(`/${STAGED}/`)[0] as string))) {
    rmSync(join(outDir, dir, STAGED), { recursive: true, force: true });
  }
  for (const [src, dst] of copies) {
    mkdirSync(dirname(join(outDir, dst)), { recursive: true });
    copyFileSync(src, join(outDir, dst));
  }
  return copies.map(([, dst]) => dst);
}

/** Writes the secrets env files that are missing (never overwrites one); 24 random hex bytes per password. */
export function writeSecrets(outDir: string = K8S_DIR, random = (n: number) => randomBytes(n)): string[] {
  const written: string[] = [];
  for (const s of Object.values(SECRETS)) {
    const path = join(outDir, PLATFORM, 'secrets', s.file);
    if (existsSync(path)) continue;
    const value = (key: string) => {
      if (key === 'rootUser') return 'root';
      // The operator creates root@rootHost; the schema Job logs in through Router, so not only localhost.
      if (key === 'rootHost') return '%';
      return random(24).toString('hex');
    };
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, `${s.keys.map((k) => `${k}=${value(k)}`).join('\n')}\n`, { mode: 0o600 });
    written.push(join(PLATFORM, 'secrets', s.file));
  }
  return written;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const command = process.argv[2] ?? 'manifests';
  try {
    if (command === 'manifests') {
      const files = writeManifests();
      console.log(`k8s: wrote ${files.length} file(s) into k8s/`);
    } else if (command === 'stage') {
      const files = stage();
      console.log(`k8s: staged ${files.length} file(s) (gitignored) under k8s/**/${STAGED}/`);
    } else if (command === 'secrets') {
      const files = writeSecrets();
      console.log(
        files.length === 0
          ? 'k8s: every secrets env file exists already; nothing written'
          : `k8s: wrote ${files.join(', ')} (gitignored; keep them out of git)`,
      );
    } else {
      throw new StageError(
        `invalid command; reason: expected one of manifests|stage|secrets, got ${command}`,
      );
    }
  } catch (err) {
    console.error(`k8s: ${(err as Error).message}`);
    process.exit(1);
  }
}
