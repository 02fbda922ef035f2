/** Writes the Compose lab (build/compose/render.ts) into the repository: `node build/node-cli.mjs build/compose/generate.ts`. */
import { resolve } from 'node:path';
import { writeRendered } from '../rendered-files.ts';
import { renderCompose } from './render.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

export function writeCompose(root: string = ROOT): string[] {
  return writeRendered(root, renderCompose());
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  console.log(`compose: wrote ${writeCompose().join(', ')}`);
}
