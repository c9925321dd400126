import { z } from 'zod';

/**
 * What the in-guest probes look at while a chunk runs, and what decides whether each can. Two
 * kinds: `kstat` reads the SPL kstats (ARC, per-pool txgs, the SPL slab) and needs nothing but the
 * module; `zio` runs bpftrace on the zio constructors and `zio_done`, and needs bpftrace, tracefs
 * and those functions traceable in the running module. What cannot attach is reported as not
 * captured, never guessed.
 */
export const ProbeKindSchema = z.enum(['zio', 'kstat']);
export type ProbeKind = z.infer<typeof ProbeKindSchema>;
export const ALL_PROBES: readonly ProbeKind[] = ProbeKindSchema.options;

/** `--probes`: `all` (the default), `none`, or a comma list of kinds. */
export function parseProbesFlag(text: string): ProbeKind[] {
  const value = text.trim();
  if (value === 'all') return [...ALL_PROBES];
  if (value === 'none') return [];
  const kinds = value.split(',').map((k) => k.trim());
  const bad = kinds.filter((k) => !ProbeKindSchema.safeParse(k).success);
  if (bad.length > 0 || kinds.length === 0)
    throw new Error(
      `--probes: unknown probe kind ${bad.map((b) => JSON.stringify(b)).join(', ') || '""'}; use all, none or a list of ${ALL_PROBES.join(', ')}`,
    );
  return [...new Set(kinds as ProbeKind[])];
}

/**
 * The zio constructors: each returns the zio it made, so its return value keys the zio (the pointer,
 * not the thread: a zio is created in one thread and done in another) and its name gives the type.
 * Children made by `zio_vdev_child_io` are not counted: they are the logical zio's own I/O.
 * `zio_ioctl` exists up to 2.2; 2.3's `zio_flush` returns nothing, so flushes are not captured there.
 * `zio_free_sync` makes a zio only for frees that need one (gang, dedup); most frees make none.
 */
export const ZIO_CONSTRUCTORS = [
  { symbol: 'zio_read', type: 'read' },
  { symbol: 'zio_write', type: 'write' },
  { symbol: 'zio_rewrite', type: 'write' },
  { symbol: 'zio_free_sync', type: 'free' },
  { symbol: 'zio_claim', type: 'claim' },
  { symbol: 'zio_ioctl', type: 'ioctl' },
  { symbol: 'zio_trim', type: 'trim' },
] as const;
export const ZIO_DONE = 'zio_done';
/** `ZIO_PRIORITY_SCRUB` in `enum zio_priority` (sys/fs/zfs.h, the same value from 0.7 to 2.4): scrub and healing-resilver reads. */
export const ZIO_PRIORITY_SCRUB = 4;

export const PROBE_SYMBOLS = [...new Set([...ZIO_CONSTRUCTORS.map((c) => c.symbol), ZIO_DONE])];

/**
 * Run as root on the target before the chunk: loads the module (the runner would), mounts tracefs
 * when a fresh machine has none, and prints what the plan needs: the machine, bpftrace, the kstats,
 * and each wanted symbol found in /proc/kallsyms (`kallsyms <name>`) and in ftrace's traceable
 * functions (`traceable <name>`); a symbol in neither is simply not printed.
 */
export function preflightScript(): string {
  return [
    'modprobe zfs 2>/dev/null',
    't=/sys/kernel/tracing',
    '[ -r $t/available_filter_functions ] || mount -t tracefs nodev $t 2>/dev/null',
    'echo "arch $(uname -m)"',
    'echo "kernel $(uname -r)"',
    'if command -v bpftrace >/dev/null 2>&1; then echo "bpftrace $(bpftrace --version 2>&1 | head -n1)"; else echo "bpftrace -"; fi',
    '[ -r /proc/spl/kstat/zfs/arcstats ] && echo "arcstats 1" || echo "arcstats 0"',
    '[ -r $t/available_filter_functions ] && echo "tracefs 1" || echo "tracefs 0"',
    // One pass over each list (kallsyms has ~100k lines; a grep per symbol is slow in an emulated guest).
    '[ -d /sys/module/zfs ] || exit 0',
    `awk -v want='${PROBE_SYMBOLS.join(' ')}' 'BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) s[w[i]] = 1 } ($3 in s) { print "kallsyms", $3 }' /proc/kallsyms`,
    `[ -r $t/available_filter_functions ] && awk -v want='${PROBE_SYMBOLS.join(' ')}' 'BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) s[w[i]] = 1 } ($1 in s) { print "traceable", $1 }' $t/available_filter_functions`,
    'exit 0',
  ].join('\n');
}

