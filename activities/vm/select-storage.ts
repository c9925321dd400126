import type { Config } from '../../lib/config.js';
import { ConfigError } from '../../lib/errors.js';
import { runCommand } from '../../lib/exec/run-command.js';
import { Qcow2Storage } from './qcow2-storage.js';
import type { Storage } from './storage.js';
import { ZfsStorage, type Runner } from './zfs-storage.js';

/** The config keys that choose the clone storage backend. */
export type StorageChoice = Pick<Config['host'], 'storage' | 'zfsDataset'>;

/**
 * The storage backend the config chooses: the one place a `Storage` is constructed for production
 * code (host worker, VM activities, ZTS VM targets, golden verification). No I/O; `openStorage`
 * also checks that a ZFS dataset exists.
 */
export function createStorage(choice: StorageChoice = { storage: 'qcow2' }, run?: Runner): Storage {
  if (choice.storage === 'qcow2') return new Qcow2Storage();
  if (!choice.zfsDataset)
    throw new ConfigError('host config', [{ key: 'host.zfsDataset', value: undefined, expected: 'a ZFS dataset (e.g. tank/zfslab): host.storage is zfs' }]);
  return run ? new ZfsStorage(choice.zfsDataset, run) : new ZfsStorage(choice.zfsDataset);
}

/** createStorage, then for ZFS: the dataset must already exist (zfslab never creates a pool's top dataset). */
export async function openStorage(choice: StorageChoice, run: Runner = (c, a) => runCommand(c, a)): Promise<Storage> {
  const storage = createStorage(choice, run);
  if (choice.storage === 'zfs') {
    try {
      await run('zfs', ['list', '-H', '-o', 'name', choice.zfsDataset!]);
    } catch (err) {
      throw new ConfigError('host config', [
        {
          key: 'host.zfsDataset',
          value: choice.zfsDataset,
          expected: `an existing ZFS dataset (zfs list: ${((err as Error).message.split('\n')[0] ?? '').slice(0, 200)})`,
        },
      ]);
    }
  }
  return storage;
}
