import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { QEMU_DEVICE_MODEL_VERSION } from '../../core/vm/qemu-argv.js';
import type { Accelerator } from '../../core/vm/qemu-argv.js';
import { runCommand } from '../../lib/exec/run-command.js';
import type { GoldenRef } from './golden-ref.js';
import { loadGoldenManifest } from './golden-ref.js';

/**
 * A golden's saved running machine: the memory and device state qemu wrote after one cold boot
 * reached SSH, and the disk state it belongs to (a qcow2 overlay on the golden, frozen at that
 * moment). A clone is an overlay on that disk plus a restore of that memory, so it skips the boot.
 *
 * The state only fits a qemu with the same device model: same qemu build, accelerator, CPUs, RAM,
 * disk count and sizes, and argv layout (QEMU_DEVICE_MODEL_VERSION). All of it goes into the key,
 * with the golden's build time, so a rebuilt golden or an upgraded qemu never restores a stale
 * state: it finds none and boots cold.
 */
export interface SavedStateSpec {
  accel: Accelerator;
  cpus: number;
  memoryMiB: number;
  vdevCount: number;
  vdevSizeGiB: number;
}

export const SavedStateMetaSchema = z.object({
  key: z.string(),
  golden: z.string(),
  goldenBuiltAt: z.string(),
  qemuVersion: z.string(),
  spec: z.object({ accel: z.enum(['kvm', 'tcg']), cpus: z.number(), memoryMiB: z.number(), vdevCount: z.number(), vdevSizeGiB: z.number() }),
  savedAt: z.string(),
  coldBootSeconds: z.number(),
  saveSeconds: z.number(),
  memoryBytes: z.number(),
});
export type SavedStateMeta = z.infer<typeof SavedStateMetaSchema>;

export interface SavedState {
  dir: string;
  /** The disk state the memory belongs to (qcow2, backed by the golden's disk). Never written again. */
  disk: string;
  memory: string;
  meta: SavedStateMeta;
}

export const SAVED_STATES_DIR = 'saved-states';

let qemuVersionCache: Promise<string> | undefined;

/** `qemu-system-x86_64 --version`'s first line: a different build may not load the stream. */
export function qemuVersion(binary = 'qemu-system-x86_64'): Promise<string> {
  qemuVersionCache ??= runCommand(binary, ['--version'], { timeoutMs: 30_000 }).then((r) => r.stdout.split('\n')[0]!.trim());
  return qemuVersionCache;
}

export function savedStateKey(golden: GoldenRef, spec: SavedStateSpec, qemu: string): string {
  const material = JSON.stringify({
    golden: golden.name,
    builtAt: loadGoldenManifest(golden.dir).builtAt,
    qemu,
    deviceModel: QEMU_DEVICE_MODEL_VERSION,
    spec: [spec.accel, spec.cpus, spec.memoryMiB, spec.vdevCount, spec.vdevSizeGiB],
  });
  return createHash('sha256').update(material).digest('hex').slice(0, 16);
}

export function savedStateDir(golden: GoldenRef, key: string): string {
  return join(golden.dir, SAVED_STATES_DIR, key);
}

/** The saved state that fits, or why there is none (said in the log when a clone boots cold). */
export async function findSavedState(golden: GoldenRef, spec: SavedStateSpec): Promise<SavedState | { missing: string }> {
  const key = savedStateKey(golden, spec, await qemuVersion());
  const dir = savedStateDir(golden, key);
  const metaFile = join(dir, 'meta.json');
  if (!existsSync(metaFile)) {
    return { missing: `no saved state of ${golden.name} for this qemu and VM size (${spec.cpus} CPUs, ${spec.memoryMiB} MiB, ${spec.vdevCount} vdevs)` };
  }
  const parsed = SavedStateMetaSchema.safeParse(JSON.parse(readFileSync(metaFile, 'utf8')));
  if (!parsed.success) return { missing: `${metaFile} is not a saved-state record` };
  const state = { dir, disk: join(dir, 'disk.qcow2'), memory: join(dir, 'memory.state'), meta: parsed.data };
  for (const file of [state.disk, state.memory]) if (!existsSync(file)) return { missing: `${file} is gone` };
  if (statSync(state.memory).size !== parsed.data.memoryBytes) return { missing: `${state.memory} is not the size it was saved at` };
  return state;
}

/**
 * Where a new saved state is assembled, and the lock that keeps a second process from doing the
 * same at once: `undefined` when another holds it (that clone then just boots cold). A lock older
 * than `staleMs` was left by a process that died.
 */
export async function claimSavedState(
  golden: GoldenRef,
  key: string,
  killLeftover: (partialDir: string) => Promise<void>,
  staleMs = 30 * 60_000,
): Promise<{ partialDir: string; finish(meta: SavedStateMeta): void; abandon(): void } | undefined> {
  const dir = savedStateDir(golden, key);
  mkdirSync(join(golden.dir, SAVED_STATES_DIR), { recursive: true });
  const lock = `${dir}.lock`;
  try {
    mkdirSync(lock);
  } catch {
    if (Date.now() - statSync(lock).mtimeMs < staleMs) return undefined;
    rmSync(lock, { recursive: true, force: true });
    mkdirSync(lock);
  }
  const partialDir = `${dir}.partial`;
  // A process that died while saving may have left its qemu running on these files.
  if (existsSync(partialDir)) await killLeftover(partialDir);
  rmSync(partialDir, { recursive: true, force: true });
  mkdirSync(partialDir, { recursive: true });
  return {
    partialDir,
    finish(meta) {
      writeFileSync(join(partialDir, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
      rmSync(dir, { recursive: true, force: true });
      renameSync(partialDir, dir);
      rmSync(lock, { recursive: true, force: true });
    },
    abandon() {
      rmSync(partialDir, { recursive: true, force: true });
      rmSync(lock, { recursive: true, force: true });
    },
  };
}
