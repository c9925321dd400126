import { describe, expect, it } from 'vitest';
import { VM_STATES, VmStateError, canTransition, transition } from '../../../core/vm/lifecycle.js';
import { HostCapacity } from '../../../activities/vm/capacity.js';

describe('VM lifecycle states', () => {
  it('walks the happy path clone → boot → ready → work → destroy', () => {
    let s = transition('planned', 'cloning');
    for (const next of ['cloned', 'booting', 'ready', 'working', 'destroying', 'destroyed'] as const) s = transition(s, next);
    expect(s).toBe('destroyed');
  });

  it('can reach destroyed from every state except destroyed (cleanup on every path)', () => {
    for (const state of VM_STATES) {
      if (state === 'destroyed') continue;
      const direct = canTransition(state, 'destroyed');
      const viaDestroying = canTransition(state, 'destroying') || canTransition(state, 'failed');
      expect(direct || viaDestroying, state).toBe(true);
    }
  });

  it('never reuses a failed VM', () => {
    expect(() => transition('failed', 'booting')).toThrow(VmStateError);
    expect(() => transition('failed', 'ready')).toThrow(/failed to ready/);
    expect(() => transition('destroyed', 'cloning')).toThrow(VmStateError);
  });
});

describe('host capacity', () => {
  it('caps VMs by CPU count and by memory, and queues the rest in order', async () => {
    const cap = new HostCapacity({ maxVms: 8, cpus: 2, totalMemoryMiB: 12_288, reserveMemoryMiB: 2048 });
    expect(cap.limitVms).toBe(2);
    const a = await cap.acquire(4096);
    const b = await cap.acquire(4096);
    let third = false;
    const c = cap.acquire(4096).then((r) => ((third = true), r));
    await new Promise((r) => setTimeout(r, 20));
    expect(third).toBe(false);
    a();
    a(); // releasing twice must not free two slots
    const release = await c;
    expect(cap.inUse).toEqual({ vms: 2, memoryMiB: 8192 });
    b();
    release();
    expect(cap.inUse).toEqual({ vms: 0, memoryMiB: 0 });
  });

  it('waits on memory even with a free CPU', async () => {
    const cap = new HostCapacity({ maxVms: 4, cpus: 4, totalMemoryMiB: 8192, reserveMemoryMiB: 2048 });
    const a = await cap.acquire(4096);
    const abort = new AbortController();
    const pending = cap.acquire(4096, abort.signal);
    abort.abort();
    await expect(pending).rejects.toThrow(/cancelled/);
    await expect(cap.acquire(100_000)).rejects.toThrow(/never fits/);
    a();
  });
});
