import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findGuestCrash, guestDiskNames } from '../../core/vm/qemu-argv.js';
import { transition, type VmState } from '../../core/vm/lifecycle.js';
import { bootTimeoutMs } from '../../core/vm/timeouts.js';
import { InfraError } from '../../lib/errors.js';
import { createLogger, type Logger } from '../../lib/log.js';
import { currentProcessIdentity } from '../../lib/process-identity.js';
import type { HostCapacity } from './capacity.js';
import type { GoldenRef } from './golden-ref.js';
import type { Hypervisor, VmHandle } from './hypervisor.js';
import { freeLocalPort } from './qemu-hypervisor.js';
import { runCommand } from '../../lib/exec/run-command.js';
import { HostKeyMismatch, SshExecutor } from '../../lib/exec/ssh-executor.js';
import type { CloneLabel, Storage } from './storage.js';

/** The guest kernel died (panic/Oops on the serial console): an infrastructure failure. */
export class GuestCrash extends InfraError {
  override name = 'GuestCrash';
  constructor(
    readonly consoleLine: string,
    readonly serialLogPath: string,
  ) {
    super(`guest kernel crashed: ${consoleLine}`);
  }
}

export interface CloneOptions {
  /** Labels the clone and its VM; the sweeper destroys clones of closed or unknown runs. */
  runId: string;
  golden: GoldenRef;
  storage: Storage;
  hypervisor: Hypervisor;
  /** One dir per clone below this: label, overlay, vdevs, pid file, QMP socket, serial log. */
  cloneRoot: string;
  cpus: number;
  memoryMiB: number;
  vdevCount: number;
  vdevSizeGiB: number;
  /** Default: 600 s under TCG, 180 s under KVM. */
  bootTimeoutMs?: number;
  /** Boot attempts when the guest crashes during boot (a known MTTCG race); default 2. */
  bootAttempts?: number;
  /** The serial log is copied here when the clone is destroyed (kept with the run's artifacts). */
  artifactsDir?: string;
  capacity?: HostCapacity;
  signal?: AbortSignal;
  log?: Logger;
  onState?: (state: VmState, detail: Record<string, unknown>) => void;
}

/** A booted clone reachable over SSH as the golden's test user. */
export interface ReadyVm {
  cloneId: string;
  runId: string;
  dir: string;
  vm: VmHandle;
  ssh: SshExecutor;
  /** zfs-tests.sh DISKS: the extra virtio disks' guest names (vdb vdc vdd …). */
  disks: string[];
  serialLogPath: string;
  bootSeconds: number;
  /** How many boots this clone took (2 when the first crashed). */
  bootAttempts: number;
}

function newCloneId(): string {
  return `c-${randomBytes(5).toString('hex')}`;
}

/**
 * clone → boot → wait for SSH → body → destroy. The clone and VM are destroyed on every path:
 * success, body failure, boot failure, timeout, cancellation. A guest crash during boot destroys
 * that clone and boots a fresh one (bootAttempts).
 */
export async function withClone<T>(options: CloneOptions, body: (vm: ReadyVm) => Promise<T>): Promise<T> {
  const log = (options.log ?? createLogger('vm')).child({ runId: options.runId, golden: options.golden.name });
  const release = options.capacity ? await options.capacity.acquire(options.memoryMiB, options.signal) : () => undefined;
  try {
    const attempts = options.bootAttempts ?? 2;
    for (let attempt = 1; ; attempt++) {
      const outcome = await oneClone(options, log, attempt, body);
      if (outcome.kind === 'done') return outcome.value;
      if (attempt >= attempts) throw outcome.error;
      log.warn({ err: outcome.error, attempt }, 'guest crashed during boot; destroying the clone and booting a fresh one');
    }
  } finally {
    release();
  }
}

type CloneOutcome<T> = { kind: 'done'; value: T } | { kind: 'boot-crash'; error: GuestCrash };

