/**
 * /proc/kallsyms lines: `ffffffffc0a1b2c0 t zio_done\t[zfs]`. Only text symbols (t/T) can be kprobed;
 * a function the compiler inlined (arc_evict often is) has no symbol and is skipped, never guessed.
 */
export interface KernelSymbol {
  name: string;
  /** `t` local, `T` global text symbol. */
  type: string;
  /** Module the symbol lives in (`zfs`, `spl`), undefined for vmlinux. */
  module?: string;
}

export function parseKallsyms(text: string): Map<string, KernelSymbol> {
  const symbols = new Map<string, KernelSymbol>();
  for (const line of text.split('\n')) {
    const match = /^[0-9a-fA-F]+\s+([A-Za-z])\s+(\S+)(?:\s+\[(\S+)\])?\s*$/.exec(line);
    if (!match) continue;
    const type = match[1] as string;
    if (type !== 't' && type !== 'T') continue;
    const symbol: KernelSymbol = { name: match[2] as string, type };
    if (match[3] !== undefined) symbol.module = match[3];
    if (!symbols.has(symbol.name)) symbols.set(symbol.name, symbol);
  }
  return symbols;
}

/**
 * ZFS/SPL functions whose latency the fingerprint reports, when present. zio_done and
 * dsl_pool_sync are probe-able; arc_evict is static and often inlined (arc_evict_cb/arc_evict_state
 * stand in); spl_kmem_alloc is in module `spl`.
 */
export const DEFAULT_KFUNCS: readonly string[] = [
  'zio_create',
  'zio_done',
  'zio_execute',
  'dsl_pool_sync',
  'spa_sync',
  'arc_evict',
  'arc_evict_cb',
  'arc_evict_state',
  'zil_commit',
  'spl_kmem_alloc',
];

export interface KfuncSelection {
  probe: string[];
  absent: string[];
}

/** Splits the wanted functions into those /proc/kallsyms has (in the order asked) and those it lacks. */
export function selectKfuncs(wanted: readonly string[], symbols: ReadonlyMap<string, KernelSymbol>): KfuncSelection {
  const probe: string[] = [];
  const absent: string[] = [];
  for (const name of wanted) (symbols.has(name) ? probe : absent).push(name);
  return { probe, absent };
}
