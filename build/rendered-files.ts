/**
 * Writes what a generator rendered (dashboards/, k8s/, the Compose lab): each relative path's content below
 * `outDir`, folders created as needed. Returns the paths written, in order. The generators' drift tests compare
 * the same rendering with the committed files, so this is the one place the writing happens.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function writeRendered(outDir: string, files: Iterable<readonly [string, string]>): string[] {
  const written: string[] = [];
  for (const [file, content] of files) {
    const path = join(outDir, file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
    written.push(file);
  }
  return written;
}
