import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Logger } from '../../lib/log.js';
import { runCommand, type RunOptions, type RunResult } from '../../lib/exec/run-command.js';

/**
 * A build chroot: /proc, /sys, /dev and /dev/pts mounted while packages install, a policy-rc.d so
 * no daemon starts inside. Every mount is undone before the rootfs is imaged or deleted; a retried
 * step first kills processes left inside by a killed worker (apt, dkms, make) and unmounts.
 */

const CHROOT_MOUNTS: readonly { target: string; args: readonly string[] }[] = [
  { target: 'proc', args: ['-t', 'proc', 'proc'] },
  { target: 'sys', args: ['-t', 'sysfs', 'sysfs'] },
  { target: 'dev', args: ['--bind', '/dev'] },
  { target: 'dev/pts', args: ['--bind', '/dev/pts'] },
];

/** Mount points below `dir` (and `dir` itself when includeSelf), deepest first (from /proc/self/mountinfo). */
export function mountsUnder(dir: string, includeSelf = true): string[] {
  const root = resolve(dir);
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\040/g, ' '))
    .filter((p) => (includeSelf && p === root) || p.startsWith(root + '/'));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

export async function unmountAll(dir: string, log: Logger, includeSelf = true): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const points = mountsUnder(dir, includeSelf);
    if (points.length === 0) return;
    for (const point of points) {
      try {
        await runCommand('umount', [point]);
      } catch {
        log.warn({ point }, 'umount failed; lazy unmount');
        await runCommand('umount', ['-l', point]).catch(() => undefined);
      }
    }
  }
  const left = mountsUnder(dir, includeSelf);
  if (left.length > 0) throw new Error(`cannot unmount ${left.join(', ')}`);
}

/** Processes whose root is the chroot (left by a worker that died mid-step). */
export function processesRootedIn(dir: string): number[] {
  const root = resolve(dir);
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/root`) === root) pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/**
 * Kill leftovers, unmount what is mounted inside: the chroot is quiet afterwards. The rootfs itself
 * stays mounted when it is a mount (an image mounted on a loop device).
 */
export async function quiesceChroot(rootfs: string, log: Logger, includeSelf = false): Promise<void> {
  if (!existsSync(rootfs)) return;
  for (let round = 0; round < 10; round++) {
    const pids = processesRootedIn(rootfs);
    if (pids.length === 0) break;
    log.warn({ pids }, 'killing processes left in the build chroot');
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await unmountAll(rootfs, log, includeSelf);
}

/** rm -rf that refuses while anything is mounted below (a bind-mounted /dev would be emptied). */
export async function removeTree(dir: string, log: Logger): Promise<void> {
  if (!existsSync(dir)) return;
  await quiesceChroot(dir, log, true);
  if (mountsUnder(dir).length > 0) throw new Error(`refusing to delete ${dir}: still mounted`);
  // async: deleting a rootfs takes a minute, and a worker's event loop must keep heartbeating and answering queries
  await rm(dir, { recursive: true, force: true });
}

export async function withChroot<T>(rootfs: string, log: Logger, body: (run: ChrootRunner) => Promise<T>): Promise<T> {
  await quiesceChroot(rootfs, log);
  const policy = join(rootfs, 'usr/sbin/policy-rc.d');
  writeFileSync(policy, '#!/bin/sh\n# zfslab build: no daemons start inside the build chroot\nexit 101\n', { mode: 0o755 });
  try {
    for (const m of CHROOT_MOUNTS) {
      const target = join(rootfs, m.target);
      mkdirSync(target, { recursive: true });
      await runCommand('mount', [...m.args, target]);
    }
    const run: ChrootRunner = (script, options = {}) =>
      runCommand('chroot', [rootfs, '/bin/sh', '-ec', script], {
        ...options,
        env: {
          PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
          HOME: '/root',
          LANG: 'C.UTF-8',
          DEBIAN_FRONTEND: 'noninteractive',
          ...options.env,
        },
      });
    return await body(run);
  } finally {
    await quiesceChroot(rootfs, log);
    rmSync(policy, { force: true });
  }
}

export type ChrootRunner = (script: string, options?: RunOptions) => Promise<RunResult>;
