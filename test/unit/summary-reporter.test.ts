import { describe, expect, it } from 'vitest';
import { isLabTest } from '../setup/summary-reporter.js';

describe('summary reporter: lab tests counted apart', () => {
  it.each([
    ['test/unit/lab/fleet-model.test.ts', true],
    ['test/unit/lab-salt/salt-api.test.ts', true],
    ['test/integration/uyuni-client-lab.test.ts', true],
    ['test/integration/lab-prometheus/real-prometheus.test.ts', true],
    ['test/unit/score.test.ts', false],
    ['test/unit/uyuni/decode.test.ts', false],
    ['test/integration/sync.test.ts', false],
    ['test/integration/deployment.test.ts', false],
  ])('%s → lab %s', (file, lab) => expect(isLabTest(file)).toBe(lab));
});
