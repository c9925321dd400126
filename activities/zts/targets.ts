import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { InfraError } from '../../lib/errors.js';
import { localCaptureShell } from '../fingerprint/shell.js';
import type { ChunkCaptureTarget } from './chunk-fingerprint.js';
import type { Logger } from '../../lib/log.js';
import type { BundleTarget } from '../fingerprint/bundle.js';
import { LocalRunnerTarget } from './local-target.js';
import { ParentDeathTarget } from './parent-death.js';
import type { RunnerTarget } from './runner-target.js';
import { nativeSuite } from './suite-location.js';

/**
 * Where one chunk attempt runs test-runner.py. The chunk activity asks a provider to open the target
 * for the attempt and closes it afterwards; nothing else in the run knows what a target is:
 * - native: this host, the runner tied to the worker's life (it dies with the worker, see
 *   ./parent-death.ts), nothing to tear down;
 * - a VM flavor (the VM layer, activities/vm): clone the golden, boot, hand back an SSH-backed
 *   RunnerTarget plus the guest's runner and suite paths; close() destroys the clone. A retried
 *   attempt gets a fresh clone and runs only the remaining tests.
 */
export interface OpenedTarget {
  runner: RunnerTarget;
  runnerPath: string;
  /** `-i` on the target when it differs from the resolved one (a guest's own suite path). */
  testDir?: string;
  python: string;
  /** Extra environment for the runner. */
  env: Record<string, string>;
  /** How `--fingerprint` captures the runner's tree on this target (a root shell there). */
  capture?: ChunkCaptureTarget;
  /** The target's kernel console so far (a VM's serial log): a crash there ends the test in flight as CRASH. */
  kernelConsole?(): string;
  /**
   * Whether the target still answers (a guest: a command over SSH within `timeoutMs`). A guest that
   * stops answering while its console is silent is recorded as an `unresponsive` CRASH.
   */
  alive?(timeoutMs: number): Promise<boolean>;
  /** Where an incident bundle is collected (a guest over SSH); absent: on this host. */
  incidentTarget?: BundleTarget;
  close(): Promise<void>;
}

export interface OpenTargetRequest {
  target: string;
  flavorId: string;
  runId: string;
  /** Set in the runner's environment: marks every process of this attempt (./leftovers.ts). */
  marker: { name: string; value: string };
  signal: AbortSignal;
}

export interface TargetProvider {
  open(request: OpenTargetRequest): Promise<OpenedTarget>;
}

/** The host itself. */
export class NativeTargetProvider implements TargetProvider {
  constructor(private readonly options: { toolsDir: string; log: Logger; killGraceMs?: number }) {}

  async open(request: OpenTargetRequest): Promise<OpenedTarget> {
    const suite = await nativeSuite({ toolsDir: this.options.toolsDir, log: this.options.log });
    // An absolute interpreter: it is the path the runner is exec'd as, which a fingerprint capture follows.
    const python = findOnPath('python3') ?? 'python3';
    return {
      runner: new ParentDeathTarget(new LocalRunnerTarget({ killGraceMs: this.options.killGraceMs ?? 5_000 })),
      runnerPath: suite.runnerPath,
      python,
      env: { [request.marker.name]: request.marker.value },
      ...(python.startsWith('/') ? { capture: { shell: localCaptureShell(), followExec: python } } : {}),
      close: async () => undefined,
    };
  }
}

function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir.startsWith('/')) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Picks the provider for a target: `native`, else the VM provider when the worker has one. */
export class TargetProviders implements TargetProvider {
  constructor(private readonly providers: { native: TargetProvider; vm?: TargetProvider }) {}

  open(request: OpenTargetRequest): Promise<OpenedTarget> {
    if (request.target === 'native') return this.providers.native.open(request);
    if (this.providers.vm) return this.providers.vm.open(request);
    return Promise.reject(
      new TargetUnavailable(`${request.target}: running ZTS in a VM clone needs the VM layer's target provider, which this host worker does not have yet`),
    );
  }
}

/** The target cannot be opened on this host at all; retrying will not help. */
export class TargetUnavailable extends InfraError {
  override name = 'TargetUnavailable';
}
