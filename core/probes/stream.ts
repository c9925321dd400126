import type { HistBucket } from '../fingerprint/events.js';
import { parseBpftraceJsonLine } from '../fingerprint/bpftrace-output.js';
import { parseNamedKstat, parseSplSlabAllocBytes, parseTxgs, type TxgRow } from './kstat.js';
import { KSTAT_END, KSTAT_FILE, KSTAT_SAMPLE, ZIO_WINDOW } from './scripts.js';

/**
 * The probes' two output streams, cut into records. Every line carries the time it reached the host
 * (`atMs`): the runner's result lines are stamped on the same clock, which is what attributes a record
 * to the test that ran when it arrived (a guest's own clock may be off, a restored clone's by hours).
 * The raw form kept in S3 is one `<atMs>\t<line>` per line, and parses back to the same records.
 */
export interface StampedLine {
  atMs: number;
  text: string;
}

export interface KstatSample {
  atMs: number;
  arc?: Map<string, number>;
  /** Per pool, the txgs kstat rows. */
  txgs: Map<string, TxgRow[]>;
  slabAllocBytes?: number;
}

export interface ZioWindow {
  atMs: number;
  /** Per zio type, log2 buckets of lifetimes in ns. */
  histograms: Map<string, HistBucket[]>;
}

/** Splits arriving text into stamped lines, keeping a partial last line until its end comes. */
export class LineStamper {
  private pending = '';
  readonly lines: StampedLine[] = [];

  push(chunk: string, atMs: number): StampedLine[] {
    const parts = (this.pending + chunk).split('\n');
    this.pending = parts.pop() ?? '';
    const out = parts.map((text) => ({ atMs, text }));
    this.lines.push(...out);
    return out;
  }

  end(atMs: number): StampedLine[] {
    if (this.pending === '') return [];
    const out = [{ atMs, text: this.pending }];
    this.pending = '';
    this.lines.push(...out);
    return out;
  }
}

export function renderStamped(lines: readonly StampedLine[]): string {
  return lines.map((l) => `${l.atMs}\t${l.text}\n`).join('');
}

export function parseStamped(text: string): StampedLine[] {
  const out: StampedLine[] = [];
  for (const line of text.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab <= 0) continue;
    const atMs = Number(line.slice(0, tab));
    if (Number.isFinite(atMs)) out.push({ atMs, text: line.slice(tab + 1) });
  }
  return out;
}

/** Incremental: feed lines as they come, get each sample once its end marker arrived. */
export class KstatStreamParser {
  private current: { files: { name: string; arg?: string; lines: string[] }[] } | undefined;

  push(line: StampedLine): KstatSample | undefined {
    const text = line.text;
    if (text.startsWith(KSTAT_SAMPLE)) {
      this.current = { files: [] };
      return undefined;
    }
    if (!this.current) return undefined;
    if (text.startsWith(KSTAT_FILE + ' ')) {
      const [name, arg] = text
        .slice(KSTAT_FILE.length + 1)
        .trim()
        .split(/\s+/);
      this.current.files.push({ name: name ?? '', ...(arg ? { arg } : {}), lines: [] });
      return undefined;
    }
    if (text === KSTAT_END) {
      const sample = toSample(this.current.files, line.atMs);
      this.current = undefined;
      return sample;
    }
    this.current.files[this.current.files.length - 1]?.lines.push(text);
    return undefined;
  }
}

function toSample(files: { name: string; arg?: string; lines: string[] }[], atMs: number): KstatSample {
  const sample: KstatSample = { atMs, txgs: new Map() };
  for (const file of files) {
    const body = file.lines.join('\n');
    if (file.name === 'arcstats') {
      const arc = parseNamedKstat(body);
      if (arc.size > 0) sample.arc = arc;
    } else if (file.name === 'txgs' && file.arg) sample.txgs.set(file.arg, parseTxgs(body));
    else if (file.name === 'slab') {
      const bytes = parseSplSlabAllocBytes(body);
      if (bytes !== undefined) sample.slabAllocBytes = bytes;
    }
  }
  return sample;
}

/** Incremental: bpftrace's `-f json` lines; a window ends when the next marker (or the end) comes. */
export class ZioStreamParser {
  private current: ZioWindow | undefined;
  attached = false;
  /** Lines that were not bpftrace JSON (a warning on stdout, a cut line). */
  unreadable = 0;

  /** Returns the window the line closed, if any. */
  push(line: StampedLine): ZioWindow | undefined {
    let record;
    try {
      record = parseBpftraceJsonLine(line.text);
    } catch {
      this.unreadable++;
      return undefined;
    }
    if (!record) return undefined;
    if (record.type === 'attached_probes') this.attached = true;
    else if (record.type === 'printf' && record.text.trim() === ZIO_WINDOW) {
      const closed = this.current;
      this.current = { atMs: line.atMs, histograms: new Map() };
      return closed;
    } else if (record.type === 'hist' && record.name === '@zio_ns' && this.current) {
      for (const [key, buckets] of record.histograms) if (key !== undefined) this.current.histograms.set(key, buckets);
    }
    return undefined;
  }

  end(): ZioWindow | undefined {
    const closed = this.current;
    this.current = undefined;
    return closed;
  }
}

export function parseKstatStream(lines: readonly StampedLine[]): KstatSample[] {
  const parser = new KstatStreamParser();
  return lines.map((l) => parser.push(l)).filter((s): s is KstatSample => s !== undefined);
}

export function parseZioStream(lines: readonly StampedLine[]): ZioWindow[] {
  const parser = new ZioStreamParser();
  const windows = lines.map((l) => parser.push(l)).filter((w): w is ZioWindow => w !== undefined);
  const last = parser.end();
  return last ? [...windows, last] : windows;
}
