import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Flavor } from '../../core/catalog/schema.js';
import { ensureZtsRunner, upstreamVersion } from './zts-runner.js';
import { InfraError } from '../../lib/errors.js';
import { localExecutor } from '../../lib/exec/local.js';
import type { Logger } from '../../lib/log.js';

/** Where one OpenZFS test suite lives: its runner, its tests (`-i`) and its runfiles. */
export interface SuiteLocation {
  runnerPath: string;
  testDir: string;
  runfilesDir: string;
  /** Upstream version of the suite (`2.1.11`): the runfiles and the baseline follow it. */
  openzfsVersion: string;
  /** For people: where it came from. */
  source: string;
}

const INSTALLED_ROOT = '/';
const RUNNER = 'usr/share/zfs/test-runner/bin/test-runner.py';
const TESTS = 'usr/share/zfs/zfs-tests';
const RUNFILES = 'usr/share/zfs/runfiles';

function locationUnder(root: string, openzfsVersion: string, source: string): SuiteLocation {
  return {
    runnerPath: join(root, RUNNER),
    testDir: join(root, TESTS),
    runfilesDir: join(root, RUNFILES),
    openzfsVersion,
    source,
  };
}

/**
 * The native target's suite: the host's own installed `zfs-test` when ZFS is installed, else Debian's
 * `zfs-test` package of this host's release unpacked under the tools dir (./zts-runner.ts) — the
 * runner and runfiles only; its tests need ZFS, custom runfiles do not.
 */
export async function nativeSuite(options: { toolsDir: string; log: Logger; installedRoot?: string }): Promise<SuiteLocation> {
  const root = options.installedRoot ?? INSTALLED_ROOT;
  if (existsSync(join(root, RUNNER)) && existsSync(join(root, RUNFILES, 'common.run'))) {
    const version = await installedVersion();
    return locationUnder(root, version, `installed zfs-test ${version} (${join(root, RUNFILES)})`);
  }
  const runner = await ensureZtsRunner({ toolsDir: options.toolsDir, log: options.log });
  return locationUnder(runner.root, runner.version, `Debian zfs-test ${runner.packageVersion} (${runner.suite}), unpacked in ${runner.root}`);
}

/**
 * A Debian-built flavor's suite, for planning: the same `zfs-test` package its golden installs
 * (the backports suite when the flavor takes OpenZFS from there), unpacked on this host. A flavor
 * from a cloud image gets its runfiles from its golden, which the VM layer will provide.
 */
export async function flavorSuite(flavor: Flavor, options: { toolsDir: string; log: Logger }): Promise<SuiteLocation> {
  if (flavor.builder.kind !== 'debootstrap') {
    throw new InfraError(
      `the runfiles of ${flavor.id} come from its golden image (a ${flavor.builder.kind} build); reading them from a golden is not wired yet`,
    );
  }
  const suite = flavor.builder.backports ?? flavor.builder.suite;
  const runner = await ensureZtsRunner({ toolsDir: options.toolsDir, suite, log: options.log });
  return locationUnder(runner.root, runner.version, `Debian zfs-test ${runner.packageVersion} (${suite}), as in the ${flavor.id} golden`);
}

async function installedVersion(): Promise<string> {
  const dpkg = await localExecutor.exec(['dpkg-query', '-W', '-f=${Version}', 'zfs-test'], { timeoutMs: 30_000 });
  // Not a dpkg system, or installed from source: ask zfs itself.
  if (dpkg.exitCode === 0 && dpkg.stdout.trim()) return upstreamVersion(dpkg.stdout.trim());
  const zfs = await localExecutor.exec(['zfs', 'version'], { timeoutMs: 30_000 });
  const match = zfs.exitCode === 0 ? /zfs-(\d+\.\d+\.\d+)/.exec(zfs.stdout) : null;
  return match?.[1] ?? 'unknown';
}
