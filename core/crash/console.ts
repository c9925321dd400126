import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CrashKindSchema, type CrashKind } from './mark.js';

/**
 * Reads a guest's kernel console (serial log, dmesg, or journalctl's kernel lines) for the first
 * report that means the kernel died or wedged, and names it by a signature that survives a reboot.
 *
 * The signature hashes the kind and the call trace with everything that changes from one boot to the
 * next taken out: timestamps, addresses, `+0x…/0x…` offsets (KASLR moves every address), registers,
 * CPU/PID/comm, taint flags and the module list. Frames the unwinder only guessed (`? foo`) and the
 * reporting machinery every report shares (dump_stack, panic, the syscall entry) are left out, so two
 * boots, two runs or two flavors hitting the same bug hash alike while a different bug does not.
 */
export { CrashKindSchema, type CrashKind };

export const ConsoleCrashSchema = z.object({
  kind: CrashKindSchema,
  /** The report's first line, without its timestamp. */
  headline: z.string().min(1),
  /** 16 hex digits of sha256 over the kind and the normalised call trace (or headline when there is no trace). */
  signature: z.string().regex(/^[0-9a-f]{16}$/),
  /** The normalised frames the signature covers, innermost first. */
  frames: z.array(z.string()),
  /** 1-based line of the headline in the console. */
  line: z.number().int().positive(),
  /** The report as printed: a few lines of context before the headline, through the end of its trace. */
  excerpt: z.string(),
});
export type ConsoleCrash = z.infer<typeof ConsoleCrashSchema>;

/** Headlines in the order they are tried on a line; the first that matches names the kind. */
const HEADLINES: readonly { kind: CrashKind; pattern: RegExp }[] = [
  { kind: 'soft-lockup', pattern: /\bBUG: soft lockup\b/ },
  { kind: 'hard-lockup', pattern: /\bWatchdog detected hard LOCKUP\b|\bNMI watchdog: .*hard LOCKUP/ },
  { kind: 'hung-task', pattern: /\bINFO: task \S.* blocked for more than \d+ seconds|\bblocked for more than \d+ seconds\b/ },
  { kind: 'rcu-stall', pattern: /\brcu: INFO: \S+ (?:self-)?detected (?:stalls|stall)\b/ },
  { kind: 'bug', pattern: /\bBUG: |\bkernel BUG at\b|\bVERIFY3?\w*\(.*\) failed|\bPANIC at \S+:\d+/ },
  { kind: 'oops', pattern: /\bOops(?::|\s+-)|\bgeneral protection fault\b/ },
  { kind: 'panic', pattern: /\bKernel panic - not syncing\b/ },
];

/** Reporting machinery and entry code every trace of a kind shares; they say nothing about the bug. */
const NOISE_FRAMES = new Set([
  'dump_stack',
  'dump_stack_lvl',
  'show_stack',
  'show_trace_log_lvl',
  'panic',
  'vpanic',
  'nmi_panic',
  'oops_end',
  'die',
  'die_addr',
  'do_trap',
  'do_error_trap',
  'handle_bug',
  'report_bug',
  '__warn',
  'exc_invalid_op',
  'asm_exc_invalid_op',
  'exc_general_protection',
  'asm_exc_general_protection',
  'exc_page_fault',
  'asm_exc_page_fault',
  'page_fault_oops',
  'kernelmode_fixup_or_oops',
  '__bad_area_nosemaphore',
  'bad_area_nosemaphore',
  'do_user_addr_fault',
  'do_syscall_64',
  'x64_sys_call',
  'entry_SYSCALL_64_after_hwframe',
  'entry_SYSCALL_64',
  'ret_from_fork',
  'ret_from_fork_asm',
  'srso_return_thunk',
  'srso_alias_return_thunk',
  'retbleed_return_thunk',
  'spl_dumpstack',
  // Every blocked task sleeps through these; the frames after them say what it waits for.
  '__schedule',
  'schedule',
  'schedule_preempt_disabled',
  'schedule_timeout',
  'io_schedule',
  'spl_panic',
]);

/** How many frames the signature covers: enough to tell bugs apart, few enough that a caller further out does not split them. */
const SIGNATURE_FRAMES = 8;
/** How far after the headline its call trace may start (registers, module list and taint lines come first). */
const TRACE_SEARCH_LINES = 80;
const EXCERPT_BEFORE = 5;
const EXCERPT_MAX_LINES = 200;

/** A console line without what every line carries: `\r`, `<4>` level, syslog prefix, `[ 12.345678]`, `[T123]`/`[C1]` caller ids. */
export function stripConsolePrefix(line: string): string {
  let text = line.replace(/\r/g, '');
  text = text.replace(/^.*?\bkernel: /, '');
  text = text.replace(/^<\d>/, '');
  text = text.replace(/^\[\s*\d+\.\d+\]\s?/, '');
  text = text.replace(/^\[\s*[TC]\d+\]\s?/, '');
  return text;
}

/** A frame line of a call trace (`  foo+0x1a/0x20 [zfs]`, `  ? bar+0x5/0x10`), as function (and module) or undefined. */
export function parseFrame(text: string): { name: string; guessed: boolean } | undefined {
  const m = /^\s*(\? )?([A-Za-z_][\w.$]*)\+0x[0-9a-f]+\/0x[0-9a-f]+(?:\s+\[([\w-]+)\])?/.exec(text);
  if (!m) return undefined;
  // Compiler clones (.cold, .isra.0, .constprop.0, .part.0) differ between builds of the same code.
  const fn = m[2]!.replace(/(?:\.(?:cold|isra|constprop|part|llvm|lto_priv)(?:\.\d+)?)+$/, '');
  return { name: m[3] ? `${fn} [${m[3]}]` : fn, guessed: m[1] !== undefined };
}

