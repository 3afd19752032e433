/**
 * Prints the plain closing line that CI's log reader understands: `tests: N passed, N failed[, N skipped]`.
 * vitest's own summary is not recognised there. Under `npm test` (scripts/test.mjs), which adds the Python suite's
 * counts and prints the one closing line itself, ALPHANET_TEST_COUNTS names a file that receives the counts as JSON
 * instead.
 */
import { writeFileSync } from 'node:fs';
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const m of testModules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      // A file that fails to load has no tests but must still fail the run.
      if (m.state() === 'failed' && [...m.children.allTests()].length === 0) failed++;
    }
    const countsFile = process.env.ALPHANET_TEST_COUNTS;
    if (countsFile) {
      writeFileSync(countsFile, JSON.stringify({ passed, failed, skipped }));
      return;
    }
    const tail = skipped ? `, ${skipped} skipped` : '';
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed${tail}\n`);
  }
}
