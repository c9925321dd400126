import { z } from 'zod';
import { longestFirst } from './work.js';
import type { WorkItem } from './work.js';

/**
 * Dynamic dispatch: groups wait in one queue, longest first by history, and each VM slot that frees
 * up anywhere in the fleet takes the next one it may run. Nothing is fixed at plan time, so a run
 * whose real durations differ from history, or whose hosts differ in speed, still ends close to the
 * lower bound.
 *
 * The state is plain JSON (zod-checked when it crosses a boundary): a workflow holds it, passes it to
 * continue-as-new, and calls these functions, which never mutate their input and never look at a clock
 * (time, where needed, is passed in: the workflow's deterministic `Date.now()`, or the simulator's).
 *
 * A slot keeps its clone from one group to the next while the groups are of its clone's flavor; it
 * re-clones only to switch flavor. A slot whose host is lost hands its group back with the tests it
 * already finished (its heartbeat checkpoint), and the group's next holder resumes after them.
 */

const WorkItemSchema = z.object({
  id: z.string(),
  target: z.string(),
  section: z.string(),
  testIds: z.array(z.string()),
  part: z.object({ index: z.number().int(), of: z.number().int() }).optional(),
  cost: z.number(),
});

const QueuedSchema = z.object({
  item: WorkItemSchema,
  /** Tests finished by earlier holders (lost hosts), in order: the next holder skips them. */
  finished: z.array(z.string()),
  /** How many slots held it before. */
  handedBack: z.number().int().min(0),
});
export type QueuedItem = z.infer<typeof QueuedSchema>;

const AssignmentSchema = QueuedSchema.extend({
  slotId: z.string(),
  /** Time it was handed out (ms, the caller's clock). */
  startedAt: z.number(),
  /** When it should end at the slot's speed (ms): what a slower slot weighs before taking a long item. */
  expectedEndAt: z.number(),
});
export type Assignment = z.infer<typeof AssignmentSchema>;

const SlotSchema = z.object({
  slotId: z.string(),
  hostId: z.string(),
  /** Flavors this slot may run. */
  targets: z.array(z.string()),
  /** Relative speed (1 = the speed history was measured at; a TCG host against KVM history ≈ 0.05–0.1). */
  speed: z.number().positive(),
  state: z.enum(['idle', 'busy', 'closed', 'lost']),
  /** The flavor of the clone it holds, if any. */
  clone: z.string().optional(),
  current: AssignmentSchema.optional(),
  itemsRun: z.number().int().min(0),
});
export type SlotState = z.infer<typeof SlotSchema>;

export const DispatchStateSchema = z.object({
  schema: z.literal('zfslab.dispatch/v1'),
  /** Longest first. */
  queue: z.array(QueuedSchema),
  slots: z.array(SlotSchema),
  /** Ids of items whose every test finished. */
  done: z.array(z.string()),
  /** Items handed back by lost slots, as it happened. */
  handBacks: z.array(z.object({ itemId: z.string(), slotId: z.string(), hostId: z.string(), finished: z.number().int() })),
});
export type DispatchState = z.infer<typeof DispatchStateSchema>;

export interface SlotSpec {
  slotId: string;
  hostId: string;
  targets: readonly string[];
  speed?: number;
}

export function newDispatch(items: readonly WorkItem[], slots: readonly SlotSpec[] = []): DispatchState {
  const ids = new Set<string>();
  for (const item of items) {
    if (ids.has(item.id)) throw new Error(`work item ${item.id} given twice`);
    ids.add(item.id);
  }
  const state: DispatchState = {
    schema: 'zfslab.dispatch/v1',
    queue: longestFirst(items).map((item) => ({ item: { ...item, testIds: [...item.testIds] }, finished: [], handedBack: 0 })),
    slots: [],
    done: [],
    handBacks: [],
  };
  return slots.reduce(openSlot, state);
}

/** A new slot (a free VM slot of a host, no clone yet). */
export function openSlot(state: DispatchState, spec: SlotSpec): DispatchState {
  if (state.slots.some((s) => s.slotId === spec.slotId && s.state !== 'closed' && s.state !== 'lost')) throw new Error(`slot ${spec.slotId} is already open`);
  const speed = spec.speed ?? 1;
  if (!(speed > 0)) throw new RangeError(`slot ${spec.slotId}: speed must be positive, got ${speed}`);
  const slot: SlotState = { slotId: spec.slotId, hostId: spec.hostId, targets: [...spec.targets], speed, state: 'idle', itemsRun: 0 };
  return { ...state, slots: [...state.slots.filter((s) => s.slotId !== spec.slotId), slot] };
}

