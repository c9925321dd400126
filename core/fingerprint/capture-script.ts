import { z } from 'zod';
import { shellQuote } from '../text/shell-quote.js';
import { ZFS_IOCTL_VERSIONS } from './ioctl-names.js';
import { parseKallsyms, type KernelSymbol } from './kallsyms.js';
import { CaptureSourceSchema, SectionCoverageSchema, SectionNameSchema } from './schema.js';

/**
 * The capture runs as two bash scripts on the target (this host, or a VM guest over the run's SSH), so
 * both paths execute the same code:
 *   1. the probe script reports the target's facts (arch, kernel, tracefs — mounted if it is not,
 *      kprobe support, BTF, ZFS version, syscall tracepoints, kallsyms lines of the wanted functions,
 *      a reachable Tetragon agent);
 *   2. the capture script starts the workload behind a FIFO gate, attaches bpftrace (and
 *      `tetra getevents -o json` when an agent answers), opens the gate, waits for the workload (or the
 *      duration), stops the tracers and prints everything as JSON lines: a `zfslab` start record, the
 *      bpftrace records, the Tetragon events, a `zfslab` end record.
 */

/** A command line that runs `script` with bash, passing `args` as $1…; `$0` is `zfslab-capture`. */
export function bashCommandLine(script: string, args: readonly string[]): string {
  return ['bash', '-c', shellQuote(script), 'zfslab-capture', ...args.map(shellQuote)].join(' ');
}

export function probeScript(kfuncs: readonly string[]): string {
  for (const f of kfuncs) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(f)) throw new Error(`not a kernel function name: ${f}`);
  const wanted = kfuncs.length > 0 ? kfuncs.join('|') : 'zfslab_no_function_wanted';
  return `set -u
echo "uid=$(id -u)"
echo "arch=$(uname -m)"
echo "kernel=$(uname -r)"
if command -v bpftrace >/dev/null 2>&1; then echo "bpftrace=$(bpftrace --version 2>&1 | head -n1)"; fi
tracing=/sys/kernel/tracing
if [ ! -d "$tracing/events/syscalls" ]; then
  if mount -t tracefs tracefs "$tracing" 2>/tmp/zfslab-tracefs.err; then
    echo "tracefs_mounted=yes"
  else
    echo "tracefs_error=$(tr '\\n' ' ' < /tmp/zfslab-tracefs.err)"
  fi
  rm -f /tmp/zfslab-tracefs.err
fi
if [ -d "$tracing/events/syscalls" ]; then
  echo "tracefs=$tracing"
  echo "syscall_tracepoints=$(ls "$tracing/events/syscalls" | sed -n 's/^sys_enter_//p' | tr '\\n' ' ')"
fi
[ -e "$tracing/kprobe_events" ] && echo "kprobe_events=yes"
[ -e /sys/kernel/btf/vmlinux ] && echo "btf=yes"
[ -r /sys/module/zfs/version ] && echo "zfs_version=$(cat /sys/module/zfs/version)"
grep -E ' [tT] (${wanted})( |$)' /proc/kallsyms 2>/dev/null | sed 's/^/kallsyms /'
if command -v tetra >/dev/null 2>&1; then
  if timeout 5 tetra status >/dev/null 2>&1; then echo "tetragon=yes"; else echo "tetragon=unreachable"; fi
fi
exit 0
`;
}

export interface TargetFacts {
  uid: number;
  arch: string;
  kernel: string;
  /** `bpftrace v0.17.0`, undefined when not installed. */
  bpftrace?: string;
  /** Where tracefs is, undefined when it is absent and could not be mounted. */
  tracefs?: string;
  tracefsMountedNow: boolean;
  tracefsError?: string;
  syscallTracepoints: Set<string>;
  kprobeEvents: boolean;
  btf: boolean;
  zfsVersion?: string;
  kallsyms: Map<string, KernelSymbol>;
  /** `present` when `tetra status` answered, `unreachable` when tetra is installed but no agent answered. */
  tetragon: 'present' | 'unreachable' | 'absent';
}

