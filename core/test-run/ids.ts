import { NATIVE_TARGET } from './input.js';

/**
 * Names that several processes must agree on without talking: the CLI starts and finds workflows by
 * these ids, the host and the coordinator file artifacts and results under the same flavor id.
 */

/** `r20260422-033417-k3x9`: sortable by start time, unique enough for one lab. */
export function newRunId(now: Date, random: () => number): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, '')
    .replace('T', '-');
  const alphabet = 'abcdefghijkmnpqrstuvwxyz23456789';
  let suffix = '';
  for (let i = 0; i < 4; i++) suffix += alphabet[Math.floor(random() * alphabet.length) % alphabet.length];
  return `r${stamp}-${suffix}`;
}

export function runWorkflowId(runId: string): string {
  return `zts-run-${runId}`;
}

/** The per-target child; continue-as-new keeps this id, so the CLI can always find its current run. */
export function targetWorkflowId(runId: string, target: string): string {
  return `zts-run-${runId}-${target}`;
}

/**
 * The flavor id results are stored and filed under. A native run is its host's own OS: two bare-metal
 * hosts are two different flavors, so `native` is qualified by the host id.
 */
export function storeFlavorId(target: string, hostId: string): string {
  return target === NATIVE_TARGET ? `native-${hostId}` : target;
}
