import { Context } from '@temporalio/activity';
import { existsSync, readdirSync, readFileSync, statfsSync } from 'node:fs';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { arch, cpus, hostname, totalmem } from 'node:os';
import {
  HostProbeReportSchema,
  PROBE_SECTION_NAMES,
  ProbeSectionsSchema,
  type HostProbeReport,
  type ProbeSectionName,
  type ProbeSections,
} from '../../core/host/probe-report.js';
import { readGoldenManifest } from '../golden/build.js';
import { withHeartbeats } from '../heartbeat.js';
import { bootOnce } from '../vm/accel-probe.js';
import { run } from './exec.js';

export interface ProbeDeps {
  hostId: string;
  imageDir: string;
  /** Where this host's goldens are (the ztest goldens present go into the registry; a golden's kernel proves KVM). */
  goldenCacheDir?: string;
  /** `host.maxVms` and `host.tags`, declared to the registry beside what was measured. */
  vmSlots?: number;
  tags?: readonly string[];
}

export interface ProbeOptions {
  /** How long to measure write throughput under the image dir; 0 skips the measurement. */
  diskBenchmarkSeconds: number;
}

/** What a probe attempt heartbeats: the sections collected so far. */
export type ProbeCheckpoint = Partial<ProbeSections>;

type Stamp = { attempt: number; collectedAt: string };
type Collector<K extends ProbeSectionName> = (stamp: Stamp) => Promise<ProbeSections[K]>;

/**
 * Inspects the host for real, one section at a time. After each section the activity heartbeats
 * everything collected so far; a retried attempt (worker crash, host reboot) starts from the last
 * heartbeat and collects only the sections that are still missing.
 */
export async function probeHost(deps: ProbeDeps, options: ProbeOptions): Promise<HostProbeReport> {
  const context = Context.current();
  const attempt = context.info.attempt;
  const checkpoint: ProbeCheckpoint = { ...((context.info.heartbeatDetails as ProbeCheckpoint | undefined) ?? {}) };
  const collectors: { [K in ProbeSectionName]: Collector<K> } = {
    system: collectSystem,
    disk: (stamp) => collectDisk(stamp, deps.imageDir),
    kvm: (stamp) => collectKvm(stamp, deps.goldenCacheDir),
    qemu: collectQemu,
    zfs: collectZfs,
    tools: collectTools,
    tracing: collectTracing,
    diskSpeed: (stamp) => measureDiskSpeed(stamp, deps.imageDir, options.diskBenchmarkSeconds),
  };
  for (const name of PROBE_SECTION_NAMES) {
    if (checkpoint[name]) {
      context.log.info('probe section already collected by an earlier attempt', { section: name });
      continue;
    }
    const collect = collectors[name] as Collector<typeof name>;
    const section = await withHeartbeats(
      () => checkpoint,
      () => collect({ attempt, collectedAt: new Date().toISOString() }),
    );
    (checkpoint as Record<string, unknown>)[name] = section;
    context.heartbeat(checkpoint);
  }
  return HostProbeReportSchema.parse({
    schema: 'zfslab.host-probe/v1',
    hostId: deps.hostId,
    probedAt: new Date().toISOString(),
    sections: ProbeSectionsSchema.parse(checkpoint),
    worker: { vmSlots: deps.vmSlots ?? 0, tags: [...(deps.tags ?? [])], goldens: deps.goldenCacheDir ? ztestGoldensIn(deps.goldenCacheDir) : [] },
  });
}

/** Flavor ids of the published ztest goldens in a golden cache (a dir with a valid manifest). */
export function ztestGoldensIn(cacheDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(cacheDir).filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
  const flavors = new Set<string>();
  for (const name of names) {
    const manifest = readGoldenManifest(join(cacheDir, name));
    if (manifest && manifest.lineage === 'ztest') flavors.add(manifest.flavorId);
  }
  return [...flavors].sort();
}

/**
 * A guest kernel to boot under KVM: a golden's own (what clones will boot), else the host's
 * (`/boot/vmlinuz-<release>`, readable as root), else none and KVM stays unproven.
 */