export function parseProbeOutput(text: string): TargetFacts {
  const values = new Map<string, string>();
  const kallsymsLines: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('kallsyms ')) kallsymsLines.push(line.slice('kallsyms '.length));
    else {
      const eq = line.indexOf('=');
      if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1).trim());
    }
  }
  const uid = Number(values.get('uid'));
  if (!Number.isInteger(uid) || !values.get('arch')) throw new Error(`probe output lacks uid/arch:\n${text.slice(0, 500)}`);
  const facts: TargetFacts = {
    uid,
    arch: values.get('arch') as string,
    kernel: values.get('kernel') ?? '',
    tracefsMountedNow: values.get('tracefs_mounted') === 'yes',
    syscallTracepoints: new Set((values.get('syscall_tracepoints') ?? '').split(/\s+/).filter(Boolean)),
    kprobeEvents: values.get('kprobe_events') === 'yes',
    btf: values.get('btf') === 'yes',
    kallsyms: parseKallsyms(kallsymsLines.join('\n')),
    tetragon: values.get('tetragon') === 'yes' ? 'present' : values.get('tetragon') === 'unreachable' ? 'unreachable' : 'absent',
  };
  const optional = { bpftrace: 'bpftrace', tracefs: 'tracefs', tracefsError: 'tracefs_error', zfsVersion: 'zfs_version' } as const;
  for (const [field, key] of Object.entries(optional) as [keyof typeof optional, string][]) {
    const value = values.get(key);
    if (value) facts[field] = value;
  }
  return facts;
}

export interface CaptureScriptOptions {
  /** The bpftrace program (captureProgram). */
  program: string;
  /** Run `tetra getevents -o json` alongside. */
  tetragon: boolean;
  /** Seconds to wait for bpftrace to attach. */
  attachTimeoutSeconds?: number;
}

const PROGRAM_DELIMITER = 'ZFSLAB_BPFTRACE_PROGRAM_EOF';

/**
 * Seconds a tracer gets to print its maps and exit after SIGINT before it is killed. bpftrace detaches
 * its probes one by one before it prints: several hundred syscall tracepoints took over 30 s on this
 * 2-core machine under load (two CI runs lost a capture to the old 30 s bound, exit 137, no maps), so
 * the bound is generous; it only ever costs time when a tracer really hangs.
 */
export const TRACER_STOP_SECONDS = 120;

/**
 * Shell functions both scripts use so that a tracer never outlives the script:
 * - `$pdeath` runs a command with `setpriv --pdeathsig=KILL` (util-linux) where it exists: the kernel
 *   kills the tracer (and the workload) when the script's shell dies, whatever kills it (SIGKILL, OOM,
 *   a hangup) and wherever its process group went (sudo's pty session, setsid);
 * - `stop_pid` stops a tracer with SIGINT (it prints its maps) and waits a bounded time for it, then
 *   SIGKILLs it: a tracer that does not exit cannot hold the script forever. Its exit code is in
 *   `$stopped_code`.
 */
const TRACER_HELPERS = `pdeath=
if setpriv --help 2>/dev/null | grep -q pdeathsig; then pdeath="setpriv --pdeathsig=KILL --"; fi
stopped_code=0
stop_pid() {
  kill -INT "$1" 2>/dev/null
  for _ in $(seq 1 ${TRACER_STOP_SECONDS * 10}); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null
  wait "$1"; stopped_code=$?
}`;

/**
 * Starts bpftrace (its root argument: the launcher pid, or 0 in follow mode) and Tetragon's event
 * stream, then waits until the program's BEGIN printed `zfslab-ready` (attached), the tracer died, or
 * the attach timeout passed; `$ready` says which.
 */
