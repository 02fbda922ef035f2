/**
 * Renders every kustomization under k8s/ the way a user would, without touching the repository: the k8s tree
 * is copied into a temporary folder, the staged files (bundles built for the test, migrations, dashboards) are copied in
 * by the project's own stage step, and the gitignored secrets env files are written with sentinel passwords
 * that the tests then look for everywhere they must not be.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { bundleScenarios } from '../../build/bundle.ts';
import { K8S_DIR, PROJECT_ROOT, stage } from '../../k8s/src/generate.ts';
import { PLATFORM, RENDERABLE } from '../../k8s/src/render.ts';
import { SECRETS } from '../../k8s/src/settings.ts';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

/** kubectl with its built-in kustomize, or null with the reason the render tests skip. */
export function kubectlMissing(): string | null {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'pipe' });
    return null;
  } catch {
    return 'kubectl is not on PATH: the k8s render tests need it (kubectl ≥ 1.27 bundles kustomize v5)';
  }
}

/** Sentinel secret values: no committed or rendered non-Secret object may contain one. */
export const SENTINEL = (key: string) => `Sentinel${key.replace(/[^A-Za-z0-9]/g, '')}Value9x`;

export function secretValues(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of Object.values(SECRETS)) {
    for (const k of s.keys) out[k] = k === 'rootUser' ? 'root' : k === 'rootHost' ? '%' : SENTINEL(k);
  }
  return out;
}

export interface RenderedTree {
  readonly dir: string;
  /** Rendered objects by kustomization folder (below k8s/). */
  readonly objects: ReadonlyMap<string, K8sObject[]>;
  cleanup(): void;
}

/** Copies k8s/ into a temp folder, stages into it, writes the secrets files, renders every kustomization. */
export function renderTree(bundleDir: string): RenderedTree {
  const dir = mkdtempSync(join(tmpdir(), 'cqrs-k8s-'));
  cpSync(K8S_DIR, dir, {
    recursive: true,
    // The user's own staged copies and secrets never leak into the test.
    filter: (src) => !/\/staged(\/|$)/.test(src) && !/\/secrets\/[^/]+\.env$/.test(src),
  });
  stage(dir, PROJECT_ROOT, bundleDir);
  const values = secretValues();
  for (const s of Object.values(SECRETS)) {
    writeFileSync(
      join(dir, PLATFORM, 'secrets', s.file),
      `${s.keys.map((k) => `${k}=${values[k]}`).join('\n')}\n`,
    );
  }
  const objects = new Map<string, K8sObject[]>();
  for (const k of RENDERABLE) {
    const out = execFileSync('kubectl', ['kustomize', join(dir, k)], { encoding: 'utf8', stdio: 'pipe' });
    objects.set(
      k,
      parseAllDocuments(out).map((d) => d.toJS() as K8sObject),
    );
  }
  return { dir, objects, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const ofKind = (objects: readonly K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);

let bundles: Promise<string> | undefined;

/** The scenarios bundled once per test process into a temp folder (never the work tree's dist/). */
export function testBundles(): Promise<string> {
  bundles ??= (async () => {
    const out = mkdtempSync(join(tmpdir(), 'cqrs-k8s-dist-'));
    await bundleScenarios({ outDir: out, typecheck: false });
    return out;
  })();
  return bundles;
}
