/** Public surface of the node-exporter lab. */
export { ExporterPortInUseError, randomExporterPort, startExporters, startExportersOnFreePort } from './server.js';
export type { ExporterOptions, Exporters } from './server.js';
export { nodeTargetGroup, writeTargets } from './targets.js';
export type { TargetGroup } from './targets.js';
export { CPU_MODES, CpuCounters } from './cpu-counters.js';
export type { CpuMode, CpuSeconds } from './cpu-counters.js';
export { EXPOSITION_CONTENT_TYPE, renderNodeMetrics } from './render.js';
