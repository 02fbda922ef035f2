/** Writes the Compose lab (build/compose/render.ts) into the repository: `node build/node-cli.mjs build/compose/generate.ts`. */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { renderCompose } from './render.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

export function writeCompose(root: string = ROOT): string[] {
  const files = renderCompose();
  for (const [file, content] of files) writeFileSync(join(root, file), content);
  return [...files.keys()];
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  console.log(`compose: wrote ${writeCompose().join(', ')}`);
}
