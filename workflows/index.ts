// The workflow bundle's entry: every workflow type the worker serves.
export { selfTest } from './self-test.js';
export { uyuniSync } from './sync.js';
export { queuePatches } from './queue.js';
export { patchTest } from './patch-test.js';
export { bundleTest } from './bundle.js';
export { testRollback } from './test-rollback.js';
export { testDispatcher } from './dispatch.js';
export { productionDeployment } from './deployment.js';
export { productionWave } from './deployment-wave.js';
export { deploymentPlan } from './deployment-plan.js';
export { deploymentRollback } from './deployment-rollback.js';
export { probeTestSystem } from './probe.js';
export { intelEnrichment } from './intel.js';
export { notificationEndpoint } from './notify.js';
