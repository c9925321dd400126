import { createReadStream } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { CaptureStreamDecoder } from '../../core/fingerprint/capture-stream.js';
import type { CaptureEvent } from '../../core/fingerprint/events.js';
import { NEWEST_ZFS_IOCTL_VERSION, zfsIoctlVersionFor, type ZfsIoctlVersion } from '../../core/fingerprint/ioctl-names.js';
import { LineSplitter } from '../../core/fingerprint/line-splitter.js';
import { parseFingerprint, SECTION_NAMES, type Fingerprint, type SectionCoverage, type SectionName } from '../../core/fingerprint/schema.js';
import { FingerprintSummariser } from '../../core/fingerprint/summarise.js';
import { TetragonDecoder } from '../../core/fingerprint/tetragon-events.js';
import { TolerancesSchema, type Tolerances } from '../../core/fingerprint/tolerances.js';
import { UsageError } from '../../lib/errors.js';

/** Reads and validates a fingerprint file; every problem becomes a UsageError naming the file (exit 2). */
export async function readFingerprintFile(path: string): Promise<Fingerprint> {
  const json = await readJson(path, 'fingerprint');
  const parsed = parseFingerprint(json);
  if (!parsed.ok) throw new UsageError(`${path} is not a valid fingerprint:\n  ${parsed.issues.slice(0, 10).join('\n  ')}`);
  return parsed.value;
}

