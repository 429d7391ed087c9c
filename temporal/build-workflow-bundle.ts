import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../worker.js';

// `npm run build:workflows`: bundles workflows/ ahead of time (the samples' production pattern). A worker
// started with WORKER_WORKFLOW_BUNDLE=<file> loads it instead of running webpack at start, which saves
// seconds and ~200 MB of peak memory.
async function main(): Promise<void> {
  const out = path.resolve(process.argv[2] ?? 'dist/workflow-bundle.js');
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH });
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, code);
  process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'workflow bundle written', path: out, bytes: code.length })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`build-workflow-bundle: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
