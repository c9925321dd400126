/**
 * The SPL kstats the in-guest probes sample (no eBPF needed), parsed from their real text
 * (test/fixtures/probes/, read from a debian13 guest running OpenZFS 2.3.9):
 *
 * - `/proc/spl/kstat/zfs/arcstats`: a kstat header line, then `name type data` rows;
 * - `/proc/spl/kstat/zfs/<pool>/txgs`: one row per recent txg (`zfs_txg_history` of them), columns
 *   `txg birth state ndirty nread nwritten reads writes otime qtime wtime stime`, times in ns;
 * - `/proc/spl/kmem/slab`: the SPL's slab caches, two header lines; a cache backed by the Linux slab
 *   prints `-` for its slab columns but still its allocated bytes.
 */

/** `name type data` rows as numbers (a named kstat: arcstats, zfetchstats …). Non-numeric rows are skipped. */
export function parseNamedKstat(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s+(\d+)\s+(-?\d+)\s*$/.exec(line);
    if (m) values.set(m[1] as string, Number(m[3]));
  }
  return values;
}

export interface TxgRow {
  txg: number;
  /** hrtime (ns since boot) the txg was born: with the txg number, what tells a re-created pool's txg 5 from the old one's. */
  birth: number;
  /** O open, Q quiescing, W waiting for sync, S syncing, C committed. */
  state: string;
  nwrittenBytes: number;
  writes: number;
  /** Time the txg spent syncing, in ns (0 until it synced). */
  syncNs: number;
}

/** The rows of a pool's `txgs` kstat. */
export function parseTxgs(text: string): TxgRow[] {
  const lines = text.split('\n');
  const header = lines.findIndex((l) => /^txg\s+birth\s+state\b/.test(l));
  if (header < 0) return [];
  const columns = (lines[header] as string).trim().split(/\s+/);
  const at = (name: string): number => columns.indexOf(name);
  const [iTxg, iBirth, iState, iWritten, iWrites, iSync] = ['txg', 'birth', 'state', 'nwritten', 'writes', 'stime'].map(at) as number[];
  const rows: TxgRow[] = [];
  for (const line of lines.slice(header + 1)) {
    const cells = line.trim().split(/\s+/);
    if (cells.length < columns.length || !/^\d+$/.test(cells[0] as string)) continue;
    const num = (i: number): number => (i >= 0 ? Number(cells[i]) : 0);
    rows.push({
      txg: num(iTxg as number),
      birth: num(iBirth as number),
      state: cells[iState as number] as string,
      nwrittenBytes: num(iWritten as number),
      writes: num(iWrites as number),
      syncNs: num(iSync as number),
    });
  }
  return rows;
}

/** Bytes allocated from the SPL's slab caches: the `alloc` column of `/proc/spl/kmem/slab`, summed. */
export function parseSplSlabAllocBytes(text: string): number | undefined {
  const lines = text.split('\n');
  const header = lines.findIndex((l) => /^name\s+flags\s+size\s+alloc\b/.test(l));
  if (header < 0) return undefined;
  let total = 0;
  for (const line of lines.slice(header + 1)) {
    const cells = line.trim().split(/\s+/);
    if (cells.length < 4) continue;
    if (/^\d+$/.test(cells[3] as string)) total += Number(cells[3]);
  }
  return total;
}
