import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The stored histories of test/replay/: one JSON file per workflow run (the format `temporal workflow show
// --output json` and the Web UI's download write), listed in manifest.json with the scenario it belongs to.

export const HISTORIES_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'histories');
export const MANIFEST = path.join(HISTORIES_DIR, 'manifest.json');

/** The runs every recording must contain: the representative scenarios. */
export const SCENARIOS = {
  sync: 'a UYUNI sync (uyuniSync)',
  intel: 'an NVD / EPSS / KEV enrichment pass against the lab (intelEnrichment): KEV, EPSS, ranking, an NVD window sweep, ranking',
  'deploy-halt-rollback': 'a passed test, approved, deployed to production, halted by the failure budget, rolled back in production',
  'deploy-operator-halt': 'an approved rollout halted by an operator during its soak (the halt signal), then rolled back in production',
  'rolled-back-test': 'a test whose patch stopped a critical service: rolled back on the test system and verified',
  'expired-approval': 'a passed test nobody decided: reminders, expiry, the patch undone on the test system',
  'bundle-bisect': 'a bundle of four with one CPU spike, bisected (halves as child workflows) until the culprit failed alone',
  'legacy-deploy': "rollouts recorded before batches (one activity per system; commit 547b132): they replay on the pre-batch path productionDeployment keeps behind patched('deploy-fleet-batches') until it is deprecated",
} as const;
export type Scenario = keyof typeof SCENARIOS;

export interface ManifestEntry {
  file: string;
  scenario: Scenario;
  workflowType: string;
  workflowId: string;
  /** How the run ended (Temporal's execution status). */
  status: string;
  events: number;
}

export interface Manifest {
  recordedAt: string;
  /** The commit whose workflow code produced the histories. */
  commit: string;
  histories: ManifestEntry[];
}

export function readManifest(): Manifest {
  return JSON.parse(readFileSync(MANIFEST, 'utf8')) as Manifest;
}

export function readHistory(entry: ManifestEntry): unknown {
  return JSON.parse(readFileSync(path.join(HISTORIES_DIR, entry.file), 'utf8'));
}