export interface Preflight {
  arch: string;
  kernel: string;
  /** bpftrace's version line, undefined when it is not installed. */
  bpftrace?: string;
  arcstats: boolean;
  tracefs: boolean;
  /** Per symbol: in kallsyms, and traceable (in available_filter_functions). */
  symbols: Map<string, { kallsyms: boolean; traceable: boolean }>;
}

export function parsePreflight(text: string): Preflight {
  const out: Preflight = { arch: '', kernel: '', arcstats: false, tracefs: false, symbols: new Map() };
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    const value = rest.join(' ');
    if (key === 'arch') out.arch = value;
    else if (key === 'kernel') out.kernel = value;
    else if (key === 'bpftrace' && value !== '-' && value !== '') out.bpftrace = value.replace(/^bpftrace\s+/, '');
    else if (key === 'arcstats') out.arcstats = value === '1';
    else if (key === 'tracefs') out.tracefs = value === '1';
    else if ((key === 'kallsyms' || key === 'traceable') && rest.length === 1) {
      const symbol = rest[0] as string;
      const seen = out.symbols.get(symbol) ?? { kallsyms: false, traceable: false };
      seen[key] = true;
      out.symbols.set(symbol, seen);
    }
  }
  for (const symbol of PROBE_SYMBOLS) if (!out.symbols.has(symbol)) out.symbols.set(symbol, { kallsyms: false, traceable: false });
  return out;
}

export interface ProbePlan {
  kstat: boolean;
  /** The constructors that attach, and whether scrub reads can be told apart (priority read from the stack). */
  zio?: { constructors: { symbol: string; type: string }[]; scrubByPriority: boolean };
  /** What was asked for and cannot be captured here, with why (reported, never invented). */
  notCaptured: { probe: string; reason: string }[];
}

export function planProbes(wanted: readonly ProbeKind[], found: Preflight): ProbePlan {
  const plan: ProbePlan = { kstat: false, notCaptured: [] };
  if (wanted.includes('kstat')) {
    if (found.arcstats) plan.kstat = true;
    else plan.notCaptured.push({ probe: 'kstat', reason: 'no /proc/spl/kstat/zfs/arcstats (the zfs module is not loaded)' });
  }
  if (!wanted.includes('zio')) return plan;
  const why = (symbol: string): string | undefined => {
    const s = found.symbols.get(symbol);
    if (!s?.kallsyms) return `${symbol} is not in /proc/kallsyms`;
    if (!s.traceable) return `${symbol} is not traceable (inlined or notrace: not in available_filter_functions)`;
    return undefined;
  };
  const blocker = !found.bpftrace
    ? 'bpftrace is not installed on the target'
    : !found.tracefs
      ? 'tracefs is not mounted and could not be mounted'
      : why(ZIO_DONE);
  if (blocker) {
    plan.notCaptured.push({ probe: 'zio', reason: blocker });
    return plan;
  }
  const constructors: { symbol: string; type: string }[] = [];
  for (const c of ZIO_CONSTRUCTORS) {
    const reason = why(c.symbol);
    if (reason) plan.notCaptured.push({ probe: `zio:${c.type}:${c.symbol}`, reason });
    else constructors.push({ symbol: c.symbol, type: c.type });
  }
  if (constructors.length === 0) return plan;
  // zio_read's priority is its 8th argument: on x86_64 the 7th and later are on the stack.
  const scrubByPriority = found.arch === 'x86_64' && constructors.some((c) => c.symbol === 'zio_read');
  if (!scrubByPriority && constructors.some((c) => c.symbol === 'zio_read'))
    plan.notCaptured.push({ probe: 'zio:scrub', reason: `scrub reads are told apart only on x86_64 (this is ${found.arch}): counted as reads` });
  plan.zio = { constructors, scrubByPriority };
  return plan;
}
