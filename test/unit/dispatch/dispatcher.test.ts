import { describe, expect, it } from 'vitest';
import {
  DispatchStateSchema,
  checkpoint,
  closeSlot,
  complete,
  finished,
  hasWorkFor,
  hostLost,
  newDispatch,
  nextFor,
  slotLost,
  stranded,
  testsToRun,
} from '../../../core/dispatch/dispatcher.js';
import type { DispatchState } from '../../../core/dispatch/dispatcher.js';
import { simulateDispatch } from '../../../core/dispatch/simulate.js';
import type { WorkItem } from '../../../core/dispatch/work.js';

const item = (id: string, cost: number, target = 'debian13', tests = 3): WorkItem => ({
  id: `${target}:${id}`,
  target,
  section: id,
  testIds: Array.from({ length: tests }, (_, i) => `functional/${id}/t${i + 1}`),
  cost,
});

function run(state: DispatchState, slotId: string, now = 0) {
  const out = nextFor(state, slotId, now);
  if (out.decision.kind !== 'run') throw new Error(`${slotId} got ${out.decision.kind}`);
  return { state: out.state, assignment: out.decision.assignment, reclone: out.decision.reclone };
}

describe('dispatcher', () => {
  it('hands out longest first, to whichever slot asks; a slot keeps its clone across groups of its flavor', () => {
    let state = newDispatch(
      [item('small', 10), item('big', 100), item('mid', 50)],
      [
        { slotId: 'a/1', hostId: 'a', targets: ['debian13'] },
        { slotId: 'b/1', hostId: 'b', targets: ['debian13'] },
      ],
    );
    let got = run(state, 'b/1');
    expect([got.assignment.item.section, got.reclone]).toEqual(['big', true]);
    got = run(got.state, 'a/1');
    expect(got.assignment.item.section).toBe('mid');
    state = complete(got.state, 'a/1', 'debian13:mid').state;
    got = run(state, 'a/1');
    expect([got.assignment.item.section, got.reclone]).toEqual(['small', false]);
    state = complete(got.state, 'a/1', 'debian13:small').state;
    const closing = nextFor(state, 'a/1', 0);
    expect(closing.decision).toEqual({ kind: 'close' });
    expect(finished(closing.state)).toBe(false);
    state = complete(closing.state, 'b/1', 'debian13:big').state;
    expect(finished(state)).toBe(true);
    expect(state.done).toEqual(['debian13:mid', 'debian13:small', 'debian13:big']);
  });

  it('a slot takes only flavors placed on its host, and re-clones to switch flavor', () => {
    let state = newDispatch(
      [item('x', 100, 'ubuntu24'), item('y', 50, 'debian13'), item('z', 10, 'ubuntu24')],
      [{ slotId: 'lab/1', hostId: 'lab', targets: ['debian13'] }],
    );
    const first = run(state, 'lab/1');
    expect(first.assignment.item.id).toBe('debian13:y');
    state = complete(first.state, 'lab/1', 'debian13:y').state;
    expect(nextFor(state, 'lab/1', 0).decision.kind).toBe('close');
    expect(stranded(state).map((q) => q.item.id)).toEqual(['ubuntu24:x', 'ubuntu24:z']);

    let mixed = newDispatch([item('x', 100, 'ubuntu24'), item('y', 50, 'debian13')], [{ slotId: 'k/1', hostId: 'k', targets: ['debian13', 'ubuntu24'] }]);
    const a = run(mixed, 'k/1');
    mixed = complete(a.state, 'k/1', 'ubuntu24:x').state;
    const b = run(mixed, 'k/1');
    expect([a.reclone, b.assignment.item.id, b.reclone]).toEqual([true, 'debian13:y', true]);
  });

  it('a lost host hands its group back with its checkpoint; the next slot resumes after it; the late result is refused', () => {
    let state = newDispatch(
      [item('big', 100, 'debian13', 4), item('small', 10)],
      [
        { slotId: 'a/1', hostId: 'a', targets: ['debian13'] },
        { slotId: 'b/1', hostId: 'b', targets: ['debian13'] },
      ],
    );
    state = run(state, 'a/1').state;
    state = checkpoint(state, 'a/1', 'debian13:big', ['functional/big/t1', 'functional/big/t2', 'functional/nope/t9']);
    const lost = hostLost(state, 'a');
    expect(lost.handedBack.map((q) => [q.item.id, q.finished, q.handedBack])).toEqual([['debian13:big', ['functional/big/t1', 'functional/big/t2'], 1]]);
    // Half its tests are done: it now sorts by what is left (50) but still ahead of the 10-second group.
    expect(lost.state.queue.map((q) => q.item.id)).toEqual(['debian13:big', 'debian13:small']);
    expect(lost.state.handBacks).toEqual([{ itemId: 'debian13:big', slotId: 'a/1', hostId: 'a', finished: 2 }]);
    const resumed = run(lost.state, 'b/1');
    expect(testsToRun(resumed.assignment)).toEqual(['functional/big/t3', 'functional/big/t4']);
    expect(complete(resumed.state, 'a/1', 'debian13:big').accepted).toBe(false);
    expect(complete(resumed.state, 'b/1', 'debian13:big').accepted).toBe(true);
    expect(() => nextFor(resumed.state, 'a/1', 0)).toThrow(/lost/);
  });

  it("a lost slot hands back only its own item; its host's other slot keeps its own until it reports", () => {
    let state = newDispatch(
      [item('big', 100, 'debian13', 4), item('mid', 50), item('small', 10)],
      [
        { slotId: 'a/1', hostId: 'a', targets: ['debian13'] },
        { slotId: 'a/2', hostId: 'a', targets: ['debian13'] },
        { slotId: 'b/1', hostId: 'b', targets: ['debian13'] },
      ],
    );
    state = run(state, 'a/1').state;
    state = run(state, 'a/2').state;
    state = checkpoint(state, 'a/1', 'debian13:big', ['functional/big/t1']);
    const lost = slotLost(state, 'a/1');
    expect(lost.handedBack.map((q) => [q.item.id, q.finished])).toEqual([['debian13:big', ['functional/big/t1']]]);
    expect(lost.state.slots.map((s) => [s.slotId, s.state])).toEqual([
      ['a/1', 'lost'],
      ['a/2', 'busy'],
      ['b/1', 'idle'],
    ]);
    expect(hasWorkFor(lost.state, 'b/1')).toBe(true);
    expect(() => slotLost(state, 'nope')).toThrow(/no slot nope/);
    // A slot closed for failing leaves the rest to the others.
    const closed = closeSlot(lost.state, 'b/1');
    expect(closed.slots.find((s) => s.slotId === 'b/1')?.state).toBe('closed');
    expect(() => closeSlot(lost.state, 'a/2')).toThrow(/busy/);
    expect(hasWorkFor(newDispatch([], [{ slotId: 'x/1', hostId: 'x', targets: ['debian13'] }]), 'x/1')).toBe(false);
  });

  it('on mixed speeds a slow slot leaves a long group to a faster slot about to free up, and takes a short one', () => {
    let state = newDispatch(
      [item('first', 100), item('long', 90), item('short', 5)],
      [
        { slotId: 'kvm/1', hostId: 'kvm', targets: ['debian13'], speed: 1 },
        { slotId: 'tcg/1', hostId: 'tcg', targets: ['debian13'], speed: 0.1 },
      ],
    );
    state = run(state, 'kvm/1', 0).state;
    // On the TCG slot, `long` would end at 900 s; the KVM slot frees at 100 s and would end it at 190 s.
    const slow = run(state, 'tcg/1', 0);
    expect(slow.assignment.item.section).toBe('short');
  });

  it('the state is plain JSON: a dispatch continued from its serialised form decides the same', () => {
    const items = Array.from({ length: 30 }, (_, i) => item(`g${String(i).padStart(2, '0')}`, ((i * 37) % 23) + 1));
    const slots = [1, 2, 3].map((i) => ({ slotId: `h/${i}`, hostId: 'h', targets: ['debian13'] }));
    const actual = (w: WorkItem, ids: readonly string[]) => ({
      setupSeconds: 1,
      tests: ids.map((testId) => ({ testId, seconds: w.cost / 3 + (testId.endsWith('1') ? 2 : 0) })),
      cleanupSeconds: 1,
    });
    const plain = simulateDispatch(items, { slots, actual });
    const roundTripped = simulateDispatch(items, { slots, actual, roundTrip: true });
    expect(roundTripped.runs).toEqual(plain.runs);
    expect(DispatchStateSchema.parse(JSON.parse(JSON.stringify(plain.state)))).toEqual(plain.state);
  });
});

