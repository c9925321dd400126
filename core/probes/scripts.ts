import { ZIO_DONE, ZIO_PRIORITY_SCRUB, type ProbePlan } from './plan.js';

/** Lines that frame the probes' output so a stream can be cut into records whatever arrives when. */
export const KSTAT_SAMPLE = '@@zfslab-kstat';
export const KSTAT_FILE = '@@file';
export const KSTAT_END = '@@end';
export const ZIO_WINDOW = '@@zfslab-zio-window';

/** How often both probes report: a window of zio latencies and one kstat sample. */
export const PROBE_INTERVAL_SECONDS = 2;

/** The arcstats rows the probes read (steps.ts): the rest of the ~150 stays in the guest. */
export const ARC_FIELDS = [
  'hits',
  'misses',
  'evict_l2_cached',
  'evict_l2_eligible',
  'evict_l2_ineligible',
  'memory_throttle_count',
  'memory_direct_count',
  'memory_indirect_count',
  'memory_available_bytes',
  'size',
  'c',
  'mru_size',
  'mfu_size',
  'mru_ghost_size',
  'mfu_ghost_size',
  'anon_size',
  'uncached_size',
] as const;

/** Rows of a pool's txgs kstat sent per sample: far more txgs than commit in one interval. */
export const TXG_ROWS = 30;
/** The SPL slab table (~9 KB) is sent every this many samples. */
export const SLAB_EVERY = 5;

/**
 * The kstat sampler: every interval, the ARC's rows that are read, each imported pool's latest txgs
 * and, every few samples, the SPL slab, framed. Pools come and go with the tests (a txgs file
 * vanishes with its pool): a file that cannot be read in a sample is simply not in it.
 */
export function kstatSamplerScript(intervalSeconds = PROBE_INTERVAL_SECONDS): string {
  return [
    'k=/proc/spl/kstat/zfs',
    'n=0',
    'while :; do',
    `  echo "${KSTAT_SAMPLE} $(date +%s%3N)"`,
    `  echo "${KSTAT_FILE} arcstats"; grep -E '^(${ARC_FIELDS.join('|')}) ' $k/arcstats 2>/dev/null`,
    '  for f in $k/*/txgs; do',
    '    [ -r "$f" ] || continue',
    '    p=${f%/txgs}',
    `    echo "${KSTAT_FILE} txgs \${p##*/}"; cat "$f" 2>/dev/null | { IFS= read -r h && echo "$h"; tail -n ${TXG_ROWS}; }`,
    '  done',
    `  if [ $((n % ${SLAB_EVERY})) -eq 0 ]; then echo "${KSTAT_FILE} slab"; cat /proc/spl/kmem/slab 2>/dev/null; fi`,
    '  n=$((n + 1))',
    `  echo "${KSTAT_END}"`,
    `  sleep ${intervalSeconds}`,
    'done',
  ].join('\n');
}

/**
 * The zio latency program: each constructor's return value (the new zio) is stamped with the time and
 * its type; `zio_done` of a stamped zio adds its lifetime to `@zio_ns[type]`, a log2 histogram; every
 * interval the histograms are printed and cleared, after a marker line (so an empty window is seen
 * too). A read whose priority (the 8th argument, on the stack on x86_64: above the return address
 * and the 7th) is ZIO_PRIORITY_SCRUB is a scrub read. Run with `-f json` and line buffering.
 */
export function zioProgram(zio: NonNullable<ProbePlan['zio']>, intervalSeconds = PROBE_INTERVAL_SECONDS): string {
  const lines: string[] = [];
  for (const c of zio.constructors) {
    if (c.symbol === 'zio_read' && zio.scrubByPriority) {
      lines.push(`kprobe:zio_read { @prio[tid] = *(uint32 *)(reg("sp") + 16); }`);
      lines.push(
        `kretprobe:zio_read /retval/ { @start[retval] = nsecs; @kind[retval] = @prio[tid] == ${ZIO_PRIORITY_SCRUB} ? "scrub" : "read"; delete(@prio[tid]); }`,
      );
    } else lines.push(`kretprobe:${c.symbol} /retval/ { @start[retval] = nsecs; @kind[retval] = "${c.type}"; }`);
  }
  lines.push(`kprobe:${ZIO_DONE} /@start[arg0]/ { @zio_ns[@kind[arg0]] = hist(nsecs - @start[arg0]); delete(@start[arg0]); delete(@kind[arg0]); }`);
  lines.push(`interval:s:${intervalSeconds} { printf("${ZIO_WINDOW}\\n"); print(@zio_ns); clear(@zio_ns); }`);
  // Only the windows are wanted: the bookkeeping maps are not printed at exit.
  lines.push('END { clear(@start); clear(@kind); clear(@prio); clear(@zio_ns); }');
  return lines.join('\n') + '\n';
}

/** Zios in flight at once can exceed bpftrace's default of 4096 map keys in a busy txg. */
export const ZIO_MAX_MAP_KEYS = 65_536;

/** The shell line that runs the program (written to a file first: bpftrace reads it whole). */
export function zioCommand(program: string, path = '/var/tmp/zfslab-zio.bt'): string {
  const heredoc = 'ZFSLAB_BT';
  return [
    `cat > ${path} <<'${heredoc}'`,
    program.trimEnd(),
    heredoc,
    // Both names: bpftrace renamed the variable (BPFTRACE_MAP_KEYS_MAX before 0.21).
    `exec env BPFTRACE_MAX_MAP_KEYS=${ZIO_MAX_MAP_KEYS} BPFTRACE_MAP_KEYS_MAX=${ZIO_MAX_MAP_KEYS} bpftrace -B line -f json ${path}`,
  ].join('\n');
}
