/**
 * Prometheus file_sd target lists. Written atomically (temp file + rename) because Prometheus
 * watches the file and could otherwise read it half-written.
 */
import { rename, writeFile } from 'node:fs/promises';

export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

export function nodeTargetGroup(targets: readonly string[], lab: string, extraLabels: Record<string, string> = {}): TargetGroup {
  return { targets: [...targets], labels: { job: 'node', lab, ...extraLabels } };
}

/** `file` must end in .json (or .yml/.yaml, which JSON also is) for file_sd to pick it up. */
export async function writeTargets(file: string, targets: readonly TargetGroup[]): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, `${JSON.stringify(targets, null, 2)}\n`);
  await rename(tmp, file);
}
