#!/usr/bin/env node
/**
 * `node build/node-cli.mjs <entry.ts> [args…]` runs a Node entry point of this project (the stack CLI, the
 * API server, the delay proxy, npm start) from its esbuild bundle (build/node-build.mjs), building it first
 * when a source changed, so a command is ready to work after about 0.2 s instead of the ~0.8 s it took
 * through tsx. The entry sees the argv it would see under tsx: argv[1] is the .ts source, then its arguments.
 * Plain JS run by node: nothing may need building before this file runs. Stack traces name the bundle's lines;
 * NODE_OPTIONS=--enable-source-maps maps them back to the sources (it costs ~30 ms, so it is not the default).
 */
import { realpathSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildBundle, cacheDir, freshBundle, NodeBuildError } from './node-build.mjs';

const ROOT = resolve(import.meta.dirname, '..');

/** One line on stderr and a non-zero exit: the project's rule for every failure a user can cause. */
function fail(message, code) {
  console.error(`node-cli: ${message}`);
  process.exit(code);
}

const [arg, ...rest] = process.argv.slice(2);
if (!arg) fail('usage: node build/node-cli.mjs <entry.ts> [args...]', 2);
let entry;
try {
  entry = realpathSync(resolve(arg));
} catch {
  fail(`no such entry point: ${arg}`, 2);
}
const rel = relative(ROOT, entry);
if (!/\.[cm]?ts$/.test(entry) || rel.startsWith('..') || rel.split(sep).includes('node_modules')) {
  fail(`not a TypeScript entry point of this project: ${arg}`, 2);
}

const cache = cacheDir(ROOT);
let bundle = freshBundle(ROOT, cache, entry);
if (!bundle) {
  try {
    bundle = await buildBundle(ROOT, cache, entry);
  } catch (err) {
    fail(`cannot build ${rel}: ${err instanceof NodeBuildError ? err.message : String(err)}`, 1);
  }
}

process.argv = [process.argv[0], entry, ...rest];
try {
  await import(pathToFileURL(bundle).href);
} catch (err) {
  // What the entry's own handlers did not catch: say it in one line, as the entries do for their errors.
  fail(`${rel}: ${err instanceof Error ? err.message : String(err)}`.split('\n')[0], 1);
}
