import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { GoldenStepSchema, type GoldenStep } from '../../core/vm/manifest.js';

/**
 * One file per finished step in the build dir. A step is skipped when its checkpoint exists, so a
 * retried activity (worker killed mid-DKMS) resumes at the step that did not finish.
 */
export const CheckpointSchema = z.object({
  step: GoldenStepSchema,
  seconds: z.number().nonnegative(),
  finishedAt: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type Checkpoint = z.infer<typeof CheckpointSchema>;

export function checkpointFile(stepsDir: string, step: GoldenStep): string {
  return join(stepsDir, `${step}.json`);
}

export function readCheckpoint(stepsDir: string, step: GoldenStep): Checkpoint | undefined {
  const file = checkpointFile(stepsDir, step);
  if (!existsSync(file)) return undefined;
  return CheckpointSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

export function writeCheckpoint(stepsDir: string, checkpoint: Checkpoint): void {
  mkdirSync(stepsDir, { recursive: true });
  const file = checkpointFile(stepsDir, checkpoint.step);
  // write-then-rename: a checkpoint is either whole or absent
  writeFileSync(`${file}.tmp`, JSON.stringify(checkpoint, null, 2));
  renameSync(`${file}.tmp`, file);
}
