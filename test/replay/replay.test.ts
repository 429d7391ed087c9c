import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { workflowBundle } from '../support/context.js';
import { HISTORIES_DIR, readHistory, readManifest, SCENARIOS } from './histories.js';

// Determinism: every stored history (test/replay/histories/, recorded by `npm run replay:record`) is replayed
// against the current workflow code — the bundle the suite's workers run. A change that would make a running
// workflow take another path than its history (a reordered, added or removed activity, timer, child or
// signal-driven step without `patched()`) fails here with the SDK's DeterminismViolationError.
describe('replay of the stored histories against the current workflow code', () => {
  const manifest = readManifest();

  it('holds every representative scenario, and nothing the manifest does not list', () => {
    expect(new Set(manifest.histories.map((h) => h.scenario))).toEqual(new Set(Object.keys(SCENARIOS)));
    const types = new Set(manifest.histories.map((h) => h.workflowType));
    for (const t of ['uyuniSync', 'patchTest', 'productionDeployment', 'deploymentRollback']) expect(types, t).toContain(t);
    const files = readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json') && f !== 'manifest.json').sort();
    expect(files).toEqual(manifest.histories.map((h) => h.file).sort());
    for (const h of manifest.histories) expect(existsSync(path.join(HISTORIES_DIR, h.file)), h.file).toBe(true);
  });

  it('replays each history without a nondeterminism error', async () => {
    const histories = manifest.histories.map((h) => ({ workflowId: h.workflowId, history: readHistory(h) }));
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowBundle: workflowBundle() }, histories)) {
      replayed++;
      const entry = manifest.histories.find((h) => h.workflowId === result.workflowId);
      if (result.error) failures.push(`${entry?.file ?? result.workflowId}: ${result.error.name}: ${result.error.message}`);
    }
    // A failure here means running workflows would break: guard the change with patched() (README, "Replay
    // tests"), or — when no open run can meet it — re-record with `npm run replay:record` and commit the files.
    expect(failures, 'nondeterminism against the stored histories (README: Replay tests)').toEqual([]);
    expect(replayed).toBe(manifest.histories.length);
  }, 120_000);
});