function startTracers(rootArgument: string, options: CaptureScriptOptions): string {
  const attachTenths = Math.round((options.attachTimeoutSeconds ?? 120) * 10);
  return `BPFTRACE_STRLEN=200 BPFTRACE_MAP_KEYS_MAX=65536 BPFTRACE_PERF_RB_PAGES=1024 \\
  $pdeath bpftrace -f json "$work/capture.bt" ${rootArgument} > "$work/bpftrace.jsonl" 2> "$work/bpftrace.err" &
tracer=$!
if [ "${options.tetragon ? 1 : 0}" = 1 ]; then
  $pdeath tetra getevents -o json > "$work/tetragon.jsonl" 2> "$work/tetra.err" &
  tetra_pid=$!
fi
ready=0
for _ in $(seq 1 ${attachTenths}); do
  if grep -q 'zfslab-ready' "$work/bpftrace.jsonl" 2>/dev/null; then ready=1; break; fi
  kill -0 "$tracer" 2>/dev/null || break
  sleep 0.1
done`;
}

/**
 * The capture script. Arguments: $1 = duration limit in seconds (0 = until the workload exits),
 * $2… = the workload's argv. Output: JSON lines only (see the module comment); exit 0 when the capture
 * worked, whatever the workload's exit code (that is in the end record).
 */
export function captureScript(options: CaptureScriptOptions): string {
  if (options.program.includes(PROGRAM_DELIMITER)) throw new Error('program contains the heredoc delimiter');
  return `set -u
duration="$1"; shift
work=$(mktemp -d /tmp/zfslab-fingerprint.XXXXXX) || exit 90
launcher=
tracer=
tetra_pid=
guard=
cleanup() { [ -n "$guard" ] && kill -KILL "$guard" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
# Stopped (a timeout, a cancel, a hangup): the workload's group and the tracers go first.
trap '[ -n "$launcher" ] && kill -KILL -- "-$launcher" 2>/dev/null; [ -n "$tracer" ] && kill -KILL "$tracer" 2>/dev/null; [ -n "$tetra_pid" ] && kill -KILL "$tetra_pid" 2>/dev/null; exit 143' TERM INT HUP
${TRACER_HELPERS}
b64tail() { tail -c "$2" "$1" 2>/dev/null | base64 -w0; }
cat > "$work/capture.bt" <<'${PROGRAM_DELIMITER}'
${options.program}
${PROGRAM_DELIMITER}
mkfifo "$work/go"
# The launcher blocks on the FIFO until bpftrace is attached, then execs the workload in place: its pid,
# passed to bpftrace as $1, becomes the root of the traced tree at that execve. setsid gives the tree its
# own process group so a duration limit can stop all of it; $pdeath makes it die with this script.
setsid $pdeath sh -c 'read -r _ < "$0"; exec "$@"' "$work/go" "$@" < /dev/null > "$work/workload.log" 2>&1 &
launcher=$!
# The workload dies with this script ($pdeath), but what it started would live on in its group: a guard
# in a session of its own hears this script's death (pdeathsig TERM, even after a SIGKILL) and kills
# that group. The normal end kills the guard first (cleanup).
if [ -n "$pdeath" ]; then
  setsid setpriv --pdeathsig=TERM -- sh -c 'trap "kill -KILL -$0 2>/dev/null; exit 0" TERM; while :; do sleep 1; done' "$launcher" < /dev/null > /dev/null 2>&1 &
  guard=$!
fi
# Wait until the launcher is the shell blocked on the gate (setsid has exec'd it), so bpftrace attaches to a quiet launcher.
for _ in $(seq 1 100); do
  [ "$(cat "/proc/$launcher/comm" 2>/dev/null)" = sh ] && [ "$(cat "/proc/$launcher/wchan" 2>/dev/null)" != 0 ] && break
  sleep 0.05
done
${startTracers('"$launcher"', options)}
if [ "$ready" != 1 ]; then
  kill -KILL -- "-$launcher" 2>/dev/null
  stop_pid "$tracer" 2>/dev/null; tracer_code=$stopped_code
  [ -n "$tetra_pid" ] && stop_pid "$tetra_pid" 2>/dev/null
  printf '{"type":"zfslab","data":{"event":"attach_failed","bpftrace_exit":%s,"bpftrace_stderr_b64":"%s"}}\\n' "$tracer_code" "$(b64tail "$work/bpftrace.err" 8000)"
  exit 0
fi
started=$(date +%s%6N)
printf '{"type":"zfslab","data":{"event":"start","launcher_pid":%s,"started_us":%s,"cwd_b64":"%s"}}\\n' "$launcher" "$started" "$(pwd | tr -d '\\n' | base64 -w0)"
timer=
if [ "$duration" != 0 ]; then
  ( sleep "$duration"; touch "$work/timed-out"; kill -TERM -- "-$launcher" 2>/dev/null; sleep 5; kill -KILL -- "-$launcher" 2>/dev/null ) &
  timer=$!
fi
# Opened read-write, the FIFO never blocks this script, even when the launcher is already gone.
echo go 1<> "$work/go"
wait "$launcher"; workload_code=$?
ended=$(date +%s%6N)
[ -n "$timer" ] && kill "$timer" 2>/dev/null
stopped_by=exit
[ -e "$work/timed-out" ] && stopped_by=duration
# Let bpftrace drain its perf buffers before it prints the maps and exits.
sleep 0.5
stop_pid "$tracer"; tracer_code=$stopped_code
tetra_code=null
if [ -n "$tetra_pid" ]; then stop_pid "$tetra_pid"; tetra_code=$stopped_code; fi
cat "$work/bpftrace.jsonl"
[ -n "$tetra_pid" ] && cat "$work/tetragon.jsonl"
printf '{"type":"zfslab","data":{"event":"end","exit_code":%s,"started_us":%s,"ended_us":%s,"stopped_by":"%s","bpftrace_exit":%s,"tetra_exit":%s,"bpftrace_stderr_b64":"%s","workload_log_b64":"%s"}}\\n' \\
  "$workload_code" "$started" "$ended" "$stopped_by" "$tracer_code" "$tetra_code" "$(b64tail "$work/bpftrace.err" 8000)" "$(b64tail "$work/workload.log" 65536)"
exit 0
`;
}

