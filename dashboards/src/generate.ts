/** `npm run dashboards`: writes what render.ts renders into dashboards/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { renderAll } from './render.ts';

const OUT = resolve(import.meta.dirname, '..');

export function writeDashboards(outDir: string = OUT): string[] {
  const written: string[] = [];
  for (const [file, content] of renderAll()) {
    const path = join(outDir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    written.push(file);
  }
  return written;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const files = writeDashboards();
  console.log(`dashboards: wrote ${files.length} file(s) into dashboards/: ${files.join(', ')}`);
}