function guestKernel(cacheDir: string | undefined): string | undefined {
  if (cacheDir) {
    try {
      for (const name of readdirSync(cacheDir).sort()) {
        const kernel = join(cacheDir, name, 'vmlinuz');
        if (!name.startsWith('.') && existsSync(kernel)) return kernel;
      }
    } catch {
      // no cache yet
    }
  }
  try {
    const host = readdirSync('/boot')
      .filter((n) => n.startsWith('vmlinuz-'))
      .sort()
      .at(-1);
    return host ? join('/boot', host) : undefined;
  } catch {
    return undefined;
  }
}

async function collectSystem(stamp: Stamp): Promise<ProbeSections['system']> {
  const osRelease = readText('/etc/os-release') ?? '';
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease)?.[1] ?? 'unknown';
  const uname = await run('uname', ['-r']);
  const cpuList = cpus();
  return {
    ...stamp,
    hostname: hostname(),
    kernel: uname.stdout.trim() || 'unknown',
    os: pretty,
    arch: arch(),
    cpus: Math.max(1, cpuList.length),
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    memoryBytes: totalmem(),
  };
}

async function collectDisk(stamp: Stamp, imageDir: string): Promise<ProbeSections['disk']> {
  // The image dir may not exist yet: measure the nearest existing parent, which is where it will be.
  let dir = imageDir;
  while (!existsSync(dir) && dir !== '/') dir = dir.slice(0, dir.lastIndexOf('/')) || '/';
  const fs = statfsSync(dir);
  return { ...stamp, imageDir, freeBytes: fs.bavail * fs.bsize, totalBytes: fs.blocks * fs.bsize };
}

async function measureDiskSpeed(stamp: Stamp, imageDir: string, seconds: number): Promise<ProbeSections['diskSpeed']> {
  if (seconds <= 0) return { ...stamp, measured: false, seconds: 0, bytesWritten: 0, writeMiBPerSecond: 0 };
  await mkdir(imageDir, { recursive: true });
  // A worker killed mid-measurement leaves its file behind: remove any before measuring.
  for (const name of await readdir(imageDir)) if (/^\.zfslab-probe-.*\.tmp$/.test(name)) await rm(join(imageDir, name), { force: true });
  const path = join(imageDir, `.zfslab-probe-${process.pid}-${Date.now()}.tmp`);
  const block = Buffer.alloc(1 << 20, 0xa5);
  const file = await open(path, 'w');
  const started = performance.now();
  let written = 0;
  try {
    while (performance.now() - started < seconds * 1000) {
      await file.write(block);
      written += block.length;
      // Flush every 64 MiB so the figure is the disk's, not the page cache's.
      if (written % (64 << 20) === 0) await file.datasync();
    }
    await file.datasync();
  } finally {
    await file.close();
    await rm(path, { force: true });
  }
  const elapsed = (performance.now() - started) / 1000;
  return { ...stamp, measured: true, seconds: elapsed, bytesWritten: written, writeMiBPerSecond: written / (1 << 20) / elapsed };
}

async function collectKvm(stamp: Stamp, goldenCacheDir: string | undefined): Promise<ProbeSections['kvm']> {
  const devicePresent = existsSync('/dev/kvm');
  if (!devicePresent) return { ...stamp, devicePresent, usable: false, reason: '/dev/kvm does not exist' };
  // A device node can exist while the CPU offers no virtualisation: ask qemu to bring up the KVM accelerator.
  const probe = await run('qemu-system-x86_64', ['-accel', 'kvm', '-machine', 'none', '-nodefaults', '-display', 'none', '-monitor', 'stdio'], {
    input: 'quit\n',
    timeoutMs: 15_000,
  });
  if (probe.missing) return { ...stamp, devicePresent, usable: false, reason: 'qemu-system-x86_64 is not installed; KVM untested' };
  if (!probe.ok) return { ...stamp, devicePresent, usable: false, reason: lastLine(probe.stderr) || `qemu exited ${probe.code}` };
  // The accelerator came up; whether a guest runs under it is only known by booting one.
  const kernel = guestKernel(goldenCacheDir);
  if (!kernel) return { ...stamp, devicePresent, usable: false, reason: 'KVM initialises but no guest kernel was found to boot; KVM unproven' };
  const boot = await bootOnce(kernel, 'kvm', 60_000);
  const guestBoot = { kernel, booted: boot.ok, seconds: boot.seconds, detail: boot.ok ? 'reached the root-fs panic' : boot.detail || 'no root-fs panic' };
  if (boot.ok) return { ...stamp, devicePresent, usable: true, guestBoot };
  return { ...stamp, devicePresent, usable: false, reason: `KVM initialises but a guest kernel did not boot under it: ${guestBoot.detail}`, guestBoot };
}

