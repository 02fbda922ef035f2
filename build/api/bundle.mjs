/**
 * The API image's build step: bundles each Node program the image runs with the project's own bundler
 * (build/node-build.mjs, as `node build/node-cli.mjs` runs them locally), and copies the bundles to
 * <outDir>/<entry>.mjs. Packages the bundler keeps external (they locate files at run time) are loaded from the
 * image's production node_modules. Plain JS: it runs before anything is built.
 *   node build/api/bundle.mjs <outDir>
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { buildBundle, cacheDir } from '../node-build.mjs';

/** The programs of the image: the API, and the Compose lab's delay proxy, replica setup and health check. */
export const IMAGE_ENTRIES = [
  'api/server.ts',
  'build/api/lag-proxy.ts',
  'build/api/replica-setup.ts',
  'build/api/healthcheck.ts',
];

/** Where an entry's bundle lands below the output folder. */
export const bundlePath = (entry) => entry.replace(/\.ts$/, '.mjs');

const ROOT = resolve(import.meta.dirname, '..', '..');

export async function bundleImage(outDir) {
  const cache = cacheDir(ROOT);
  for (const entry of IMAGE_ENTRIES) {
    const bundle = await buildBundle(ROOT, cache, join(ROOT, entry));
    const target = join(outDir, bundlePath(entry));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(bundle, target);
    if (existsSync(`${bundle}.map`)) copyFileSync(`${bundle}.map`, `${target}.map`);
    console.log(`bundled ${entry} -> ${target}`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node build/api/bundle.mjs <outDir>');
    process.exit(2);
  }
  await bundleImage(resolve(out));
}
