import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Stopping a command and everything it started. Its process group is not always enough: sudo with
 * `Defaults use_pty` puts the command in a session of its own on a pty, a capture's workload runs under
 * setsid, and sudo cannot relay a SIGKILL. So the tree is walked through /proc (parent pids) and every
 * descendant is signalled as well, each remembered with its start time so a recycled pid is never hit.
 */
export async function killProcessTree(pid: number | undefined, options: { graceMs: number; exited?: Promise<unknown> }): Promise<void> {
  if (pid === undefined) return;
  // Remember the tree before signalling: once the leader dies its children are reparented and no
  // longer found below it.
  const known = new Map<number, number>();
  const collect = (): void => {
    for (const root of [pid, ...known.keys()]) {
      for (const p of [root, ...descendants(root)]) {
        const ticks = startTicks(p);
        if (ticks !== undefined && !known.has(p)) known.set(p, ticks);
      }
    }
  };
  const alive = (): number[] => [...known].filter(([p, ticks]) => startTicks(p) === ticks && !isZombie(p)).map(([p]) => p);
  collect();
  const leaderTicks = known.get(pid);
  const leaderAlive = (): boolean => leaderTicks !== undefined && startTicks(pid) === leaderTicks;
  // The group as a whole too: its members are found even when they are no longer the leader's descendants.
  const group = (): number | undefined => (leaderAlive() || groupExists(pid) ? pid : undefined);
  if (options.graceMs > 0) {
    signalAll(group(), alive(), 'SIGTERM');
    const termDeadline = Date.now() + options.graceMs;
    while (Date.now() < termDeadline && alive().length > 0) {
      collect();
      await sleep(50);
    }
    collect();
  }
  signalAll(group(), alive(), 'SIGKILL');
  // A process stuck in the kernel (D state) cannot die; do not wait for it forever.
  const killDeadline = Date.now() + 10_000;
  while (Date.now() < killDeadline && alive().length > 0) await sleep(20);
  await options.exited;
}

/** SIGKILL to what is left of process group `pgid` (nothing happens when it is empty). */
export function killGroup(pgid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is empty
  }
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalAll(group: number | undefined, pids: readonly number[], signal: NodeJS.Signals): void {
  killGroup(group, signal);
  for (const p of pids) {
    try {
      process.kill(p, signal);
    } catch {
      // exited meanwhile
    }
  }
}

/** Live descendants of `root`, from the parent pids in /proc/<pid>/stat. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const ppid = parentPid(Number(name));
    if (ppid === undefined) continue;
    const list = children.get(ppid);
    if (list) list.push(Number(name));
    else children.set(ppid, [Number(name)]);
  }
  const out: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length > 0) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}

/** Pids of the live (not zombie) members of process group `pgid`. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const fields = statFields(Number(name));
    if (fields && Number(fields[2]) === pgid && fields[0] !== 'Z') out.push(Number(name));
  }
  return out;
}

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) may hold spaces and parentheses: split what follows the last ')' (field 3 on).
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function parentPid(pid: number): number | undefined {
  const ppid = Number(statFields(pid)?.[1]);
  return Number.isFinite(ppid) ? ppid : undefined;
}

/** Field 22: when the process started, in clock ticks since boot. */
function startTicks(pid: number): number | undefined {
  const ticks = Number(statFields(pid)?.[19]);
  return Number.isFinite(ticks) ? ticks : undefined;
}

function isZombie(pid: number): boolean {
  return statFields(pid)?.[0] === 'Z';
}
