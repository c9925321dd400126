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
import { loadGoldenManifest } from './golden-ref.js';
import type { Hypervisor, VmHandle, VmStartSpec } from './hypervisor.js';
import { claimSavedState, findSavedState, qemuVersion, savedStateKey, type SavedState, type SavedStateSpec } from './saved-state.js';
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
  /**
   * Restore the golden's saved running machine instead of booting (making the saved state with a
   * cold boot first when none fits). Falls back to a cold boot, logged, when a restore fails.
   * Off by default: the golden build's verify step must really boot.
   */
  instant?: boolean;
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
  /** Restored from the golden's saved state, or booted cold (and why). */
  start: { kind: 'restored'; savedState: string } | { kind: 'cold'; reason: string };
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
    const goldenDisk = { name: options.golden.name, path: join(options.golden.dir, options.golden.boot.disk), format: options.golden.boot.diskFormat };
    const saved = await usableSavedState(options, log);
    let disk = await options.storage.createClone('dir' in saved ? { name: options.golden.name, path: saved.disk, format: 'qcow2' } : goldenDisk, label, dir);
    const vdevs: { path: string; format: 'raw' }[] = [];
    for (let i = 0; i < options.vdevCount; i++) {
      const path = join(dir, `vdev${i}.raw`);
      await runCommand('truncate', ['-s', `${options.vdevSizeGiB}G`, path]);
      vdevs.push({ path, format: 'raw' as const });
    }
    move('cloned');
    throwIfAborted(options.signal);
    move('booting', { attempt });
    const started = performance.now();
    const machine = (rootDisk: typeof disk, incomingStateFile?: string) =>
      vmSpec(options, { name: `zfslab-${cloneId}`, rootDisk, vdevs, serialLogPath, qmpSocketPath, pidFilePath, incomingStateFile });
    let start: ReadyVm['start'];
    let vm: VmHandle;
    if ('dir' in saved) {
      try {
        vm = await options.hypervisor.start(await machine(disk, saved.memory));
        start = { kind: 'restored', savedState: saved.dir };
      } catch (err) {
        log.warn({ err, savedState: saved.dir }, 'the saved state did not load: booting this clone cold');
        await options.storage.destroyClone(label, dir);
        disk = await options.storage.createClone(goldenDisk, label, dir);
        vm = await options.hypervisor.start(await machine(disk));
        start = { kind: 'cold', reason: `restore failed: ${(err as Error).message}` };
      }
    } else {
      vm = await options.hypervisor.start(await machine(disk));
      start = { kind: 'cold', reason: saved.missing };
    }
    ssh = await waitForSsh(options, vm, log);
    if (start.kind === 'restored') await makeItsOwn(ssh, cloneId);
    const bootSeconds = Math.round((performance.now() - started) / 100) / 10;
    move('ready', { bootSeconds, sshPort: vm.sshHostPort, start: start.kind });
    log.info({ bootSeconds, accel: vm.accel, attempt, start }, start.kind === 'restored' ? 'clone restored' : 'clone booted');
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
        start,
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

interface MachinePaths {
  name: string;
  rootDisk: { path: string; format: 'qcow2' | 'raw' };
  vdevs: readonly { path: string; format: 'raw' }[];
  serialLogPath: string;
  qmpSocketPath: string;
  pidFilePath: string;
  incomingStateFile?: string | undefined;
}

/** One clone's machine: the same devices whether it boots or resumes a saved state (only paths and ports differ). */
async function vmSpec(options: CloneOptions, paths: MachinePaths): Promise<VmStartSpec> {
  const boot = options.golden.boot;
  return {
    name: paths.name,
    cpus: options.cpus,
    memoryMiB: options.memoryMiB,
    disks: [{ path: paths.rootDisk.path, format: paths.rootDisk.format }, ...paths.vdevs],
    kernel: boot.kernel
      ? {
          path: join(options.golden.dir, boot.kernel),
          initrd: boot.initrd ? join(options.golden.dir, boot.initrd) : undefined,
          append: boot.kernelCmdline ?? 'root=/dev/vda rw console=ttyS0',
        }
      : undefined,
    sshHostPort: await freeLocalPort(),
    serialLogPath: paths.serialLogPath,
    qmpSocketPath: paths.qmpSocketPath,
    pidFilePath: paths.pidFilePath,
    ...(paths.incomingStateFile === undefined ? {} : { incomingStateFile: paths.incomingStateFile }),
  };
}

/**
 * What two clones restored from one saved state must not share: the wall clock (the saved one is
 * minutes old), the hostname (resolvable, in /etc/hosts), the ZFS hostid, and the kernel RNG (vmgenid reseeds it on restore; fresh host
 * entropy is mixed in as well).
 */
