import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { z } from 'zod';
import type { Catalog, Flavor } from '../../core/catalog/index.js';
import { zfsNumericVersion } from '../../core/vm/manifest.js';
import { readGuestSuite, readSidecar, SUITE_DIR, suiteFilesDir, suiteSidecarDir, writeSidecar } from '../golden/golden-suite.js';
import type { GoldenSuiteLocation, GoldenSuites } from '../zts/resolve.js';
import { GUEST_SUITE } from '../../core/vm/golden-suite.js';
import { GUEST_TRACER_ATTACH_TIMEOUT_SECONDS } from '../../core/vm/timeouts.js';
import { createLogger, type Logger } from '../../lib/log.js';
import { defaultCloneDir, defaultGoldenCacheDir } from '../golden/paths.js';
import type { RunnerInvocation, RunnerProcessExit, RunnerTarget, RunningRunner, SpawnRunnerOptions } from '../zts/runner-target.js';
import { TargetUnavailable, type OpenedTarget, type OpenTargetRequest, type TargetProvider } from '../zts/targets.js';
import { sshCaptureShell } from '../fingerprint/shell.js';
import { HostCapacity } from './capacity.js';
import { loadGoldenManifest, type GoldenRef } from './golden-ref.js';
import { copyTreeFromGuest } from './guest-files.js';
import { guestRunnerPlan, ZTS_SCRIPT } from './guest-runner-command.js';
import { VmSizeSchema, findGolden, type VmSize } from './index.js';
import { withClone, type CloneOptions, type ReadyVm } from './lifecycle.js';
import { createStorage } from './select-storage.js';
import { hypervisorResolver, type Hypervisor } from './hypervisor.js';
import { shellQuote } from '../../core/text/shell-quote.js';
import type { SshExecutor } from '../../lib/exec/ssh-executor.js';
import type { Storage } from './storage.js';

/** The guest's installed suite (Debian's zfs-test package, as every ztest golden has it). */
export const GUEST_RUNNER = GUEST_SUITE.runnerPath;
export const GUEST_TEST_DIR = GUEST_SUITE.testDir;

export interface VmTargetProviderDeps {
  catalog: Catalog;
  /** config host.maxVms (also capped by CPUs and RAM). */
  maxVms: number;
  /** The host's one VM budget, shared with the VM activities; made from maxVms when absent. */
  capacity?: HostCapacity;
  cacheDir?: string;
  cloneRoot?: string;
  storage?: Storage;
  size?: VmSize;
  /** Default: by accelerator (core/vm/timeouts.ts), or config `host.bootTimeoutSeconds`. */
  bootTimeoutMs?: number;
  /** Restore clones from the golden's saved running machine (default false). */
  instantClones?: boolean;
  log?: Logger;
}

/**
 * Opens a chunk attempt's target in a fresh clone of the flavor's ztest golden. `withClone` owns the
 * clone's whole life (clone → boot → SSH → body → destroy on every path); open() runs it with a body
 * that hands the ready VM out and then waits until close() — or the activity's cancellation — lets it
 * return. Before the body returns, the runner's output tree is copied back to the same path on this
 * host (the chunk code uploads it from there) with the serial log beside it. So the clone is destroyed
 * on close, on boot failure and on cancel, and never outlives the activity (a killed worker's clone is
 * the sweeper's: it is labelled with the run id).
 *
 * In the guest the runner goes through zfs-tests.sh as the golden's test user (./guest-runner-command.ts).
 */
export class VmTargetProvider implements TargetProvider, GoldenSuites {
  private readonly log: Logger;
  private readonly cacheDir: string;
  private readonly cloneRoot: string;
  private readonly storage: Storage;
  private readonly capacity: HostCapacity;
  private readonly hypervisorFor: (golden: GoldenRef) => Promise<Hypervisor>;

  constructor(private readonly deps: VmTargetProviderDeps) {
    this.log = deps.log ?? createLogger('vm-target');
    this.cacheDir = deps.cacheDir ?? defaultGoldenCacheDir();
    this.cloneRoot = deps.cloneRoot ?? defaultCloneDir();
    this.storage = deps.storage ?? createStorage();
    this.capacity = deps.capacity ?? new HostCapacity({ maxVms: deps.maxVms });
    this.hypervisorFor = hypervisorResolver(this.cacheDir, this.log);
  }