/** A headline with boot-specific numbers taken out: addresses, PIDs, CPUs, durations, counters. */
export function normaliseHeadline(text: string): string {
  return text
    .replace(/\b0x[0-9a-f]+\b/gi, '0x?')
    .replace(/\b[0-9a-f]{8,16}\b/gi, '?')
    .replace(/\[#\d+\]/g, '[#?]')
    .replace(/\bCPU#?\d+/g, 'CPU?')
    .replace(/(\btask \S+?):\d+/g, '$1:?')
    .replace(/\bpid:? ?\d+/gi, 'pid ?')
    .replace(/\d+(?:\.\d+)?(s|ms)?\b/g, (_, unit: string | undefined) => `?${unit ?? ''}`)
    .replace(/\s+/g, ' ')
    .trim();
}

function kindOf(text: string): CrashKind | undefined {
  return HEADLINES.find((h) => h.pattern.test(text))?.kind;
}

/** The first crash report in a console, or undefined when the kernel never reported one. */
export function findFirstCrash(consoleText: string): ConsoleCrash | undefined {
  const lines = consoleText.split('\n');
  const texts = lines.map(stripConsolePrefix);
  const start = texts.findIndex((t) => kindOf(t) !== undefined);
  if (start < 0) return undefined;
  const kind = kindOf(texts[start]!)!;
  const headline = texts[start]!.trim();

  const frames: string[] = [];
  let end = start;
  // The faulting instruction (`RIP: 0010:foo+0x12/0x40`) is the innermost frame of an Oops or BUG.
  let traceStart = -1;
  for (let i = start + 1; i < Math.min(texts.length, start + TRACE_SEARCH_LINES); i++) {
    const t = texts[i]!;
    const rip = /^RIP: [0-9a-f]{4}:(.*)$/.exec(t.trim());
    if (rip && traceStart < 0 && frames.length === 0) {
      const frame = parseFrame(rip[1]!);
      if (frame) frames.push(frame.name);
      end = i;
    }
    if (/^\s*Call Trace:/.test(t)) {
      traceStart = i;
      break;
    }
  }
  if (traceStart >= 0) {
    end = traceStart;
    for (let i = traceStart + 1; i < texts.length; i++) {
      const t = texts[i]!.trim();
      if (/^<\/?(?:TASK|IRQ|NMI|SOFTIRQ)>$/.test(t)) {
        end = i;
        if (t === '</TASK>') break;
        continue;
      }
      const frame = parseFrame(t);
      if (!frame) {
        // Registers of a user-space frame (`RIP: 0033:…`, `RSP: …`) sit inside the trace; anything else ends it.
        if (/^(?:RIP|RSP|RAX|RDX|RBP|R\d+|Code):/.test(t)) {
          end = i;
          continue;
        }
        break;
      }
      end = i;
      if (!frame.guessed && !NOISE_FRAMES.has(frame.name) && frames.length < SIGNATURE_FRAMES && frames.at(-1) !== frame.name) frames.push(frame.name);
    }
  }
  // A panic's trailer (`Kernel Offset: …`, then `---[ end … ]---`) belongs to its report when it follows
  // closely; a VM that ends at the panic (-no-reboot) often loses the `end` line from its serial log.
  for (let i = end + 1; i < Math.min(texts.length, end + 8); i++) {
    const t = texts[i]!.trim();
    if (/^Kernel Offset: /.test(t)) end = i;
    if (/^---\[ end /.test(t)) {
      end = i;
      break;
    }
  }

  const material = frames.length > 0 ? [kind, ...frames] : [kind, normaliseHeadline(headline)];
  const signature = createHash('sha256').update(material.join('\n')).digest('hex').slice(0, 16);
  const from = Math.max(0, start - EXCERPT_BEFORE);
  const to = Math.min(lines.length, end + 1, from + EXCERPT_MAX_LINES);
  const excerpt = lines
    .slice(from, to)
    .map((l) => l.replace(/\r/g, ''))
    .join('\n');
  return { kind, headline, signature, frames, line: start + 1, excerpt };
}

/** How much of the console's end an `unresponsive` crash keeps: what the guest printed last. */
const SILENT_TAIL_LINES = 60;

export const UNRESPONSIVE_HEADLINE = 'the guest stopped answering SSH and its console shows no crash report';

/**
 * The crash of a guest that went silent: no report on the console to hash, so the signature is the
 * kind's own (every silent wedge is the same "crash" until its console says more), and the excerpt is
 * the console's last lines, where a lockup without a watchdog report usually leaves its last words.
 */
export function unresponsiveCrash(consoleText: string): ConsoleCrash {
  const lines = consoleText.replace(/\r/g, '').split('\n');
  const from = Math.max(0, lines.length - SILENT_TAIL_LINES);
  const signature = createHash('sha256').update(['unresponsive', UNRESPONSIVE_HEADLINE].join('\n')).digest('hex').slice(0, 16);
  return { kind: 'unresponsive', headline: UNRESPONSIVE_HEADLINE, signature, frames: [], line: from + 1, excerpt: lines.slice(from).join('\n') };
}
