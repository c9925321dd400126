import { DispatchStateSchema, checkpoint, complete, finished, hostLost, newDispatch, nextFor, openSlot, testsToRun } from './dispatcher.js';
import type { DispatchState, SlotSpec } from './dispatcher.js';
import type { WorkItem } from './work.js';

/**
 * An event simulation of a dispatch: the dispatcher's own functions (./dispatcher.ts), driven by a clock
 * that jumps from one slot freeing up to the next, with the durations the tests really take. Runs
 * nothing; used by `bench/dispatch.ts --simulate` and by the tests.
 */

/** How long an item really takes at speed 1 when a slot runs `testIds` of it (setup and cleanup included). */
export interface ActualRun {
  setupSeconds: number;
  tests: { testId: string; seconds: number }[];
  cleanupSeconds: number;
}

export interface SimulationOptions {
  slots: readonly SlotSpec[];
  actual: (item: WorkItem, testIds: readonly string[]) => ActualRun;
  /** Seconds to clone and boot a VM (paid on a slot's first item and on a change of flavor). Default 0. */
  cloneSeconds?: number;
  /** Hosts that vanish at a time (seconds): their slots' items are handed back at the tests they reached. */
  hostLosses?: readonly { hostId: string; atSeconds: number }[];
  /** Serialise and re-validate the state after every step, as a workflow's continue-as-new would. */
  roundTrip?: boolean;
}

export interface SimulatedRun {
  itemId: string;
  slotId: string;
  startSeconds: number;
  endSeconds: number;
  /** The run ended because its host was lost. */
  lost: boolean;
  tests: string[];
}

export interface SimulationResult {
  makespanSeconds: number;
  runs: SimulatedRun[];
  /** Every test, once per time it ran to the end (a lost run's unfinished test is not counted). */
  testRuns: Record<string, number>;
  state: DispatchState;
}

interface Pending {
  slotId: string;
  at: number;
  run?: { index: number; schedule: { testId: string; endSeconds: number }[] };
}

export function simulateDispatch(items: readonly WorkItem[], options: SimulationOptions): SimulationResult {
  const cloneSeconds = options.cloneSeconds ?? 0;
  const losses = [...(options.hostLosses ?? [])].sort((a, b) => a.atSeconds - b.atSeconds || compare(a.hostId, b.hostId));
  const lostHosts = new Set<string>();
  let state = newDispatch(items, options.slots);
  const step = (next: DispatchState): void => {
    state = options.roundTrip ? DispatchStateSchema.parse(JSON.parse(JSON.stringify(next))) : next;
  };
  const runs: SimulatedRun[] = [];
  const testRuns: Record<string, number> = {};
  let pending: Pending[] = options.slots.map((s) => ({ slotId: s.slotId, at: 0 }));
  let now = 0;

  const hand = (slotId: string, at: number): void => {
    const { state: next, decision } = nextFor(state, slotId, at * 1000);
    step(next);
    if (decision.kind === 'close') return;
    const slot = state.slots.find((s) => s.slotId === slotId)!;
    const assignment = decision.assignment;
    const actual = options.actual(assignment.item, testsToRun(assignment));
    let t = at + (decision.reclone ? cloneSeconds : 0) + actual.setupSeconds / slot.speed;
    const schedule = actual.tests.map((test) => {
      t += test.seconds / slot.speed;
      return { testId: test.testId, endSeconds: t };
    });
    t += actual.cleanupSeconds / slot.speed;
    runs.push({ itemId: assignment.item.id, slotId, startSeconds: at, endSeconds: t, lost: false, tests: actual.tests.map((x) => x.testId) });
    pending.push({ slotId, at: t, run: { index: runs.length - 1, schedule } });
  };

  for (let guard = 0; ; guard++) {
    if (guard > 1_000_000) throw new Error('simulation did not end');
    pending.sort((a, b) => a.at - b.at || compare(a.slotId, b.slotId));
    const event = pending[0];
    const loss = losses[0];
    if (loss && (!event || loss.atSeconds <= event.at)) {
      losses.shift();
      now = loss.atSeconds;
      lostHosts.add(loss.hostId);
      for (const p of pending.filter((x) => x.run && slotHost(state, x.slotId) === loss.hostId)) {
        const run = runs[p.run!.index]!;
        const reached = p.run!.schedule.filter((s) => s.endSeconds <= now).map((s) => s.testId);
        for (const id of reached) testRuns[id] = (testRuns[id] ?? 0) + 1;
        run.endSeconds = now;
        run.lost = true;
        run.tests = reached;
        const slot = state.slots.find((s) => s.slotId === p.slotId)!;
        const done = [...(slot.current?.finished ?? []), ...reached];
        step(checkpoint(state, p.slotId, run.itemId, done));
      }
      pending = pending.filter((x) => slotHost(state, x.slotId) !== loss.hostId);
      step(hostLost(state, loss.hostId).state);
      // The workflow gives handed-back work a slot again: closed slots of live hosts reopen.
      for (const slot of state.slots) {
        if (slot.state !== 'closed' || lostHosts.has(slot.hostId)) continue;
        step(openSlot(state, { slotId: slot.slotId, hostId: slot.hostId, targets: slot.targets, speed: slot.speed }));
        pending.push({ slotId: slot.slotId, at: now });
      }
      continue;
    }
    if (!event) break;
    pending.shift();
    now = event.at;
    if (event.run) {
      const run = runs[event.run.index]!;
      const { state: next, accepted } = complete(state, event.slotId, run.itemId);
      if (!accepted) throw new Error(`slot ${event.slotId} completed ${run.itemId}, which it does not hold`);
      for (const id of run.tests) testRuns[id] = (testRuns[id] ?? 0) + 1;
      step(next);
    }
    hand(event.slotId, now);
  }
  if (!finished(state)) throw new Error(`simulation ended with ${state.queue.length} item(s) queued and no slot to run them`);
  return { makespanSeconds: runs.reduce((max, r) => Math.max(max, r.endSeconds), 0), runs, testRuns, state };
}

function slotHost(state: DispatchState, slotId: string): string | undefined {
  return state.slots.find((s) => s.slotId === slotId)?.hostId;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
