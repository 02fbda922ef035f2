/**
 * What a test run may not do: leave the repository different from how it found it. A snapshot lists every
 * file of the work tree (ignored ones too: a stray `reports/exp-*` is gitignored but still litter), with its
 * size and modification time; node_modules/ (tool caches live there) and .git/ are left out.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export type TreeSnapshot = ReadonlyMap<string, string>;

const SKIPPED = new Set(['node_modules', '.git']);

export function snapshotTree(root: string): TreeSnapshot {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!(dir === root && SKIPPED.has(entry.name))) walk(path);
        continue;
      }
      // lstat: a socket or a dangling link is an entry too, and must not throw.
      const st = statSync(path, { throwIfNoEntry: false }) ?? { size: -1, mtimeMs: -1 };
      out.set(relative(root, path), `${st.size}@${st.mtimeMs}`);
    }
  };
  walk(root);
  return out;
}

/** One line per file created, changed or deleted between two snapshots, sorted. */
export function treeChanges(before: TreeSnapshot, after: TreeSnapshot): string[] {
  const lines: string[] = [];
  for (const [path, stamp] of after) {
    const was = before.get(path);
    if (was === undefined) lines.push(`created ${path}`);
    else if (was !== stamp) lines.push(`changed ${path}`);
  }
  for (const path of before.keys()) if (!after.has(path)) lines.push(`deleted ${path}`);
  return lines.sort();
}
