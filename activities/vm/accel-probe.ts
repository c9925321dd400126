import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { Accelerator } from '../../core/vm/qemu-argv.js';
import type { Logger } from '../../lib/log.js';
import { runCommand } from '../../lib/exec/run-command.js';

/**
 * Whether KVM really works is found out by booting, not by looking: on some hosts /dev/kvm opens
 * and KVM_CREATE_VM succeeds, yet the guest stops at its first instructions with "KVM internal
 * error. Suberror: 1 / emulation failure" (seen on this project's build machine). The probe boots
 * a guest kernel with no root disk: it has worked when the kernel reaches "VFS: Unable to mount
 * root fs" and panics (panic=-1 + -no-reboot end qemu).
 */
export const AccelProbeSchema = z.object({
  kvm: z.boolean(),
  chosen: z.enum(['kvm', 'tcg']),
  kvmSeconds: z.number().nullable(),
  tcgSeconds: z.number().nullable(),
  detail: z.string(),
  probedAt: z.string(),
  kernel: z.string(),
});
export type AccelProbe = z.infer<typeof AccelProbeSchema>;

const BOOTED = /Kernel panic - not syncing: VFS: Unable to mount root fs/;

/** Boots `kernelPath` once under `accel`; `ok` when the kernel got as far as its root-fs panic. */
export async function bootOnce(kernelPath: string, accel: Accelerator, timeoutMs: number): Promise<{ ok: boolean; seconds: number; detail: string }> {
  const log = join(tmpdir(), `zfslab-accel-probe-${process.pid}-${accel}.log`);
  rmSync(log, { force: true });
  const started = performance.now();
  let detail = '';
  try {
    const result = await runCommand(
      'qemu-system-x86_64',
      [
        '-machine',
        'q35',
        ...(accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg,thread=multi', '-cpu', 'max']),
        '-m',
        '512',
        '-smp',
        '1',
        '-nodefaults',
        '-no-user-config',
        '-display',
        'none',
        '-no-reboot',
        '-serial',
        `file:${log}`,
        '-kernel',
        kernelPath,
        '-append',
        'console=ttyS0 panic=-1',
      ],
      { timeoutMs },
    );
    detail = result.stderr.trim().split('\n').slice(0, 2).join(' | ');
  } catch (err) {
    detail = (err as Error).message.split('\n')[0] ?? String(err);
  }
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  const serial = existsSync(log) ? readFileSync(log, 'utf8') : '';
  rmSync(log, { force: true });
  return { ok: BOOTED.test(serial), seconds, detail };
}

export function kvmDeviceUsable(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Probes (or reads the cached probe for this kernel). TCG is also timed, so the notes can compare.
 * The cache file lives next to the goldens; delete it to probe again.
 */
export async function probeAccelerator(options: { kernelPath: string; cacheFile?: string; timeoutMs?: number; log?: Logger }): Promise<AccelProbe> {
  if (options.cacheFile && existsSync(options.cacheFile)) {
    const cached = AccelProbeSchema.safeParse(JSON.parse(readFileSync(options.cacheFile, 'utf8')));
    if (cached.success && cached.data.kernel === options.kernelPath) return cached.data;
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  let kvm: { ok: boolean; seconds: number; detail: string } | undefined;
  if (kvmDeviceUsable()) kvm = await bootOnce(options.kernelPath, 'kvm', timeoutMs);
  const tcg = await bootOnce(options.kernelPath, 'tcg', timeoutMs * 3);
  const probe: AccelProbe = {
    kvm: kvm?.ok ?? false,
    chosen: kvm?.ok ? 'kvm' : 'tcg',
    kvmSeconds: kvm ? kvm.seconds : null,
    tcgSeconds: tcg.ok ? tcg.seconds : null,
    detail: kvm ? (kvm.ok ? 'kvm booted' : `kvm did not boot a kernel: ${kvm.detail}`) : '/dev/kvm not usable',
    probedAt: new Date().toISOString(),
    kernel: options.kernelPath,
  };
  options.log?.info(probe, 'accelerator probe');
  if (options.cacheFile) {
    mkdirSync(dirname(options.cacheFile), { recursive: true });
    writeFileSync(options.cacheFile, JSON.stringify(probe, null, 2) + '\n');
  }
  return probe;
}
