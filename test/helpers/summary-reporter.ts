/**
 * Lists skipped tests with their reasons, then prints one plain closing line, `vitest: N passed, N failed, N skipped`, after the default reporter's output,
 * so CI logs carry a summary any reader (or log scraper) understands.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryLineReporter implements Reporter {
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
    console.log(`\nvitest: ${passed} passed, ${failed} failed, ${skipped.length} skipped`);
  }
}