async function makeItsOwn(ssh: SshExecutor, cloneId: string): Promise<void> {
  const entropy = randomBytes(64).toString('base64');
  const script = [
    `date -u -s @${(Date.now() / 1000).toFixed(3)} >/dev/null`,
    `hostname zfslab-${cloneId}`,
    `echo zfslab-${cloneId} > /etc/hostname`,
    // Its name must resolve, or every sudo in the tests warns `unable to resolve host` on stderr.
    `sed -i '/^127\\.0\\.1\\.1[[:space:]]/d' /etc/hosts`,
    `echo '127.0.1.1 zfslab-${cloneId}' >> /etc/hosts`,
    // Its own ZFS hostid (pools record it; multihost compares it), where the tool exists.
    '{ ! command -v zgenhostid >/dev/null || zgenhostid -f; }',
    `echo ${entropy} | base64 -d > /dev/urandom`,
  ].join(' && ');
  const r = await ssh.exec(['sudo', '-n', 'sh', '-c', script], { timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new InfraError(`could not make the restored clone its own: ${r.stderr.slice(-300)}`);
}

function savedStateSpec(options: CloneOptions): SavedStateSpec {
  return { accel: options.hypervisor.accel, cpus: options.cpus, memoryMiB: options.memoryMiB, vdevCount: options.vdevCount, vdevSizeGiB: options.vdevSizeGiB };
}

/** The saved state a clone restores, made now by one cold boot when none fits; or why it boots cold. */
async function usableSavedState(options: CloneOptions, log: Logger): Promise<SavedState | { missing: string }> {
  if (options.instant !== true) return { missing: 'instant clones are off' };
  if (options.storage.kind !== 'qcow2') return { missing: `instant clones need qcow2 storage (this host clones on ${options.storage.kind})` };
  const found = await findSavedState(options.golden, savedStateSpec(options));
  if ('dir' in found) return found;
  log.info({ why: found.missing }, 'no saved state fits: saving one with a cold boot, for this clone and the next');
  return (await saveGoldenState(options, log)) ?? found;
}

/**
 * Boots the golden cold once, waits until it is settled and reachable, and saves that running
 * machine with the disk state it belongs to. `undefined` when another process is saving it or the
 * save failed (logged): the clone then boots cold.
 */
export async function saveGoldenState(options: CloneOptions, log: Logger): Promise<SavedState | undefined> {
  const spec = savedStateSpec(options);
  const key = savedStateKey(options.golden, spec, await qemuVersion());
  const claim = await claimSavedState(options.golden, key, async (partialDir) => {
    await options.hypervisor.kill({ pidFilePath: join(partialDir, 'qemu.pid'), qmpSocketPath: join(partialDir, 'qmp.sock') });
  });
  if (!claim) return undefined;
  const dir = claim.partialDir;
  const ref = { pidFilePath: join(dir, 'qemu.pid'), qmpSocketPath: join(dir, 'qmp.sock') };
  try {
    const disk = join(dir, 'disk.qcow2');
    const golden = options.golden;
    await runCommand('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', join(golden.dir, golden.boot.disk), '-F', golden.boot.diskFormat, disk]);
    const vdevs: { path: string; format: 'raw' }[] = [];
    for (let i = 0; i < options.vdevCount; i++) {
      const path = join(dir, `vdev${i}.raw`);
      await runCommand('truncate', ['-s', `${options.vdevSizeGiB}G`, path]);
      vdevs.push({ path, format: 'raw' as const });
    }
    const started = performance.now();
    const vm = await options.hypervisor.start(
      await vmSpec(options, { name: `zfslab-save-${key}`, rootDisk: { path: disk, format: 'qcow2' }, vdevs, serialLogPath: join(dir, 'serial.log'), ...ref }),
    );
    const ssh = await waitForSsh(options, vm, log);
    try {
      // Settled: boot jobs done, nothing half-written in the page cache.
      await ssh.exec('timeout 300 systemctl is-system-running --wait; sync', { timeoutMs: 330_000 });
    } finally {
      ssh.close();
    }
    const coldBootSeconds = (performance.now() - started) / 1000;
    const memory = join(dir, 'memory.state');
    const saved = await options.hypervisor.saveState(vm, memory);
    await options.hypervisor.kill(vm);
    for (const vdev of vdevs) rmSync(vdev.path, { force: true });
    claim.finish({
      key,
      golden: golden.name,
      goldenBuiltAt: loadGoldenManifest(golden.dir).builtAt,
      qemuVersion: await qemuVersion(),
      spec,
      savedAt: new Date().toISOString(),
      coldBootSeconds: Math.round(coldBootSeconds * 10) / 10,
      saveSeconds: Math.round(saved.seconds * 10) / 10,
      memoryBytes: saved.bytes,
    });
    log.info({ key, coldBootSeconds, saveSeconds: saved.seconds, bytes: saved.bytes }, "saved the golden's running machine");
    const found = await findSavedState(golden, spec);
    return 'dir' in found ? found : undefined;
  } catch (err) {
    log.warn({ err }, "could not save the golden's running machine; clones boot cold");
    await options.hypervisor.kill(ref).catch(() => undefined);
    claim.abandon();
    return undefined;
  }
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
