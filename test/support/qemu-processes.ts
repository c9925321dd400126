import { readdirSync, readFileSync } from 'node:fs';

/** Live qemu processes whose command line names a path under `root` (a test's clone root): what a test must not leave behind. */
export function qemuUnder(root: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes('qemu-system') && cmd.includes(root)) found.push(`${pid} ${cmd.slice(0, 200)}`);
    } catch {
      // gone while we looked
    }
  }
  return found;
}
