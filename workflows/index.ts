// Every workflow the coordinator worker serves. Deterministic code only: no I/O, no Node APIs.
export { hostProbe } from './host-probe.js';
export { matrixRun } from './test-run.js';
export { targetRun } from './target-run.js';
export { goldenBuild } from './golden.js';
export { recipeMatrix, recipeRun } from './recipe-run.js';
export { scheduledTestRun } from './scheduled-run.js';
export { hostHealthCheck } from './health-check.js';
export { hostHealthSweep } from './health-sweep.js';
