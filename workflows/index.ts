// Every workflow the coordinator worker serves. Deterministic code only: no I/O, no Node APIs.
export { hostProbe } from './host-probe.js';
