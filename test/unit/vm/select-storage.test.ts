import { describe, expect, it } from 'vitest';
import { Qcow2Storage } from '../../../activities/vm/qcow2-storage.js';
import { createStorage, openStorage } from '../../../activities/vm/select-storage.js';
import { ZfsStorage } from '../../../activities/vm/zfs-storage.js';
import { ConfigError } from '../../../lib/errors.js';
import type { RunResult } from '../../../lib/exec/run-command.js';

/** A `zfs` that knows only the datasets given; records every call. */
function fakeZfs(existing: readonly string[]) {
  const calls: string[] = [];
  const run = async (command: string, args: readonly string[]): Promise<RunResult> => {
    calls.push([command, ...args].join(' '));
    if (command === 'zfs' && args[0] === 'list' && !existing.includes(args.at(-1)!)) throw new Error(`cannot open '${args.at(-1)}': dataset does not exist`);
    return { exitCode: 0, stdout: `${args.at(-1)}\n`, stderr: '' };
  };
  return { calls, run };
}

describe('storage selection (host.storage)', () => {
  it('qcow2 by default and when asked; zfs under the configured dataset', () => {
    expect(createStorage()).toBeInstanceOf(Qcow2Storage);
    expect(createStorage({ storage: 'qcow2' }).kind).toBe('qcow2');
    const zfs = createStorage({ storage: 'zfs', zfsDataset: 'tank/zfslab' });
    expect(zfs).toBeInstanceOf(ZfsStorage);
    expect((zfs as ZfsStorage).cloneDataset('c-1')).toBe('tank/zfslab/clones/c-1');
  });

  it('zfs without a dataset is a ConfigError naming host.zfsDataset', () => {
    expect(() => createStorage({ storage: 'zfs' })).toThrow(ConfigError);
    expect(() => createStorage({ storage: 'zfs' })).toThrow(/host\.zfsDataset/);
  });

  it('openStorage checks that the dataset exists, and names it when it does not', async () => {
    const present = fakeZfs(['tank/zfslab']);
    expect((await openStorage({ storage: 'zfs', zfsDataset: 'tank/zfslab' }, present.run)).kind).toBe('zfs');
    expect(present.calls).toEqual(['zfs list -H -o name tank/zfslab']);

    const absent = fakeZfs([]);
    const err = await openStorage({ storage: 'zfs', zfsDataset: 'tank/nope' }, absent.run).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([{ key: 'host.zfsDataset', value: 'tank/nope', expected: expect.stringContaining('does not exist') }]);
  });

  it('qcow2 needs no host command', async () => {
    const none = fakeZfs([]);
    expect((await openStorage({ storage: 'qcow2' }, none.run)).kind).toBe('qcow2');
    expect(none.calls).toEqual([]);
  });
});