/**
 * The follow-mode capture script: attaches bpftrace (program built with root mode `exec`), prints a
 * `ready` record at once (the caller starts the workload then) and touches the ready file ($2, if not
 * empty: another process on the target, e.g. the ZTS activity's shell, can wait for it), and stops when
 * the followed root exits, the duration limit ($1 seconds, 0 = none) passes, or the script is killed.
 * Same output otherwise.
 */
export function followScript(options: CaptureScriptOptions): string {
  if (options.program.includes(PROGRAM_DELIMITER)) throw new Error('program contains the heredoc delimiter');
  return `set -u
duration="$1"
ready_file="\${2:-}"
work=$(mktemp -d /tmp/zfslab-fingerprint.XXXXXX) || exit 90
tracer=
tetra_pid=
stop_tracers() {
  [ -n "$tracer" ] && kill -INT "$tracer" 2>/dev/null
  [ -n "$tetra_pid" ] && kill -INT "$tetra_pid" 2>/dev/null
}
# Killed (the run was cancelled): stop the tracers (bounded), then leave.
trap 'stop_tracers; [ -n "$tracer" ] && stop_pid "$tracer"; [ -n "$tetra_pid" ] && stop_pid "$tetra_pid"; exit 143' TERM INT HUP
trap 'rm -rf "$work"; [ -n "$ready_file" ] && rm -f "$ready_file"' EXIT
${TRACER_HELPERS}
b64tail() { tail -c "$2" "$1" 2>/dev/null | base64 -w0; }
cat > "$work/capture.bt" <<'${PROGRAM_DELIMITER}'
${options.program}
${PROGRAM_DELIMITER}
${startTracers('0', options)}
if [ "$ready" != 1 ]; then
  stop_pid "$tracer" 2>/dev/null; tracer_code=$stopped_code
  [ -n "$tetra_pid" ] && stop_pid "$tetra_pid" 2>/dev/null
  printf '{"type":"zfslab","data":{"event":"attach_failed","bpftrace_exit":%s,"bpftrace_stderr_b64":"%s"}}\\n' "$tracer_code" "$(b64tail "$work/bpftrace.err" 8000)"
  exit 0
fi
started=$(date +%s%6N)
printf '{"type":"zfslab","data":{"event":"ready"}}\\n'
[ -n "$ready_file" ] && touch "$ready_file"
printf '{"type":"zfslab","data":{"event":"start","launcher_pid":0,"started_us":%s,"cwd_b64":""}}\\n' "$started" > "$work/start.json"
stopped_by=exit
deadline=0
[ "$duration" != 0 ] && deadline=$(( $(date +%s) + duration ))
while ! grep -q 'root-exit' "$work/bpftrace.jsonl" 2>/dev/null; do
  if ! kill -0 "$tracer" 2>/dev/null; then break; fi
  if [ "$deadline" != 0 ] && [ "$(date +%s)" -ge "$deadline" ]; then stopped_by=duration; break; fi
  sleep 0.5
done
ended=$(date +%s%6N)
sleep 0.5
stop_pid "$tracer"; tracer_code=$stopped_code
tetra_code=null
if [ -n "$tetra_pid" ]; then stop_pid "$tetra_pid"; tetra_code=$stopped_code; fi
cat "$work/start.json" "$work/bpftrace.jsonl"
[ -n "$tetra_pid" ] && cat "$work/tetragon.jsonl"
printf '{"type":"zfslab","data":{"event":"end","exit_code":-1,"started_us":%s,"ended_us":%s,"stopped_by":"%s","bpftrace_exit":%s,"tetra_exit":%s,"bpftrace_stderr_b64":"%s","workload_log_b64":""}}\\n' \\
  "$started" "$ended" "$stopped_by" "$tracer_code" "$tetra_code" "$(b64tail "$work/bpftrace.err" 8000)"
exit 0
`;
}