export async function readTolerancesFile(path: string): Promise<Tolerances> {
  const parsed = TolerancesSchema.safeParse(await readJson(path, 'tolerances'));
  if (!parsed.success) {
    throw new UsageError(`${path} is not a valid tolerances file:\n  ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ')}`);
  }
  return parsed.data;
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${what} file ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path} is not JSON: ${(err as Error).message}`);
  }
}

/** Writes JSON atomically (temp file + rename), so a reader never sees half a fingerprint. */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, JSON.stringify(value, null, 2) + '\n');
  await rename(temp, path);
}

/** Streams a text file line by line, holding one chunk and one partial line at a time. */
export async function forEachLine(path: string, onLine: (line: string) => void): Promise<void> {
  const splitter = new LineSplitter(onLine);
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  for await (const chunk of stream) splitter.push(chunk as string);
  splitter.end();
}

export interface SummariseFileOptions {
  /** Name for the workload; a raw capture's own name is used when empty. */
  workload: string;
  /** OpenZFS version for ioctl names (default: the newest table). */
  zfsVersion?: string;
  /** Keep only this process tree (Tetragon logs; a raw capture knows its own root). */
  rootPid?: number;
}

/**
 * Summarises a saved event stream: a raw capture (`fingerprint capture --raw`, replayed exactly as it
 * was summarised live) or a Tetragon JSON log (`tetra getevents -o json`, the agent's export file).
 * Memory stays flat whatever the file size: lines are decoded and folded into counts one by one.
 */
export async function summariseEventFile(path: string, options: SummariseFileOptions): Promise<Fingerprint> {
  const firstLine = await readFirstLine(path);
  if (firstLine === undefined) throw new UsageError(`${path} is empty`);
  const zfsTable = options.zfsVersion ? (zfsIoctlVersionFor(options.zfsVersion) ?? NEWEST_ZFS_IOCTL_VERSION) : NEWEST_ZFS_IOCTL_VERSION;
  if (firstLine.startsWith('{"type":"zfslab"')) return summariseRawCapture(path, options, zfsTable);
  return summariseTetragonLog(path, options, zfsTable);
}

async function readFirstLine(path: string): Promise<string | undefined> {
  const stream = createReadStream(path, { encoding: 'utf8', start: 0, end: 65_535 });
  let text = '';
  for await (const chunk of stream) text += chunk as string;
  const line = text.split('\n').find((l) => l.trim() !== '');
  return line;
}

async function summariseRawCapture(path: string, options: SummariseFileOptions, zfsTable: ZfsIoctlVersion): Promise<Fingerprint> {
  let summariser: FingerprintSummariser | undefined;
  const decoder = new CaptureStreamDecoder((cwd) => summariser?.setInitialCwd(cwd));
  await forEachLine(path, (line) => {
    const events = decodeOrThrow(() => decoder.line(line), path);
    if (!summariser) {
      const plan = decoder.plan;
      if (!plan) throw new UsageError(`${path}: a raw capture must start with its plan record (written by zfslab fingerprint capture --raw)`);
      summariser = new FingerprintSummariser({ zfsIoctlTable: options.zfsVersion ? zfsTable : plan.zfs_ioctl_table, sources: plan.sources });
    }
    for (const event of events) summariser.add(event);
  });
  const plan = decoder.plan;
  const end = decoder.end;
  if (!summariser || !plan) throw new UsageError(`${path}: no plan record`);
  if (!end) throw new UsageError(`${path}: the raw capture has no end record (the capture did not finish)`);
  return summariser.finish({
    workload: options.workload || plan.workload,
    capturedAt: plan.captured_at,
    durationSeconds: (end.ended_us - end.started_us) / 1e6,
    coverage: plan.coverage as Record<SectionName, SectionCoverage>,
    backends: plan.backends,
    stoppedBy: 'replay',
    exitCode: end.exit_code,
    kernel: plan.kernel,
    arch: plan.arch,
  });
}

/** Which event kinds prove that a Tetragon stream could fill a section. */
const TETRAGON_FEEDS: Record<Exclude<SectionName, 'kfunc_latency_p99_us'>, (e: CaptureEvent) => boolean> = {
  syscalls: (e) => e.kind === 'syscall',
  binaries_spawned: (e) => e.kind === 'exec',
  ioctl_codes: (e) => e.kind === 'ioctl',
  network_destinations: (e) => e.kind === 'connect',
  filesystem_paths_modified: (e) => e.kind === 'path' && e.modifies,
  filesystem_paths_read: (e) => e.kind === 'path' && !e.modifies,
};

async function summariseTetragonLog(path: string, options: SummariseFileOptions, zfsTable: ZfsIoctlVersion): Promise<Fingerprint> {
  const sources = Object.fromEntries(Object.keys(TETRAGON_FEEDS).map((s) => [s, 'tetragon'])) as Partial<Record<SectionName, 'tetragon'>>;
  const summariser = new FingerprintSummariser({ zfsIoctlTable: zfsTable, sources });
  const decoder = new TetragonDecoder(options.rootPid === undefined ? {} : { rootPid: options.rootPid });
  const seen = new Set<SectionName>();
  const feeds = Object.entries(TETRAGON_FEEDS) as [SectionName, (e: CaptureEvent) => boolean][];
  await forEachLine(path, (line) => {
    for (const event of decodeOrThrow(() => decoder.decodeLine(line), path)) {
      summariser.add(event);
      if (seen.size < feeds.length) for (const [section, feeds_] of feeds) if (feeds_(event)) seen.add(section);
    }
  });
  const coverage = Object.fromEntries(
    SECTION_NAMES.map((section): [SectionName, SectionCoverage] => {
      if (section === 'kfunc_latency_p99_us') return [section, { status: 'not_captured', reason: 'Tetragon events carry no function latency' }];
      return [
        section,
        seen.has(section)
          ? { status: 'captured', source: 'tetragon', note: 'as far as the loaded TracingPolicies hook it' }
          : { status: 'not_captured', reason: 'no such events in the Tetragon stream (no loaded TracingPolicy hooks them)' },
      ];
    }),
  ) as Record<SectionName, SectionCoverage>;
  const first = decoder.firstTimeMs;
  const last = decoder.lastTimeMs;
  return summariser.finish({
    workload: options.workload || path,
    capturedAt: new Date(first ?? 0).toISOString(),
    durationSeconds: first === undefined || last === undefined ? 0 : (last - first) / 1000,
    coverage,
    backends: ['tetragon'],
    stoppedBy: 'replay',
    exitCode: null,
  });
}

function decodeOrThrow(decode: () => CaptureEvent[], path: string): CaptureEvent[] {
  try {
    return decode();
  } catch (err) {
    throw new UsageError(`${path}: ${(err as Error).message}`);
  }
}
