import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Processes an earlier attempt of a chunk left behind on this host (its worker was killed): found by
 * the marker variable every runner process inherits (through `sudo -E` too), so nothing else is ever
 * touched. A retry kills them before it starts the remaining tests.
 */
export function processesWithMarker(name: string, valuePrefix: string): { pid: number; value: string }[] {
  const wanted = `${name}=`;
  const found: { pid: number; value: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${entry}/environ`, 'utf8');
    } catch {
      continue;
    }
    const variable = environ.split('\0').find((v) => v.startsWith(wanted));
    if (variable === undefined) continue;
    const value = variable.slice(wanted.length);
    if (value.startsWith(valuePrefix) && !isZombie(Number(entry))) found.push({ pid: Number(entry), value });
  }
  return found;
}

/** SIGKILLs every process whose marker starts with `valuePrefix`; returns how many there were. */
export async function killMarked(name: string, valuePrefix: string, timeoutMs = 10_000): Promise<number> {
  const victims = processesWithMarker(name, valuePrefix);
  for (const { pid } of victims) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (processesWithMarker(name, valuePrefix).length > 0 && Date.now() < deadline) await sleep(50);
  return victims.length;
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}