export type Decision =
  /** Run this item in the slot; `reclone` when the slot's clone is missing or of another flavor. */
  | { kind: 'run'; assignment: Assignment; reclone: boolean }
  /** Nothing more for this slot: destroy its clone and give the VM slot back. */
  | { kind: 'close' };

/**
 * What a free slot does next: the longest queued item of a flavor it may run. On a fleet of mixed speeds, a slot passes over an item that a faster
 * slot, once free, would finish sooner (otherwise the last long group lands on a TCG host and holds the
 * run for hours) and takes the longest it would not; when every item is better left to faster slots, or
 * none is left, it closes.
 */
export function nextFor(state: DispatchState, slotId: string, now: number): { state: DispatchState; decision: Decision } {
  const slot = slotOf(state, slotId);
  if (slot.state === 'busy') throw new Error(`slot ${slotId} is busy with ${slot.current?.item.id}: complete it first`);
  if (slot.state === 'closed' || slot.state === 'lost') throw new Error(`slot ${slotId} is ${slot.state}`);
  const faster = state.slots.filter((s) => s.slotId !== slotId && (s.state === 'busy' || s.state === 'idle') && s.speed > slot.speed);
  const index = state.queue.findIndex((q) => {
    if (!slot.targets.includes(q.item.target)) return false;
    const leftMs = remainingCost(q) * 1000;
    const mine = now + leftMs / slot.speed;
    return !faster.some((other) => other.targets.includes(q.item.target) && freeAt(other, now) + leftMs / other.speed < mine);
  });
  if (index < 0) {
    const closed: SlotState = { ...slot, state: 'closed', current: undefined };
    delete closed.current;
    return { state: withSlot(state, closed), decision: { kind: 'close' } };
  }
  const picked = state.queue[index] as QueuedItem;
  const assignment: Assignment = { ...picked, slotId, startedAt: now, expectedEndAt: now + (remainingCost(picked) * 1000) / slot.speed };
  const reclone = slot.clone !== picked.item.target;
  const busy: SlotState = { ...slot, state: 'busy', clone: picked.item.target, current: assignment, itemsRun: slot.itemsRun + 1 };
  return {
    state: withSlot({ ...state, queue: state.queue.filter((_, i) => i !== index) }, busy),
    decision: { kind: 'run', assignment, reclone },
  };
}

/** The tests of an assignment still to run: its item's, minus those earlier holders finished. */
export function testsToRun(assignment: Pick<Assignment, 'item' | 'finished'>): string[] {
  const finished = new Set(assignment.finished);
  return assignment.item.testIds.filter((id) => !finished.has(id));
}

/**
 * The slot's heartbeat checkpoint: tests of its current item finished so far (the full list, in order,
 * earlier holders' included or not). Ignored when the slot no longer holds that item.
 */
export function checkpoint(state: DispatchState, slotId: string, itemId: string, finishedTestIds: readonly string[]): DispatchState {
  const slot = state.slots.find((s) => s.slotId === slotId);
  if (!slot || slot.state !== 'busy' || slot.current?.item.id !== itemId) return state;
  const known = new Set(slot.current.item.testIds);
  const finished = [...new Set([...slot.current.finished, ...finishedTestIds.filter((id) => known.has(id))])];
  return withSlot(state, { ...slot, current: { ...slot.current, finished } });
}

/**
 * The slot finished its item. `accepted` is false when the slot does not hold it any more (its host was
 * declared lost and the item handed back): the caller must then drop the late result, so no test is
 * recorded twice.
 */
export function complete(state: DispatchState, slotId: string, itemId: string): { state: DispatchState; accepted: boolean } {
  const slot = state.slots.find((s) => s.slotId === slotId);
  if (!slot || slot.state !== 'busy' || slot.current?.item.id !== itemId) return { state, accepted: false };
  const idle: SlotState = { ...slot, state: 'idle' };
  delete idle.current;
  return { state: { ...withSlot(state, idle), done: [...state.done, itemId] }, accepted: true };
}

