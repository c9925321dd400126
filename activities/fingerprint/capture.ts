import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { planCapture, type CapturePlan, type PlanOptions } from '../../core/fingerprint/capture-plan.js';
import {
  bashCommandLine,
  captureScript,
  followScript,
  parseProbeOutput,
  probeScript,
  TRACER_STOP_SECONDS,
  type TargetFacts,
} from '../../core/fingerprint/capture-script.js';
import { CaptureStreamDecoder } from '../../core/fingerprint/capture-stream.js';
import { DEFAULT_KFUNCS } from '../../core/fingerprint/kallsyms.js';
import { LineSplitter } from '../../core/fingerprint/line-splitter.js';
import type { Fingerprint } from '../../core/fingerprint/schema.js';
import { shellQuote } from '../../core/text/shell-quote.js';
import { FingerprintSummariser } from '../../core/fingerprint/summarise.js';
import { InfraError, UsageError } from '../../lib/errors.js';
import { createLogger } from '../../lib/log.js';
import type { CaptureShell, ShellExit } from './shell.js';

const log = createLogger('fingerprint-capture');

/** The probe script reads a few files and asks `tetra status` (itself bounded to 5 s). */
const PROBE_TIMEOUT_MS = 120_000;
/** The capture script waits this long for bpftrace to attach (its default). */
const ATTACH_SECONDS = 120;

/**
 * With a duration limit, the whole capture is bounded: attach, the duration, the workload's 5 s between
 * TERM and KILL, the tracers' bounded stop, and a minute for printing. Without one the workload runs as
 * long as it runs; the script still cannot outlive its tracer, nor the tracer its script.
 */
export function captureTimeoutMs(durationSeconds: number | undefined): number | undefined {
  if (!durationSeconds) return undefined;
  return (ATTACH_SECONDS + durationSeconds + 5 + 2 * TRACER_STOP_SECONDS + 60) * 1000;
}

function how(exit: ShellExit): string {
  return exit.ended ?? `exit ${exit.exitCode}`;
}

export interface CaptureOptions extends PlanOptions {
  /** The workload's argv, run as root on the target by the capture (launch mode). */
  command?: readonly string[];
  /**
   * Follow mode instead: capture the process tree of the first exec of this absolute path after the
   * tracer is attached (someone else starts the workload, e.g. the ZTS activity runs zfs-tests.sh), until
   * it exits. `onReady` is called once the tracer is attached: start the workload then.
   */
  followExec?: string;
  onReady?: () => void;
  /** Follow mode: a file the target's script creates once attached (and removes when done), for a workload runner to wait on. */
  readyFile?: string;
  /** A name for the workload in the fingerprint; default the command line. */
  workload?: string;
  /** Stop the workload (its whole process group) after this many seconds; 0 or absent: run to the end. */
  durationSeconds?: number;
  /** Working directory of the workload on the target (absolute). */
  cwd?: string;
  /** Write every line the capture printed here (bpftrace records, Tetragon events): the raw artifact, replayable. */
  rawOutputPath?: string;
  signal?: AbortSignal;
  /** Clock for captured_at (injectable for tests). */
  now?: () => Date;
}

export interface CaptureResult {
  fingerprint: Fingerprint;
  facts: TargetFacts;
  plan: Omit<CapturePlan, 'program'>;
  workloadExitCode: number | null;
  /** The last 64 KiB of the workload's stdout+stderr. */
  workloadOutputTail: string;
  /** bpftrace's stderr (its RLIMIT_MEMLOCK warning is normal on this kind of host). */
  bpftraceStderr: string;
  /** Decoded capture events (not counting raw lines). */
  events: number;
}

/** Probes the target: arch, kernel, tracefs (mounting it when absent), kprobes, BTF, ZFS, kallsyms, Tetragon. */
export async function probeCaptureTarget(shell: CaptureShell, kfuncs: readonly string[] = DEFAULT_KFUNCS, signal?: AbortSignal): Promise<TargetFacts> {
  let output = '';
  const exit = await shell.run(`exec ${bashCommandLine(probeScript(kfuncs), [])}`, (chunk) => (output += chunk), signal, PROBE_TIMEOUT_MS);
  if (exit.exitCode !== 0) throw new InfraError(`probing ${shell.name} for the capture failed (${how(exit)}): ${exit.stderr.trim()}`);
  return parseProbeOutput(output);
}

/**
 * Runs a workload on the target under bpftrace (and Tetragon when an agent answers) and summarises
 * what its process tree did. Throws UsageError when nothing on the target can capture, InfraError when
 * the tracer fails; the workload failing is not an error (its exit code is in the fingerprint).
 */
