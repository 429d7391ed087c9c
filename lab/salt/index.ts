/** Public surface of the salt-api lab. */
export { buildSaltLab, DEFAULT_SALT_CREDENTIALS, DEFAULT_SALT_PERMS, startSaltLab } from './server.js';
export type { JobDurations, SaltCredentials, SaltLab, SaltLabOptions, SaltLabParts } from './server.js';
export { DEFAULT_JOB_DURATIONS, saltFunctionNames } from './job-runner.js';
export { SaltStats } from './stats.js';
export type { SaltStatsSnapshot } from './stats.js';
export { jidFromMs, jidToTime } from './jobs.js';
export { grainsOf, SALT_VERSION } from './grains.js';
export { cherryPyErrorPage } from './html-errors.js';
export { MinionModules, SNAPPER_MODULE_STATES, type SnapperModuleState } from './modules.js';
export { JobCacheFaults, JOB_FAULT_KINDS, type JobFaultKind, type JobFaultSpec } from './faults.js';
