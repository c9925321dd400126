import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from '../../lib/exec/run-command.js';
import { CloneLabelSchema, type CloneDisk, type CloneLabel, type GoldenDisk, type Storage } from './storage.js';

export const CLONE_LABEL_FILE = 'label.json';

/** Writes the clone's label into its dir: the run id the sweeper checks. */
export function writeCloneLabel(cloneDir: string, label: CloneLabel): void {
  mkdirSync(cloneDir, { recursive: true });
  writeFileSync(join(cloneDir, CLONE_LABEL_FILE), JSON.stringify(label, null, 2) + '\n');
}

export function readCloneLabel(cloneDir: string): CloneLabel | undefined {
  const file = join(cloneDir, CLONE_LABEL_FILE);
  if (!existsSync(file)) return undefined;
  try {
    return CloneLabelSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

/** qcow2 overlays: `qemu-img create -b golden.qcow2` (instant; the golden is never written). */
export class Qcow2Storage implements Storage {
  readonly kind = 'qcow2' as const;

  async createClone(golden: GoldenDisk, label: CloneLabel, cloneDir: string): Promise<CloneDisk> {
    writeCloneLabel(cloneDir, label);
    const path = join(cloneDir, 'disk.qcow2');
    await runCommand('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', golden.path, '-F', golden.format, path]);
    return { label, path, format: 'qcow2' };
  }

  async destroyClone(_label: CloneLabel, cloneDir: string): Promise<void> {
    rmSync(join(cloneDir, 'disk.qcow2'), { force: true });
  }

  async listClones(cloneRoot: string): Promise<CloneLabel[]> {
    if (!existsSync(cloneRoot)) return [];
    return readdirSync(cloneRoot)
      .filter((d) => existsSync(join(cloneRoot, d, 'disk.qcow2')))
      .map((d) => readCloneLabel(join(cloneRoot, d)) ?? { cloneId: d, runId: '', golden: '', createdAt: '' });
  }
}
