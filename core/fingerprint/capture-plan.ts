import { captureProgram, needsExecPathAtEntry, type CaptureProgramOptions } from './bpftrace-capture.js';
import type { TargetFacts } from './capture-script.js';
import { NEWEST_ZFS_IOCTL_VERSION, zfsIoctlVersionFor, type ZfsIoctlVersion } from './ioctl-names.js';
import { DEFAULT_KFUNCS, selectKfuncs } from './kallsyms.js';
import { SECTION_NAMES, type CaptureSource, type SectionCoverage, type SectionName } from './schema.js';

/**
 * Decides, from the target's facts, what each backend can fill, before anything runs. Every section
 * ends up either with one source or with the reason it cannot be captured; nothing is filled in later
 * by guesswork.
 */
export interface CapturePlan {
  /** The bpftrace program, undefined when bpftrace cannot run on the target. */
  program?: string;
  tetragon: boolean;
  sources: Partial<Record<SectionName, CaptureSource>>;
  coverage: Record<SectionName, SectionCoverage>;
  kfuncs: { probe: string[]; absent: string[] };
  zfsIoctlTable: ZfsIoctlVersion;
  /** Things a person should know (ioctl table fallback, tracefs mounted now, absent functions). */
  notes: string[];
}

export interface PlanOptions {
  /** Kernel functions to time; default DEFAULT_KFUNCS. */
  kfuncs?: readonly string[];
  /** OpenZFS version whose ioctl numbering names the codes, when the target has no ZFS module to ask. */
  zfsVersion?: string;
  /** 'off' ignores a Tetragon agent even when one answers. */
  tetragon?: 'auto' | 'off';
  /** How the traced tree's root is found (see CaptureProgramOptions.root). */
  root?: CaptureProgramOptions['root'];
}

/** Sections Tetragon events can fill (it has no function latency). */
const TETRAGON_SECTIONS: readonly SectionName[] = [
  'syscalls',
  'binaries_spawned',
  'ioctl_codes',
  'network_destinations',
  'filesystem_paths_modified',
  'filesystem_paths_read',
];

export function planCapture(facts: TargetFacts, options: PlanOptions = {}): CapturePlan {
  const notes: string[] = [];
  const zfsIoctlTable = chooseIoctlTable(facts, options, notes);
  if (facts.tracefsMountedNow) notes.push(`mounted tracefs at ${facts.tracefs ?? '/sys/kernel/tracing'} (it was not mounted)`);

  const bpftraceProblem = !facts.bpftrace
    ? 'bpftrace is not installed'
    : facts.uid !== 0
      ? 'bpftrace needs root'
      : !facts.tracefs
        ? `tracefs is not mounted and could not be mounted${facts.tracefsError ? `: ${facts.tracefsError}` : ''}`
        : facts.arch !== 'x86_64'
          ? `no syscall table for ${facts.arch}`
          : !facts.syscallTracepoints.has('ioctl')
            ? 'the kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS)'
            : undefined;
  const tetragon = options.tetragon !== 'off' && facts.tetragon === 'present';
  if (facts.tetragon === 'unreachable') notes.push('tetra is installed but no Tetragon agent answered `tetra status`');

  const wanted = options.kfuncs ?? DEFAULT_KFUNCS;
  const kfuncs = facts.kprobeEvents ? selectKfuncs(wanted, facts.kallsyms) : { probe: [], absent: [] };
  const sources: Partial<Record<SectionName, CaptureSource>> = {};
  const coverage = {} as Record<SectionName, SectionCoverage>;
  const tracepointSection: Partial<Record<SectionName, string>> = {
    ioctl_codes: 'ioctl',
    network_destinations: 'connect',
    filesystem_paths_modified: 'openat',
    filesystem_paths_read: 'openat',
  };
  for (const section of SECTION_NAMES) {
    if (section === 'kfunc_latency_p99_us') {
      if (bpftraceProblem) coverage[section] = { status: 'not_captured', reason: bpftraceProblem };
      else if (!facts.kprobeEvents)
        coverage[section] = {
          status: 'not_captured',
          reason: `kprobes unavailable: ${facts.tracefs}/kprobe_events is missing (kernel without CONFIG_KPROBE_EVENTS)`,
        };
      else if (kfuncs.probe.length === 0)
        coverage[section] = {
          status: 'not_captured',
          reason: `none of ${wanted.join(', ')} is in /proc/kallsyms${facts.zfsVersion ? '' : ' (no ZFS module loaded)'}`,
        };
      else {
        sources[section] = 'bpftrace';
        coverage[section] = {
          status: 'captured',
          source: 'bpftrace',
          ...(kfuncs.absent.length > 0 ? { note: `not in /proc/kallsyms, skipped: ${kfuncs.absent.join(', ')}` } : {}),
        };
      }
      continue;
    }
    const tracepoint = tracepointSection[section];
    if (!bpftraceProblem && (tracepoint === undefined || facts.syscallTracepoints.has(tracepoint))) {
      sources[section] = 'bpftrace';
      coverage[section] = { status: 'captured', source: 'bpftrace' };
    } else if (tetragon && TETRAGON_SECTIONS.includes(section)) {
      sources[section] = 'tetragon';
      coverage[section] = {
        status: 'captured',
        source: 'tetragon',
        note: 'from the TracingPolicies loaded in the agent; events no policy hooks are not seen',
      };
    } else {
      coverage[section] = {
        status: 'not_captured',
        reason: bpftraceProblem ?? `the kernel has no syscalls:sys_enter_${tracepoint} tracepoint`,
      };
    }
  }
  if (kfuncs.absent.length > 0 && kfuncs.probe.length > 0) notes.push(`kernel functions not in /proc/kallsyms, skipped: ${kfuncs.absent.join(', ')}`);

  const plan: CapturePlan = { tetragon, sources, coverage, kfuncs, zfsIoctlTable, notes };
  if (!bpftraceProblem) {
    plan.program = captureProgram({
      arch: 'x86_64',
      syscallTracepoints: facts.syscallTracepoints,
      kfuncs: kfuncs.probe,
      btf: facts.btf,
      execPathAtEntry: needsExecPathAtEntry(facts.bpftrace),
      ...(options.root ? { root: options.root } : {}),
    });
  }
  return plan;
}

function chooseIoctlTable(facts: TargetFacts, options: PlanOptions, notes: string[]): ZfsIoctlVersion {
  for (const [version, from] of [
    [facts.zfsVersion, 'the loaded ZFS module'],
    [options.zfsVersion, '--zfs-version'],
  ] as const) {
    if (!version) continue;
    const table = zfsIoctlVersionFor(version);
    if (table) return table;
    notes.push(`no ZFS ioctl table for ${version} (from ${from}); names use OpenZFS ${NEWEST_ZFS_IOCTL_VERSION}`);
    return NEWEST_ZFS_IOCTL_VERSION;
  }
  notes.push(`no ZFS module on the target and no --zfs-version: ioctl names use OpenZFS ${NEWEST_ZFS_IOCTL_VERSION}'s numbering`);
  return NEWEST_ZFS_IOCTL_VERSION;
}