export async function captureFingerprint(shell: CaptureShell, options: CaptureOptions): Promise<CaptureResult> {
  const follow = options.followExec;
  if (follow === undefined && (options.command ?? []).length === 0) throw new UsageError('fingerprint capture: no workload command given');
  if (follow !== undefined && !follow.startsWith('/'))
    throw new UsageError(`fingerprint capture: the followed binary must be an absolute path (got ${follow})`);
  const now = options.now ?? (() => new Date());
  const facts = await probeCaptureTarget(shell, options.kfuncs ?? DEFAULT_KFUNCS, options.signal);
  const plan = planCapture(facts, { ...options, ...(follow ? { root: { mode: 'exec' as const, path: follow } } : {}) });
  for (const note of plan.notes) log.info({ target: shell.name }, note);
  if (!plan.program) {
    const reason = plan.coverage.syscalls.status === 'not_captured' ? plan.coverage.syscalls.reason : 'bpftrace unavailable';
    // Tetragon alone could fill some sections, but the workload tree is only known through the launcher
    // pid the capture script reports, which needs the script (and so bpftrace) to run.
    throw new UsageError(`cannot capture on ${shell.name}: ${reason}`);
  }

  const summariser = new FingerprintSummariser({ zfsIoctlTable: plan.zfsIoctlTable, sources: plan.sources });
  const decoder = new CaptureStreamDecoder((cwd) => summariser.setInitialCwd(cwd));
  const raw: WriteStream | undefined = options.rawOutputPath ? createWriteStream(options.rawOutputPath) : undefined;
  let decodeError: Error | undefined;
  let readyCalled = false;
  const splitter = new LineSplitter((line) => {
    if (raw && !raw.write(line + '\n')) {
      // Backpressure is not worth pausing an SSH stream for; the file catches up from memory.
    }
    if (decodeError) return;
    try {
      for (const event of decoder.line(line)) summariser.add(event);
      if (!readyCalled && decoder.ready) {
        readyCalled = true;
        options.onReady?.();
      }
    } catch (err) {
      decodeError = err as Error;
    }
  });

  const capturedAt = now().toISOString();
  const workload = options.workload ?? (follow ? `${follow} (followed)` : (options.command ?? []).join(' '));
  const backends: ('bpftrace' | 'tetragon')[] = plan.tetragon ? ['bpftrace', 'tetragon'] : ['bpftrace'];
  // The raw file starts with the plan, so that a replay (`fingerprint summarise`) knows what was captured.
  raw?.write(
    JSON.stringify({
      type: 'zfslab',
      data: {
        event: 'plan',
        workload,
        captured_at: capturedAt,
        sources: plan.sources,
        coverage: plan.coverage,
        zfs_ioctl_table: plan.zfsIoctlTable,
        backends,
        kernel: facts.kernel,
        arch: facts.arch,
      },
    }) + '\n',
  );
  const script = follow ? followScript({ program: plan.program, tetragon: plan.tetragon }) : captureScript({ program: plan.program, tetragon: plan.tetragon });
  const args = [String(options.durationSeconds ?? 0), ...(follow ? [options.readyFile ?? ''] : (options.command ?? []))];
  // exec: the script's shell is the executor's own child, so its death is reported as what it was.
  const commandLine = (options.cwd ? `cd ${shellQuote(options.cwd)} && ` : '') + `exec ${bashCommandLine(script, args)}`;
  log.info({ target: shell.name, command: options.command, follow, sections: plan.coverage }, 'capture starting');
  const exit = await shell.run(commandLine, (chunk) => splitter.push(chunk), options.signal, captureTimeoutMs(options.durationSeconds));
  splitter.end();
  if (raw) {
    raw.end();
    await once(raw, 'close');
  }
  if (decodeError) throw new InfraError(`capture output from ${shell.name} could not be decoded: ${decodeError.message}`);
  const failure = decoder.attachFailure;
  if (failure) {
    throw new InfraError(`bpftrace did not attach on ${shell.name} (exit ${failure.bpftrace_exit}): ${decode64(failure.bpftrace_stderr_b64).trim()}`);
  }
  const end = decoder.end;
  if (!end || exit.exitCode !== 0) {
    throw new InfraError(`the capture script on ${shell.name} did not finish (${how(exit)}): ${exit.stderr.trim().slice(-2000)}`);
  }
  const bpftraceStderr = decode64(end.bpftrace_stderr_b64);
  if (end.bpftrace_exit !== 0) throw new InfraError(`bpftrace failed on ${shell.name} (exit ${end.bpftrace_exit}): ${bpftraceStderr.trim()}`);

  const root = decoder.followedRoot;
  if (follow && !root) throw new InfraError(`no process exec'd ${follow} on ${shell.name} while the capture was attached (${end.stopped_by})`);
  const durationSeconds = root?.exitNs !== undefined ? (root.exitNs - root.startNs) / 1e9 : (end.ended_us - end.started_us) / 1e6;
  const fingerprint = summariser.finish({
    workload,
    capturedAt,
    durationSeconds,
    coverage: plan.coverage,
    backends,
    stoppedBy: end.stopped_by,
    // Follow mode does not own the workload and cannot know its exit status.
    exitCode: follow ? null : end.exit_code,
    kernel: facts.kernel,
    arch: facts.arch,
  });
  if (fingerprint.capture.lost_events > 0) {
    log.warn({ lost: fingerprint.capture.lost_events }, 'bpftrace lost events: counts of printed events are lower bounds');
  }
  const { program: _program, ...planWithoutProgram } = plan;
  return {
    fingerprint,
    facts,
    plan: planWithoutProgram,
    workloadExitCode: follow ? null : end.exit_code,
    workloadOutputTail: decode64(end.workload_log_b64),
    bpftraceStderr,
    events: summariser.events,
  };
}

function decode64(text: string): string {
  return Buffer.from(text, 'base64').toString('utf8');
}
