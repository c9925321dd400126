import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './exec.js';

export interface SmokeStep {
  name: string;
  passed: boolean;
  detail: string;
}

export interface SmokeResult {
  passed: boolean;
  steps: SmokeStep[];
}

/**
 * A native host's health-check smoke test, the equivalent of booting a clone: the image dir takes a
 * write that reads back the same after fdatasync, the executor runs a command and, where ZFS is loaded
 * (`/sys/module/zfs`) and we are root, a throwaway file-backed pool is created, written and destroyed.
 */
export async function nativeSmokeTest(deps: { hostId: string; imageDir: string }): Promise<SmokeResult> {
  const steps: SmokeStep[] = [];
  const dir = join(deps.imageDir, '.zfslab-smoke');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `write-${process.pid}-${Date.now()}.bin`);
  try {
    const block = randomBytes(1 << 20);
    await writeFile(file, block, { flush: true });
    const back = await readFile(file);
    steps.push({
      name: 'image dir write',
      passed: back.equals(block),
      detail: back.equals(block) ? `1 MiB written and read back under ${deps.imageDir}` : 'read back differs',
    });
  } catch (err) {
    steps.push({ name: 'image dir write', passed: false, detail: (err as Error).message });
  } finally {
    await rm(file, { force: true });
  }
  const echo = await run('sh', ['-c', 'echo zfslab-smoke-ok']);
  steps.push({
    name: 'executor',
    passed: echo.ok && echo.stdout.includes('zfslab-smoke-ok'),
    detail: echo.ok ? 'ran sh -c echo' : echo.stderr.trim() || `exit ${echo.code}`,
  });
  if (existsSync('/sys/module/zfs') && process.getuid?.() === 0) steps.push(await filePoolStep(dir, deps.hostId));
  await rm(dir, { recursive: true, force: true });
  return { passed: steps.every((s) => s.passed), steps };
}

async function filePoolStep(dir: string, hostId: string): Promise<SmokeStep> {
  const pool = `zfslab-smoke-${hostId}`.slice(0, 60);
  const vdev = join(dir, 'vdev.img');
  const create = await run('truncate', ['-s', '128M', vdev]);
  if (!create.ok) return { name: 'file-backed pool', passed: false, detail: create.stderr.trim() };
  const made = await run('zpool', ['create', '-f', '-m', join(dir, 'mnt'), pool, vdev], { timeoutMs: 60_000 });
  if (!made.ok) return { name: 'file-backed pool', passed: false, detail: `zpool create: ${made.stderr.trim()}` };
  try {
    const wrote = await run('sh', ['-c', `dd if=/dev/urandom of=${join(dir, 'mnt', 'f')} bs=1M count=8 status=none && sync`], { timeoutMs: 60_000 });
    const scrub = await run('zpool', ['scrub', '-w', pool], { timeoutMs: 120_000 });
    const status = await run('zpool', ['status', '-x', pool]);
    const healthy = wrote.ok && scrub.ok && /is healthy/.test(status.stdout);
    return {
      name: 'file-backed pool',
      passed: healthy,
      detail: healthy ? `${pool}: created, written, scrubbed, healthy` : status.stdout.trim() || scrub.stderr.trim() || wrote.stderr.trim(),
    };
  } finally {
    await run('zpool', ['destroy', '-f', pool], { timeoutMs: 60_000 });
  }
}