  async open(request: OpenTargetRequest): Promise<OpenedTarget> {
    const golden = this.goldenOf(request.target);
    const hypervisor = await this.hypervisorFor(golden);
    const size = VmSizeSchema.parse(this.deps.size ?? {});
    const log = this.log.child({ runId: request.runId, target: request.target });

    let handOut!: (vm: ReadyVm) => void;
    const ready = new Promise<ReadyVm>((resolve) => (handOut = resolve));
    let letGo!: () => void;
    const released = new Promise<void>((resolve) => (letGo = resolve));
    // Cancellation ends the clone even when nobody calls close().
    request.signal.addEventListener('abort', () => letGo(), { once: true });
    let target: SshRunnerTarget | undefined;

    const lifetime = withClone(this.cloneOptions({ runId: request.runId, golden, hypervisor, size, signal: request.signal, log }), async (vm) => {
      target = new SshRunnerTarget(vm.ssh, vm.disks, log);
      handOut(vm);
      await released;
      await target.copyBack(vm);
    });
    const vm = await Promise.race([ready, lifetime.then(() => Promise.reject(new Error('the clone ended before it was ready')))]);
    // From here a failure of the clone's life surfaces in close().
    lifetime.catch(() => undefined);
    log.info({ cloneId: vm.cloneId, bootSeconds: vm.bootSeconds, accel: vm.vm.accel }, 'VM target open');
    let closing: Promise<void> | undefined;
    return {
      runner: target!,
      runnerPath: GUEST_RUNNER,
      testDir: GUEST_TEST_DIR,
      python: 'python3',
      env: { [request.marker.name]: request.marker.value },
      // In the guest the runner is zfs-tests.sh (./guest-runner-command.ts): the capture follows its exec, as root over the clone's SSH.
      capture: {
        shell: sshCaptureShell(vm.ssh, { name: `guest ${vm.cloneId}` }),
        followExec: ZTS_SCRIPT,
        attachTimeoutMs: GUEST_TRACER_ATTACH_TIMEOUT_SECONDS * 1000,
      },
      kernelConsole: () => hypervisor.serialLog(vm.vm),
      incidentTarget: { exec: vm.ssh, sudo: true, name: `guest ${vm.cloneId} of ${golden.name}` },
      alive: async (timeoutMs) => hypervisor.isRunning(vm.vm) && (await vm.ssh.exec('true', { timeoutMs })).exitCode === 0,
      close: () => {
        closing ??= (letGo(), lifetime);
        return closing;
      },
    };
  }

  /**
   * The suite this host's ztest golden of the flavor holds: recorded by its build (manifest `suite`,
   * runfiles in `suite/`), or, for a golden built before suites were recorded, read once from a
   * clone and kept in a sidecar beside the cache (goldens are read-only). Undefined without a golden.
   */
  async goldenSuite(flavor: Flavor, signal: AbortSignal): Promise<GoldenSuiteLocation | undefined> {
    const golden = findGolden(this.cacheDir, flavor, 'ztest');
    if (!golden) return undefined;
    const manifest = loadGoldenManifest(golden.dir);
    const log = this.log.child({ golden: golden.name });
    if (manifest.suite) {
      const files = suiteFilesDir(golden.dir, manifest.suite);
      if ('dir' in files) return { golden: golden.name, suite: manifest.suite, runfilesDir: files.dir };
      log.warn({ problem: files.problem }, 'the golden recorded its suite but the copy is not whole: reading it from a clone');
    }
    const sidecar = suiteSidecarDir(this.cacheDir, golden.name);
    const kept = readSidecar(sidecar);
    const keptFiles = kept ? suiteFilesDir(sidecar, kept) : undefined;
    if (kept && keptFiles && 'dir' in keptFiles) return { golden: golden.name, suite: kept, runfilesDir: keptFiles.dir };
    log.info('the golden predates suite recording: reading its runfiles from a clone, once');
    const hypervisor = await this.hypervisorFor(golden);
    const size = VmSizeSchema.parse({ ...(this.deps.size ?? {}), vdevCount: 0 });
    const read = await withClone(this.cloneOptions({ runId: `golden-suite-${golden.name}`, golden, hypervisor, size, signal, log }), (vm) =>
      readGuestSuite(vm.ssh, zfsNumericVersion(manifest.zfsVersion.kmod), 'clone'),
    );
    writeSidecar(sidecar, read.suite, read.files);
    return { golden: golden.name, suite: read.suite, runfilesDir: join(sidecar, SUITE_DIR) };
  }