async function oneClone<T>(options: CloneOptions, parentLog: Logger, attempt: number, body: (vm: ReadyVm) => Promise<T>): Promise<CloneOutcome<T>> {
  const cloneId = newCloneId();
  const log = parentLog.child({ cloneId });
  const dir = join(options.cloneRoot, cloneId);
  const owner = currentProcessIdentity();
  const label: CloneLabel = { cloneId, runId: options.runId, golden: options.golden.name, createdAt: new Date().toISOString(), ...(owner ? { owner } : {}) };
  const serialLogPath = join(dir, 'serial.log');
  const pidFilePath = join(dir, 'qemu.pid');
  const qmpSocketPath = join(dir, 'qmp.sock');
  let state = 'planned' as VmState;
  const move = (to: VmState, detail: Record<string, unknown> = {}): void => {
    state = transition(state, to);
    options.onState?.(state, { cloneId, ...detail });
    log.debug({ state, ...detail }, 'vm state');
  };
  let ssh: SshExecutor | undefined;
  try {
    move('cloning');
    mkdirSync(dir, { recursive: true });
    const disk = await options.storage.createClone(
      { name: options.golden.name, path: join(options.golden.dir, options.golden.boot.disk), format: options.golden.boot.diskFormat },
      label,
      dir,
    );
    const vdevs = [];
    for (let i = 0; i < options.vdevCount; i++) {
      const path = join(dir, `vdev${i}.raw`);
      await runCommand('truncate', ['-s', `${options.vdevSizeGiB}G`, path]);
      vdevs.push({ path, format: 'raw' as const });
    }
    move('cloned');
    throwIfAborted(options.signal);
    move('booting', { attempt });
    const started = performance.now();
    const boot = options.golden.boot;
    const vm = await options.hypervisor.start({
      name: `zfslab-${cloneId}`,
      cpus: options.cpus,
      memoryMiB: options.memoryMiB,
      disks: [{ path: disk.path, format: disk.format }, ...vdevs],
      kernel: boot.kernel
        ? {
            path: join(options.golden.dir, boot.kernel),
            initrd: boot.initrd ? join(options.golden.dir, boot.initrd) : undefined,
            append: boot.kernelCmdline ?? 'root=/dev/vda rw console=ttyS0',
          }
        : undefined,
      sshHostPort: await freeLocalPort(),
      serialLogPath,
      qmpSocketPath,
      pidFilePath,
    });
    ssh = await waitForSsh(options, vm, log);
    const bootSeconds = Math.round((performance.now() - started) / 100) / 10;
    move('ready', { bootSeconds, sshPort: vm.sshHostPort });
    log.info({ bootSeconds, accel: vm.accel, attempt }, 'clone booted');
    move('working');
    try {
      const value = await body({
        cloneId,
        runId: options.runId,
        dir,
        vm,
        ssh,
        disks: guestDiskNames(options.vdevCount),
        serialLogPath,
        bootSeconds,
        bootAttempts: attempt,
      });
      return { kind: 'done', value };
    } catch (err) {
      // A test that died with the guest kernel is the infrastructure's failure, not the test's.
      const crash = existsSync(serialLogPath) ? findGuestCrash(readFileSync(serialLogPath, 'utf8')) : undefined;
      if (crash && !(err instanceof GuestCrash)) throw new GuestCrash(crash, serialLogPath);
      throw err;
    }
  } catch (err) {
    if (state !== 'destroyed' && state !== 'failed') state = transition(state, 'failed');
    if (err instanceof GuestCrash && !ssh) return { kind: 'boot-crash', error: err };
    throw err;
  } finally {
    ssh?.close();
    await destroyClone(options, dir, label, pidFilePath, qmpSocketPath, serialLogPath, log);
    if (state !== 'destroyed') {
      state = transition(state, 'destroying');
      state = transition(state, 'destroyed');
      options.onState?.(state, { cloneId });
    }
  }
}

async function destroyClone(
  options: CloneOptions,
  dir: string,
  label: CloneLabel,
  pidFilePath: string,
  qmpSocketPath: string,
  serialLogPath: string,
  log: Logger,
): Promise<void> {
  try {
    await options.hypervisor.kill({ pidFilePath, qmpSocketPath });
  } catch (err) {
    log.error({ err }, 'could not kill the VM');
  }
  if (options.artifactsDir && existsSync(serialLogPath)) {
    mkdirSync(options.artifactsDir, { recursive: true });
    copyFileSync(serialLogPath, join(options.artifactsDir, `serial-${label.cloneId}.log`));
  }
  try {
    await options.storage.destroyClone(label, dir);
  } catch (err) {
    log.error({ err }, 'could not destroy the clone disk; the sweeper will retry');
    return;
  }
  rmSync(dir, { recursive: true, force: true });
  log.info('clone destroyed');
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new InfraError('cancelled');
}

/** Polls SSH until the guest answers, watching the serial console for a crash and qemu for an exit. */
async function waitForSsh(options: CloneOptions, vm: VmHandle, log: Logger): Promise<SshExecutor> {
  const timeoutMs = bootTimeoutMs(vm.accel, options.bootTimeoutMs);
  const deadline = Date.now() + timeoutMs;
  const privateKey = readFileSync(join(options.golden.dir, options.golden.ssh.privateKeyFile));
  let lastError: unknown;
  while (Date.now() < deadline) {
    throwIfAborted(options.signal);
    const serial = existsSync(vm.serialLogPath) ? readFileSync(vm.serialLogPath, 'utf8') : '';
    const crash = findGuestCrash(serial);
    if (crash) throw new GuestCrash(crash, vm.serialLogPath);
    if (!options.hypervisor.isRunning(vm)) throw new InfraError(`qemu exited during boot; serial log tail: ${serial.slice(-500)}`);
    try {
      return await SshExecutor.connect({
        host: '127.0.0.1',
        port: vm.sshHostPort,
        username: options.golden.ssh.user,
        privateKey,
        hostPublicKey: options.golden.ssh.hostPublicKey,
        readyTimeoutMs: 8_000,
      });
    } catch (err) {
      if (err instanceof HostKeyMismatch) throw err;
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
  log.error({ err: lastError }, 'no SSH before the boot timeout');
  throw new InfraError(`guest did not answer SSH within ${timeoutMs} ms`);
}
