import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunnerProcessExit, RunnerTarget, RunningRunner, SpawnRunnerOptions } from './runner-target.js';

/**
 * Runs test-runner.py on this host, for the native target. The runner leads a new process group
 * (`detached`), but that is not enough to stop it: every test runs under `sudo -E -u <user>`, and with
 * Debian's `Defaults use_pty` sudo puts the test in a session of its own on a pty, out of the group's
 * reach; and sudo cannot relay a SIGKILL. So kill() walks the whole process tree (via /proc) and
 * signals every descendant: TERM first (sudo relays it, scripts may clean up), KILL after a grace.
 */
export class LocalRunnerTarget implements RunnerTarget {
  constructor(private readonly options: { killGraceMs?: number } = {}) {}

  async writeFile(path: string, content: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }

  async listDir(path: string): Promise<string[]> {
    try {
      return await readdir(path);
    } catch {
      return [];
    }
  }

  spawnRunner(argv: readonly string[], options: SpawnRunnerOptions): RunningRunner {
    const [command, ...args] = argv;
    if (!command) throw new Error('spawnRunner: empty argv');
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exit = new Promise<RunnerProcessExit>((resolve) => {
      child.once('error', (err) => resolve({ code: null, signal: null, spawnError: err.message }));
      // 'close' waits for stdout/stderr to end too, so nothing printed is lost.
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    const graceMs = this.options.killGraceMs ?? 5_000;
    let killing: Promise<void> | undefined;
    const kill = (): Promise<void> => {
      killing ??= killTree(child.pid, exit, graceMs);
      return killing;
    };
    return { stdout: child.stdout, stderr: child.stderr, exit, kill };
  }
}

async function killTree(pid: number | undefined, exit: Promise<RunnerProcessExit>, graceMs: number): Promise<void> {
  if (pid === undefined) return;
  // Remember the tree (with each process's start time, so a recycled pid is never signalled) before
  // signalling: once the runner dies its children are reparented and no longer found below it.
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
  signalAll(leaderAlive() ? pid : undefined, alive(), 'SIGTERM');
  const termDeadline = Date.now() + graceMs;
  while (Date.now() < termDeadline && alive().length > 0) {
    collect();
    await sleep(50);
  }
  collect();
  signalAll(leaderAlive() ? pid : undefined, alive(), 'SIGKILL');
  // A process stuck in the kernel (D state) cannot die; do not wait for it forever.
  const killDeadline = Date.now() + 10_000;
  while (Date.now() < killDeadline && alive().length > 0) await sleep(20);
  await exit;
}

function signalAll(leader: number | undefined, pids: readonly number[], signal: NodeJS.Signals): void {
  try {
    if (leader !== undefined) process.kill(-leader, signal);
  } catch {
    // the group is gone already
  }
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