/**
 * The records the capture script itself prints (`{"type":"zfslab","data":…}`), plus the `plan` record
 * the capture activity writes first into a raw capture file, so that a replay knows what was captured.
 */
export const CaptureMetaSchema = z.discriminatedUnion('event', [
  z.object({
    event: z.literal('plan'),
    workload: z.string(),
    captured_at: z.string(),
    sources: z.partialRecord(SectionNameSchema, CaptureSourceSchema),
    coverage: z.record(SectionNameSchema, SectionCoverageSchema),
    zfs_ioctl_table: z.enum(ZFS_IOCTL_VERSIONS),
    backends: z.array(CaptureSourceSchema),
    kernel: z.string(),
    arch: z.string(),
  }),
  z.object({ event: z.literal('start'), launcher_pid: z.number().int(), started_us: z.number(), cwd_b64: z.string() }),
  z.object({
    event: z.literal('end'),
    exit_code: z.number().int(),
    started_us: z.number(),
    ended_us: z.number(),
    stopped_by: z.enum(['exit', 'duration']),
    bpftrace_exit: z.number().int(),
    tetra_exit: z.number().int().nullable(),
    bpftrace_stderr_b64: z.string(),
    workload_log_b64: z.string(),
  }),
  z.object({ event: z.literal('attach_failed'), bpftrace_exit: z.number().int(), bpftrace_stderr_b64: z.string() }),
  z.object({ event: z.literal('ready') }),
]);
export type CaptureMeta = z.infer<typeof CaptureMetaSchema>;
