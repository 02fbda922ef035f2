/**
 * Lists skipped tests with their reasons, then prints one plain closing line, `vitest: N passed, N failed, N
 * skipped`, after the default reporter's output, so CI logs carry a summary any reader (or log scraper)
 * understands.
 *
 * It also guards the work tree: tests write under the OS temp folder only, so a file a run created, changed
 * or deleted in the repository counts as one failure, is listed, and makes the run exit non-zero.
 */
import { resolve } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';
import { snapshotTree, type TreeSnapshot, treeChanges } from './work-tree.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

export default class SummaryLineReporter implements Reporter {
  private before: TreeSnapshot | undefined;

  // Per run, not per process: in watch mode, edits between runs are the developer's, not the tests'.
  onTestRunStart(): void {
    this.before = snapshotTree(ROOT);
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    const skipped: string[] = [];
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped.push(`${m.moduleId.replace(`${process.cwd()}/`, '')}: ${t.fullName}`);
      }
      // A file that failed to load has no tests but is a failure all the same.
      if (m.state() === 'failed' && [...m.children.allTests()].length === 0) failed++;
    }
    // Skipped tests carry their reason in their name; show them, since the default reporter folds them away.
    for (const s of skipped) console.log(`skipped: ${s}`);
    const left = this.before ? treeChanges(this.before, snapshotTree(ROOT)) : [];
    if (left.length > 0) {
      failed++;
      process.exitCode = 1;
      console.log(
        `\nFAIL work tree: the tests left ${left.length} file(s) in the repository (use a temp folder):`,
      );
      for (const line of left) console.log(`  ${line}`);
    }
    console.log(`\nvitest: ${passed} passed, ${failed} failed, ${skipped.length} skipped`);
  }
}
