/**
 * A clone's life as an explicit state machine: clone → boot → wait for SSH → work → destroy.
 * `destroyed` is reachable from every state (cleanup runs on every path); a half-built VM is never
 * reused (`failed` only leads to destroying).
 */
export const VM_STATES = ['planned', 'cloning', 'cloned', 'booting', 'ready', 'working', 'destroying', 'destroyed', 'failed'] as const;
export type VmState = (typeof VM_STATES)[number];

const ALLOWED: Readonly<Record<VmState, readonly VmState[]>> = {
  planned: ['cloning', 'destroyed', 'failed'],
  cloning: ['cloned', 'failed', 'destroying'],
  cloned: ['booting', 'destroying', 'failed'],
  booting: ['ready', 'failed', 'destroying'],
  ready: ['working', 'destroying', 'failed'],
  working: ['ready', 'destroying', 'failed'],
  destroying: ['destroyed', 'failed'],
  failed: ['destroying', 'destroyed'],
  destroyed: [],
};

export class VmStateError extends Error {
  override name = 'VmStateError';
  constructor(
    readonly from: VmState,
    readonly to: VmState,
  ) {
    super(`VM cannot go from ${from} to ${to}`);
  }
}

export function canTransition(from: VmState, to: VmState): boolean {
  return ALLOWED[from].includes(to);
}

/** The next state, or a VmStateError naming the illegal move. */
export function transition(from: VmState, to: VmState): VmState {
  if (!canTransition(from, to)) throw new VmStateError(from, to);
  return to;
}

/** How a VM's work ended, for the run record: a test failing is not an infrastructure failure. */
export type VmEndReason = 'completed' | 'timeout' | 'cancelled' | 'guest-crash' | 'boot-failed' | 'error';
