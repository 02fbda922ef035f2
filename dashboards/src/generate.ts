/** `npm run dashboards`: writes what render.ts renders into dashboards/. */
import { resolve } from 'node:path';
import { writeRendered } from '../../build/rendered-files.ts';
import { renderAll } from './render.ts';

const OUT = resolve(import.meta.dirname, '..');

export function writeDashboards(outDir: string = OUT): string[] {
  return writeRendered(outDir, renderAll());
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const files = writeDashboards();
  console.log(`dashboards: wrote ${files.length} file(s) into dashboards/: ${files.join(', ')}`);
}
