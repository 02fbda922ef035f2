/** The guard of test/helpers/global-setup.ts sees files created, changed and deleted anywhere in a tree. */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { snapshotTree, treeChanges } from '../helpers/work-tree.ts';

describe('work-tree guard', () => {
  const root = mkdtempSync(join(tmpdir(), 'cqrs-tree-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reports every file a run created, changed or deleted, ignored folders included', () => {
    mkdirSync(join(root, 'reports'));
    mkdirSync(join(root, 'node_modules', '.cache'), { recursive: true });
    writeFileSync(join(root, 'kept.txt'), 'a');
    writeFileSync(join(root, 'edited.txt'), 'a');
    writeFileSync(join(root, 'removed.txt'), 'a');
    const before = snapshotTree(root);
    expect(treeChanges(before, snapshotTree(root))).toEqual([]);

    mkdirSync(join(root, 'reports', 'exp-1'));
    writeFileSync(join(root, 'reports', 'exp-1', 'summary.json'), '{}');
    writeFileSync(join(root, 'edited.txt'), 'a');
    utimesSync(join(root, 'edited.txt'), new Date(0), new Date(0));
    rmSync(join(root, 'removed.txt'));
    // Tool caches under node_modules/ are not the tree's content.
    writeFileSync(join(root, 'node_modules', '.cache', 'x'), 'x');

    expect(treeChanges(before, snapshotTree(root))).toEqual([
      'changed edited.txt',
      'created reports/exp-1/summary.json',
      'deleted removed.txt',
    ]);
  });
});
