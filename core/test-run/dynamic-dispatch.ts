import { z } from 'zod';
import type { SlotSpec } from '../dispatch/dispatcher.js';
import type { WorkItem } from '../dispatch/work.js';
import type { PlannedShard } from './types.js';

/**
 * A target's planned chunks as the dispatcher's work (`--dispatch dynamic`): every chunk of every shard
 * waits in one queue, longest first, and each free slot of the dispatch hosts takes the next. A chunk
 * keeps its shard's runfile and keys, so recording, re-runs and artifacts are the static plan's.
 */

export const DispatchModeSchema = z.enum(['static', 'dynamic']);
export type DispatchMode = z.infer<typeof DispatchModeSchema>;

/** A host whose VM slots take chunks, and how many (a native host: one, its runner owns the machine). */
export const DispatchHostSchema = z.strictObject({
  hostId: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
  slots: z.number().int().min(1).max(64),
  /** Relative speed against the history the plan was made from (a TCG host against KVM history ≈ 0.05). */
  speed: z.number().positive().optional(),
});
export type DispatchHost = z.infer<typeof DispatchHostSchema>;

export function chunkItemId(shard: number, chunk: number): string {
  return `s${shard}c${chunk}`;
}

export function chunkOfItem(id: string): { shard: number; chunk: number } {
  const m = /^s(\d+)c(\d+)$/.exec(id);
  if (!m) throw new Error(`not a chunk item id: ${id}`);
  return { shard: Number(m[1]), chunk: Number(m[2]) };
}

export function chunkItems(target: string, shards: readonly PlannedShard[]): WorkItem[] {
  return shards.flatMap((shard) =>
    shard.chunks.map((chunk) => ({
      id: chunkItemId(shard.index, chunk.index),
      target,
      section: shard.sections.join(' '),
      testIds: [...chunk.testIds],
      cost: chunk.cost,
    })),
  );
}

/**
 * The slots: one per VM slot of each dispatch host (each once, first mention wins); without any, the
 * target's own host with one slot per shard. A target that runs one runner at a time (native) gets
 * one slot per host.
 */
export function dispatchSlots(target: string, hosts: readonly DispatchHost[], fallback: { hostId: string; shards: number }, parallel: boolean): SlotSpec[] {
  const seen = new Set<string>();
  const chosen = (hosts.length > 0 ? hosts : [{ hostId: fallback.hostId, slots: fallback.shards }]).filter((h) => !seen.has(h.hostId) && seen.add(h.hostId));
  return chosen.flatMap((h) =>
    Array.from({ length: parallel ? h.slots : 1 }, (_, i) => ({
      slotId: `${h.hostId}/${i + 1}`,
      hostId: h.hostId,
      targets: [target],
      ...('speed' in h && h.speed !== undefined ? { speed: h.speed } : {}),
    })),
  );
}