async function collectQemu(stamp: Stamp): Promise<ProbeSections['qemu']> {
  return {
    ...stamp,
    system: await toolVersion('qemu-system-x86_64', ['--version'], /version (\S+)/),
    img: await toolVersion('qemu-img', ['--version'], /version (\S+)/),
  };
}

async function collectZfs(stamp: Stamp): Promise<ProbeSections['zfs']> {
  const kmod = readText('/sys/module/zfs/version')?.trim();
  return {
    ...stamp,
    zfs: await toolVersion('zfs', ['version'], /^(zfs-[^\s]+)/m),
    zpool: await toolVersion('zpool', ['version'], /^(zfs-[^\s]+)/m),
    ...(kmod ? { kmodVersion: kmod } : {}),
  };
}

async function collectTools(stamp: Stamp): Promise<ProbeSections['tools']> {
  const debootstrap = await run('dpkg-query', ['-W', '-f=${Version}', 'debootstrap']);
  const debootstrapPath = ['/usr/sbin/debootstrap', '/usr/bin/debootstrap'].find((p) => existsSync(p));
  return {
    ...stamp,
    debootstrap: debootstrapPath
      ? { present: true, path: debootstrapPath, ...(debootstrap.ok ? { version: debootstrap.stdout.trim() } : {}) }
      : { present: false },
    bpftrace: await toolVersion('bpftrace', ['--version'], /v?(\d+\.\d+\.\d+)/),
  };
}

async function collectTracing(stamp: Stamp): Promise<ProbeSections['tracing']> {
  const tracefsMounted = existsSync('/sys/kernel/tracing/events') || existsSync('/sys/kernel/debug/tracing/events');
  const tracepoints = await bpftraceWorks('tracepoint:raw_syscalls:sys_enter { printf("probe-ok\\n"); exit(); }');
  const kprobes = await bpftraceWorks('kprobe:vfs_read { printf("probe-ok\\n"); exit(); }');
  return { ...stamp, tracefsMounted, tracepoints, kprobes };
}

async function bpftraceWorks(program: string): Promise<{ works: boolean; detail: string }> {
  const outcome = await run('bpftrace', ['-e', program], { timeoutMs: 20_000 });
  if (outcome.missing) return { works: false, detail: 'bpftrace is not installed' };
  if (outcome.stdout.includes('probe-ok')) return { works: true, detail: 'attached and fired' };
  const error = outcome.stderr
    .split('\n')
    .filter((l) => /ERROR/.test(l) && !/RLIMIT_MEMLOCK/.test(l))
    .map((l) => l.replace(/^.*ERROR:\s*/, ''))
    .join('; ');
  return { works: false, detail: error || lastLine(outcome.stderr) || `bpftrace exited ${outcome.code}` };
}

async function toolVersion(file: string, args: string[], pattern: RegExp): Promise<{ present: boolean; version?: string; path?: string }> {
  const outcome = await run(file, args);
  if (outcome.missing) return { present: false };
  const text = outcome.stdout + '\n' + outcome.stderr;
  const version = pattern.exec(text)?.[1];
  const which = await run('sh', ['-c', `command -v ${file}`]);
  return { present: true, ...(version ? { version } : {}), ...(which.ok ? { path: which.stdout.trim() } : {}) };
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).slice(-1)[0]?.trim() ?? '';
}