  /** A clone of this host's: its storage, clone root, VM budget, boot bound and start mode. */
  private cloneOptions(c: {
    runId: string;
    golden: GoldenRef;
    hypervisor: Hypervisor;
    size: z.output<typeof VmSizeSchema>;
    signal: AbortSignal;
    log: Logger;
  }): CloneOptions {
    return {
      runId: c.runId,
      golden: c.golden,
      storage: this.storage,
      hypervisor: c.hypervisor,
      cloneRoot: this.cloneRoot,
      ...c.size,
      bootTimeoutMs: this.deps.bootTimeoutMs,
      instant: this.deps.instantClones ?? false,
      capacity: this.capacity,
      signal: c.signal,
      log: c.log,
    };
  }

  private goldenOf(flavorId: string): GoldenRef {
    let flavor;
    try {
      flavor = this.deps.catalog.get(flavorId);
    } catch (err) {
      throw new TargetUnavailable(`${flavorId}: not a flavor of this host's catalog (${(err as Error).message})`);
    }
    const golden = findGolden(this.cacheDir, flavor, 'ztest');
    if (!golden) {
      throw new TargetUnavailable(`${flavorId}: no ztest golden of its current recipe in ${this.cacheDir}; build it with \`zfslab golden-ztest ${flavorId}\``);
    }
    return golden;
  }
}

/**
 * RunnerTarget over the clone's SSH connection, as the golden's test user: files via SFTP (parent dirs
 * made with sudo and handed to the user), the runner via zfs-tests.sh in a process group of its own
 * that kill() ends (SshExecutor kills the remote group; destroying the clone ends the rest).
 */
export class SshRunnerTarget implements RunnerTarget {
  private readonly outputBases = new Set<string>();

  constructor(
    private readonly ssh: SshExecutor,
    private readonly disks: readonly string[],
    private readonly log: Logger,
  ) {}

  async writeFile(path: string, content: string): Promise<void> {
    const dir = path.slice(0, path.lastIndexOf('/')) || '/';
    const mk = await this.ssh.exec(
      `test -w ${shellQuote(dir)} || { sudo -n mkdir -p ${shellQuote(dir)} && sudo -n chown "$(id -u):$(id -g)" ${shellQuote(dir)}; }`,
      { timeoutMs: 60_000 },
    );
    if (mk.exitCode !== 0) throw new Error(`cannot make ${dir} in the guest: ${mk.stderr.slice(-400)}`);
    await this.ssh.upload(content, path);
  }

  async listDir(path: string): Promise<string[]> {
    const ls = await this.ssh.exec(`sudo -n ls -1A -- ${shellQuote(path)} 2>/dev/null || true`, { timeoutMs: 60_000 });
    return ls.stdout.split('\n').filter(Boolean);
  }

  spawnRunner(invocation: RunnerInvocation, options: SpawnRunnerOptions): RunningRunner {
    const plan = guestRunnerPlan(invocation, { disks: this.disks, env: options.env });
    this.outputBases.add(plan.outputBase);
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const stop = new AbortController();
    this.log.info({ command: plan.command }, 'starting zfs-tests.sh in the guest');
    const exit: Promise<RunnerProcessExit> = this.ssh
      .exec(plan.command, {
        signal: stop.signal,
        // The whole output is streamed to the caller; keep only a little here.
        maxCapture: 64 * 1024,
        onStdout: (text) => stdout.write(text),
        onStderr: (text) => stderr.write(text),
      })
      .then(
        (r) => ({ code: r.exitCode, signal: r.exitSignal ?? (r.cancelled && r.exitCode === null ? 'SIGKILL' : null) }),
        (err: unknown) => ({ code: null, signal: null, spawnError: err instanceof Error ? err.message : String(err) }),
      )
      .then(async (result) => {
        await Promise.all([endStream(stdout), endStream(stderr)]);
        return result;
      });
    return {
      stdout,
      stderr,
      exit,
      kill: async () => {
        stop.abort();
        await exit;
      },
    };
  }

  /** Copies every runner output dir of this clone back to the same path on this host, with the serial log. */
  async copyBack(vm: ReadyVm): Promise<void> {
    for (const dir of this.outputBases) {
      try {
        const probe = await vm.ssh.exec(`sudo -n test -d ${shellQuote(dir)}`, { timeoutMs: 60_000 });
        if (probe.exitCode === 0) await copyTreeFromGuest(vm.ssh, dir, dir);
        mkdirSync(dir, { recursive: true });
        if (existsSync(vm.serialLogPath)) copyFileSync(vm.serialLogPath, join(dir, `serial-${vm.cloneId}.log`));
      } catch (err) {
        this.log.warn({ err, dir, cloneId: vm.cloneId }, 'could not copy the runner output back from the guest');
      }
    }
  }
}

function endStream(stream: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    stream.end(() => resolve());
  });
}