/**
 * A host is gone (worker dead past its heartbeat timeout, machine rebooted, cut off): its slots are lost
 * and their items go back in the queue, in longest-first place by what is left of them, carrying the
 * tests already finished so the next holder resumes at the checkpointed test.
 */
export function hostLost(state: DispatchState, hostId: string): { state: DispatchState; handedBack: QueuedItem[] } {
  return loseSlots(state, (slot) => slot.hostId === hostId);
}

/**
 * One slot is gone (its activity's host stopped heartbeating): its item goes back in the queue with the
 * tests it finished, as in hostLost. The host's other slots are left to find out for themselves, each
 * from its own activity, so each hands back its own checkpoint rather than an empty one.
 */
export function slotLost(state: DispatchState, slotId: string): { state: DispatchState; handedBack: QueuedItem[] } {
  slotOf(state, slotId);
  return loseSlots(state, (slot) => slot.slotId === slotId);
}

function loseSlots(state: DispatchState, which: (slot: SlotState) => boolean): { state: DispatchState; handedBack: QueuedItem[] } {
  const handedBack: QueuedItem[] = [];
  const handBacks = [...state.handBacks];
  const slots = state.slots.map((slot): SlotState => {
    if (!which(slot) || slot.state === 'closed' || slot.state === 'lost') return slot;
    const hostId = slot.hostId;
    if (slot.current) {
      const { item, finished, handedBack: times } = slot.current;
      handedBack.push({ item, finished, handedBack: times + 1 });
      handBacks.push({ itemId: item.id, slotId: slot.slotId, hostId, finished: finished.length });
    }
    const lost: SlotState = { ...slot, state: 'lost' };
    delete lost.current;
    delete lost.clone;
    return lost;
  });
  const queue = [...state.queue, ...handedBack].sort((a, b) => remainingCost(b) - remainingCost(a) || compare(a.item.id, b.item.id));
  return { state: { ...state, slots, queue, handBacks }, handedBack };
}

/** An idle slot leaves the dispatch (its runner keeps failing, or its target is unavailable there). */
export function closeSlot(state: DispatchState, slotId: string): DispatchState {
  const slot = slotOf(state, slotId);
  if (slot.state === 'busy') throw new Error(`slot ${slotId} is busy with ${slot.current?.item.id}: complete it first`);
  if (slot.state !== 'idle') return state;
  return withSlot(state, { ...slot, state: 'closed' });
}

/** Whether the queue holds an item this slot may run (before asking nextFor, which closes a slot that has none). */
export function hasWorkFor(state: DispatchState, slotId: string): boolean {
  const slot = slotOf(state, slotId);
  return state.queue.some((q) => slot.targets.includes(q.item.target));
}

/** Queued items no open slot may run: work placement must find a new slot for, or report. */
export function stranded(state: DispatchState): QueuedItem[] {
  const open = state.slots.filter((s) => s.state === 'idle' || s.state === 'busy');
  return state.queue.filter((q) => !open.some((s) => s.targets.includes(q.item.target)));
}

/** Every item done: nothing queued, no slot busy. */
export function finished(state: DispatchState): boolean {
  return state.queue.length === 0 && !state.slots.some((s) => s.state === 'busy');
}

/** Cost still ahead of an item: its estimated cost scaled by the share of its tests not yet finished. */
export function remainingCost(q: Pick<QueuedItem, 'item' | 'finished'>): number {
  const total = q.item.testIds.length;
  if (total === 0 || q.finished.length === 0) return q.item.cost;
  return (q.item.cost * (total - Math.min(total, q.finished.length))) / total;
}

/** When a slot is expected to be free (ms): now if idle, else when its current item should end. */
function freeAt(slot: SlotState, now: number): number {
  return Math.max(now, slot.current?.expectedEndAt ?? now);
}

function slotOf(state: DispatchState, slotId: string): SlotState {
  const slot = state.slots.find((s) => s.slotId === slotId);
  if (!slot) throw new Error(`no slot ${slotId} in this dispatch`);
  return slot;
}

function withSlot(state: DispatchState, slot: SlotState): DispatchState {
  return { ...state, slots: state.slots.map((s) => (s.slotId === slot.slotId ? slot : s)) };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
