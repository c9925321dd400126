import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * A process named so that a reused pid is never mistaken for it: its pid and the kernel's start time
 * of that pid (field 22 of /proc/<pid>/stat, clock ticks since boot).
 */
export const ProcessIdentitySchema = z.object({
  pid: z.number().int().positive(),
  startTicks: z.number().int().nonnegative(),
});
export type ProcessIdentity = z.infer<typeof ProcessIdentitySchema>;

export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

export function currentProcessIdentity(): ProcessIdentity | undefined {
  const startTicks = processStartTicks(process.pid);
  return startTicks === undefined ? undefined : { pid: process.pid, startTicks };
}

/** The process is alive and is the same process (pid not reused). */
export function isProcessAlive(identity: ProcessIdentity): boolean {
  return processStartTicks(identity.pid) === identity.startTicks;
}