describe('simulateDispatch with a host lost mid-run', () => {
  it('every test runs exactly once, the lost group resumes at its checkpointed test on another host', () => {
    const items = Array.from({ length: 12 }, (_, i) => item(`g${i}`, 10 * (i + 1), 'debian13', 5));
    const slots = [
      { slotId: 'a/1', hostId: 'a', targets: ['debian13'] },
      { slotId: 'a/2', hostId: 'a', targets: ['debian13'] },
      { slotId: 'b/1', hostId: 'b', targets: ['debian13'] },
    ];
    const actual = (w: WorkItem, ids: readonly string[]) => ({
      setupSeconds: 2,
      tests: ids.map((testId) => ({ testId, seconds: w.cost / 5 })),
      cleanupSeconds: 1,
    });
    const sim = simulateDispatch(items, { slots, actual, hostLosses: [{ hostId: 'a', atSeconds: 75 }], roundTrip: true, cloneSeconds: 30 });
    const allTests = items.flatMap((w) => w.testIds);
    expect(Object.keys(sim.testRuns).sort()).toEqual([...allTests].sort());
    expect(new Set(Object.values(sim.testRuns))).toEqual(new Set([1]));
    const lostRuns = sim.runs.filter((r) => r.lost);
    expect(lostRuns.map((r) => r.slotId).sort()).toEqual(['a/1', 'a/2']);
    expect(sim.state.handBacks.length).toBe(2);
    for (const lostRun of lostRuns) {
      const resumed = sim.runs.find((r) => r.itemId === lostRun.itemId && !r.lost)!;
      expect(resumed.slotId).toBe('b/1');
      // The resumed run starts at the first test the lost one had not finished.
      const all = items.find((w) => w.id === lostRun.itemId)!.testIds;
      expect(resumed.tests).toEqual(all.slice(lostRun.tests.length));
      expect(lostRun.tests.length).toBeGreaterThan(0);
    }
    expect(sim.state.done.length).toBe(items.length);
  });
});
