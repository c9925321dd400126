import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand, type RunResult } from '../../lib/exec/run-command.js';
import { writeCloneLabel } from './qcow2-storage.js';
import type { CloneDisk, CloneLabel, GoldenDisk, Storage } from './storage.js';

/** Runs a host command; injectable so the backend's zfs argv is unit-tested on hosts without ZFS. */
export type Runner = (command: string, args: readonly string[]) => Promise<RunResult>;

export const RUN_PROPERTY = 'zfslab:run';
export const CLONE_PROPERTY = 'zfslab:clone';
export const GOLDEN_PROPERTY = 'zfslab:golden';

/**
 * ZFS zvols, as on a kldload host: each golden is imported once into `<root>/goldens/<name>` and
 * snapshotted `@golden`; a clone is `zfs clone` of that snapshot under `<root>/clones/<cloneId>`,
 * labelled with the run id as a user property; destroy is `zfs destroy`.
 */
export class ZfsStorage implements Storage {
  readonly kind = 'zfs' as const;

  constructor(
    /** The dataset under which zfslab keeps its zvols, e.g. `tank/zfslab`. */
    private readonly root: string,
    private readonly run: Runner = (c, a) => runCommand(c, a),
    private readonly devDir = '/dev/zvol',
  ) {}

  goldenDataset(goldenName: string): string {
    return `${this.root}/goldens/${goldenName}`;
  }

  cloneDataset(cloneId: string): string {
    return `${this.root}/clones/${cloneId}`;
  }

  private async exists(dataset: string): Promise<boolean> {
    try {
      await this.run('zfs', ['list', '-H', '-o', 'name', dataset]);
      return true;
    } catch {
      return false;
    }
  }

  /** Imports the golden image into a zvol and snapshots it, once per golden (goldens are immutable). */
  async ensureGolden(golden: GoldenDisk): Promise<string> {
    const dataset = this.goldenDataset(golden.name);
    const snapshot = `${dataset}@golden`;
    if (await this.exists(snapshot)) return snapshot;
    if (await this.exists(dataset)) await this.run('zfs', ['destroy', '-r', dataset]);
    const info = await this.run('qemu-img', ['info', '--output=json', golden.path]);
    const virtualSize = (JSON.parse(info.stdout) as { 'virtual-size': number })['virtual-size'];
    await this.run('zfs', ['create', '-p', '-s', '-V', String(virtualSize), '-o', 'volmode=dev', '-o', `${GOLDEN_PROPERTY}=${golden.name}`, dataset]);
    await this.run('udevadm', ['settle']);
    await this.run('qemu-img', ['convert', '-n', '-f', golden.format, '-O', 'raw', golden.path, `${this.devDir}/${dataset}`]);
    await this.run('zfs', ['snapshot', snapshot]);
    return snapshot;
  }

  async createClone(golden: GoldenDisk, label: CloneLabel, cloneDir: string): Promise<CloneDisk> {
    writeCloneLabel(cloneDir, label);
    const snapshot = await this.ensureGolden(golden);
    const dataset = this.cloneDataset(label.cloneId);
    await this.run('zfs', ['clone', '-p', '-o', `${RUN_PROPERTY}=${label.runId}`, '-o', `${CLONE_PROPERTY}=${label.cloneId}`, snapshot, dataset]);
    await this.run('udevadm', ['settle']);
    return { label, path: `${this.devDir}/${dataset}`, format: 'raw' };
  }

  async destroyClone(label: CloneLabel, cloneDir: string): Promise<void> {
    const dataset = this.cloneDataset(label.cloneId);
    if (await this.exists(dataset)) await this.run('zfs', ['destroy', '-r', dataset]);
    if (existsSync(join(cloneDir, 'zvol'))) rmSync(join(cloneDir, 'zvol'), { force: true });
  }

  async listClones(): Promise<CloneLabel[]> {
    let out: RunResult;
    try {
      out = await this.run('zfs', ['list', '-H', '-p', '-t', 'volume', '-o', `name,${RUN_PROPERTY},${CLONE_PROPERTY},creation`, '-r', `${this.root}/clones`]);
    } catch {
      return [];
    }
    return out.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [name = '', runId = '-', cloneId = '-', creation = '0'] = line.split('\t');
        return {
          cloneId: cloneId !== '-' ? cloneId : name.split('/').pop()!,
          runId: runId === '-' ? '' : runId,
          golden: '',
          createdAt: new Date(Number(creation) * 1000).toISOString(),
        };
      });
  }
}
