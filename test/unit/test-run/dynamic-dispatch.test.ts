import { describe, expect, it } from 'vitest';
import { chunkItemId, chunkItems, chunkOfItem, dispatchSlots } from '../../../core/test-run/dynamic-dispatch.js';
import type { PlannedShard } from '../../../core/test-run/types.js';

const shard = (index: number, chunks: string[][]): PlannedShard => ({
  index,
  sections: [`tests/functional/g${index}`],
  tests: chunks.flat().length,
  cost: chunks.length,
  runfileKey: `runs/r/f/${index}/runfile`,
  chunks: chunks.map((ids, c) => ({ index: c, testIds: ids.map((t) => `functional/g${index}/${t}`), cost: ids.length * 10 })),
});

describe('dynamic dispatch of a plan', () => {
  it('turns every chunk of every shard into one work item that names its shard and chunk', () => {
    const items = chunkItems('debian13', [shard(1, [['a', 'b'], ['c']]), shard(2, [['d']])]);
    expect(items.map((i) => [i.id, i.target, i.testIds.length, i.cost])).toEqual([
      ['s1c0', 'debian13', 2, 20],
      ['s1c1', 'debian13', 1, 10],
      ['s2c0', 'debian13', 1, 10],
    ]);
    expect(chunkOfItem(chunkItemId(12, 3))).toEqual({ shard: 12, chunk: 3 });
    expect(() => chunkOfItem('debian13:g1')).toThrow(/not a chunk item id/);
  });

  it('opens a slot per VM slot of each host, or the target host with one per shard; one per host for native', () => {
    expect(
      dispatchSlots(
        'debian13',
        [
          { hostId: 'a', slots: 2 },
          { hostId: 'b', slots: 1, speed: 0.05 },
          { hostId: 'a', slots: 5 },
        ],
        { hostId: 'a', shards: 3 },
        true,
      ),
    ).toEqual([
      { slotId: 'a/1', hostId: 'a', targets: ['debian13'] },
      { slotId: 'a/2', hostId: 'a', targets: ['debian13'] },
      { slotId: 'b/1', hostId: 'b', targets: ['debian13'], speed: 0.05 },
    ]);
    expect(dispatchSlots('debian13', [], { hostId: 'lab', shards: 3 }, true).map((s) => s.slotId)).toEqual(['lab/1', 'lab/2', 'lab/3']);
    expect(dispatchSlots('native', [{ hostId: 'a', slots: 4 }], { hostId: 'a', shards: 4 }, false).map((s) => s.slotId)).toEqual(['a/1']);
  });
});
