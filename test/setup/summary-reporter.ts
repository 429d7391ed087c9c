import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

// Prints the count of the lab's own tests (the stand-in for UYUNI, salt and the fleet) apart from the product's, so a
// reader sees how much of the suite tests the orchestrator; then one plain closing line,
// "N passed, N failed, N skipped" (nothing before the count), that CI tooling reads.

/** Files that test lab/ rather than the product: test/unit/lab*, test/integration/*-lab*, lab-prometheus/. */
export function isLabTest(file: string): boolean {
  const f = file.split('\\').join('/');
  return /^test\/unit\/lab[^/]*\//.test(f) || /^test\/unit\/lab[^/]*\.test\.ts$/.test(f) || /^test\/integration\/[^/]*-lab[^/]*\.test\.ts$/.test(f) || f.startsWith('test/integration/lab-prometheus/');
}

interface Counts { passed: number; failed: number; skipped: number }
const count = (c: Counts) => `${c.passed} ok, ${c.failed} not ok, ${c.skipped} not run`;
const line = (c: Counts) => `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped`;

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const product: Counts = { passed: 0, failed: 0, skipped: 0 };
    const lab: Counts = { passed: 0, failed: 0, skipped: 0 };
    for (const mod of testModules) {
      const c = isLabTest(relative(process.cwd(), mod.moduleId)) ? lab : product;
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') c.passed++;
        else if (state === 'failed') c.failed++;
        else c.skipped++;
      }
      if (mod.state() === 'failed' && !mod.children.size) c.failed++;
    }
    const all: Counts = { passed: product.passed + lab.passed, failed: product.failed + lab.failed, skipped: product.skipped + lab.skipped };
    // The split is worded so that only the closing line has the "N passed, N failed" shape a CI parser looks for.
    process.stdout.write(`\nof these, the product's own: ${count(product)}; the lab's (stand-ins): ${count(lab)}\n${line(all)}\n`);
  }
}
