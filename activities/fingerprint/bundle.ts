import { createWriteStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import type { Executor } from '../../lib/exec/executor.js';
import { localExecutor } from '../../lib/exec/local.js';
import { forEachLine } from './files.js';

/**
 * An incident bundle: everything needed to reconstruct what the kernel and the
 * workload were doing when a deviation fired, in one .tar.gz. Members that cannot be collected here
 * (not root, no ZFS) are listed in manifest.json with the reason instead of being silently left out.
 */
export interface BundleOptions {
  /** Where to write the tarball. */
  outPath: string;
  /** The detector's report (`fingerprint detect --json`), stored as deviations.json. */
  deviations?: unknown;
  /** A raw capture or Tetragon log; its last `lastEvents` lines are kept. */
  eventsPath?: string;
  lastEvents?: number;
  /** Processes whose kernel stacks to keep; default every task in uninterruptible sleep (D), where hangs show. */
  pids?: readonly number[];
  /** Clock (injectable for tests). */
  now?: () => Date;
  /** Where /proc is (tests point it elsewhere). */
  procRoot?: string;
  /**
   * Collect on another machine (a guest over SSH) instead of this one: every command and file read
   * goes through its executor, as root via `sudo -n` when `sudo`.
   */
  target?: BundleTarget;
  /** The target is known to be down (its kernel died): nothing is run there, each member says why. */
  unreachable?: string;
  /** The machine's serial console, kept as serial.log (a guest's, read on the host). */
  serialLog?: string;
  /** What ran and how it ended (the failing tests), kept as results.json. */
  results?: unknown;
  /** The in-guest probes' last window (their raw stamped lines, read on the host), kept as probes-tail.txt. */
  probesTail?: string;
}

export interface BundleTarget {
  exec: Pick<Executor, 'exec'>;
  sudo: boolean;
  /** For the manifest: `guest c-0123456789`. */
  name: string;
}

export interface BundleMember {
  name: string;
  bytes?: number;
  /** What was run or read. */
  source: string;
  /** Set when the member could not be collected. */
  absent?: string;
}

export interface BundleResult {
  path: string;
  createdAt: string;
  members: BundleMember[];
}

const DEFAULT_LAST_EVENTS = 10_000;
const COLLECTOR_TIMEOUT_MS = 60_000;

export async function writeIncidentBundle(options: BundleOptions): Promise<BundleResult> {
  const createdAt = (options.now ?? (() => new Date()))().toISOString();
  const proc = options.procRoot ?? '/proc';
  const members: BundleMember[] = [];
  const files: { name: string; body: Buffer }[] = [];
  const add = (name: string, source: string, body: string | Buffer | undefined, absent?: string) => {
    if (body === undefined) {
      members.push({ name, source, absent: absent ?? 'not available' });
      return;
    }
    const buffer = Buffer.isBuffer(body) ? body : Buffer.from(body);
    files.push({ name, body: buffer });
    members.push({ name, source, bytes: buffer.length });
  };

  const from = options.target;
  const command = async (file: string, args: string[]): Promise<CollectorResult> =>
    options.unreachable ? { ok: false, error: options.unreachable } : run(from, file, args);
  const readText = async (path: string): Promise<string | undefined> => {
    if (!from) return readFile(path, 'utf8').catch(() => undefined);
    const r = await command('cat', [path]);
    return r.ok ? r.stdout : undefined;
  };
  const dmesg = await command('dmesg', ['--time-format', 'iso']);
  add('dmesg.txt', 'dmesg --time-format iso', dmesg.ok ? dmesg.stdout : undefined, dmesg.error);

  const stacks = options.unreachable ? { absent: options.unreachable } : from ? await remoteStacks(from) : await collectStacks(proc, options.pids);
  add('stacks.txt', options.pids ? `${proc}/<pid>/stack of ${options.pids.join(', ')}` : `${proc}/<pid>/stack of tasks in D state`, stacks.text, stacks.absent);

  add(
    'deviations.json',
    'fingerprint detect --json',
    options.deviations === undefined ? undefined : JSON.stringify(options.deviations, null, 2) + '\n',
    'no deviation report given',
  );

  if (options.eventsPath) {
    const last = options.lastEvents ?? DEFAULT_LAST_EVENTS;
    const tail = await lastLines(options.eventsPath, last);
    add(`events-last-${last}.jsonl`, options.eventsPath, tail.text, tail.absent);
  } else add('events.jsonl', 'events file', undefined, 'no events file given');

  const zpool = await command('zpool', ['status', '-v']);
  add('zpool-status.txt', 'zpool status -v', zpool.ok ? zpool.stdout : undefined, zpool.error);
  const events = await command('zpool', ['events', '-v']);
  add('zpool-events.txt', 'zpool events -v', events.ok ? events.stdout : undefined, events.error);
  if (options.serialLog !== undefined) add('serial.log', 'the serial console, read on the host', options.serialLog);
  if (options.probesTail !== undefined)
    add('probes-tail.txt', "the probes' last records (zio windows, kstat samples), stamped on the host", options.probesTail);
  if (options.results !== undefined) add('results.json', 'the results that called for this bundle', JSON.stringify(options.results, null, 2) + '\n');
  const zfs = await command('zfs', ['list', '-o', 'name,used,avail,refer,mountpoint']);
  add('zfs-list.txt', 'zfs list', zfs.ok ? zfs.stdout : undefined, zfs.error);
  for (const kstat of ['arcstats', 'dbufstats', 'dmu_tx']) {
    const path = `${from ? '/proc' : proc}/spl/kstat/zfs/${kstat}`;
    const text = await readText(path);
    add(`kstat/${kstat}.txt`, path, text, 'no ZFS kstats here (module not loaded)');
  }

  const manifest = {
    created_at: createdAt,
    host: from?.name ?? hostname(),
    kernel: (await readText(`${from ? '/proc' : proc}/sys/kernel/osrelease`))?.trim(),
    members,
  };
  const tar = pack();
  const writing = pipeline(tar, createGzip(), createWriteStream(options.outPath));
  const mtime = new Date(createdAt);
  tar.entry({ name: 'manifest.json', mtime }, JSON.stringify(manifest, null, 2) + '\n');
  for (const file of files) tar.entry({ name: file.name, mtime, size: file.body.length }, file.body);
  tar.finalize();
  await writing;
  return { path: options.outPath, createdAt, members };
}

interface CollectorResult {
  ok: boolean;
  stdout?: string;
  error?: string;
}

/** Runs a collector command here or on the target; `stdout` on success, else `error` says why not. */
async function run(target: BundleTarget | undefined, file: string, args: string[]): Promise<CollectorResult> {
  // A bundle is made when something is already wrong: a collector that hangs (zpool on a stuck pool) must not hold it.
  const argv = target?.sudo ? ['sudo', '-n', file, ...args] : [file, ...args];
  const result = await (target?.exec ?? localExecutor).exec(argv, { maxCapture: 64 * 1024 * 1024, timeoutMs: COLLECTOR_TIMEOUT_MS });
  if (result.exitCode === 0) return { ok: true, stdout: result.stdout };
  if (result.missing) return { ok: false, error: `${file} is not installed` };
  const why = result.timedOut
    ? `timed out after ${COLLECTOR_TIMEOUT_MS / 1000} s`
    : (result.stderr || result.spawnError || `exit ${result.exitCode ?? result.exitSignal}`).trim().split('\n')[0];
  return { ok: false, error: `${file} failed: ${why}` };
}

/** Kernel stacks of the target's tasks in uninterruptible sleep (D), read there as root. */
async function remoteStacks(target: BundleTarget): Promise<{ text?: string; absent?: string }> {
  const script = [
    'for p in /proc/[0-9]*; do',
    '  st=$(sed "s/.*) //" "$p/stat" 2>/dev/null | cut -d" " -f1)',
    '  [ "$st" = D ] && { echo "== ${p#/proc/} $(cat "$p/comm" 2>/dev/null)"; cat "$p/stack" 2>/dev/null; }',
    'done; true',
  ].join('\n');
  const r = await run(target, 'sh', ['-c', script]);
  if (!r.ok) return { absent: r.error };
  return { text: r.stdout?.trim() ? r.stdout : '# no task was in uninterruptible sleep (D) when the bundle was made\n' };
}

async function collectStacks(proc: string, pids: readonly number[] | undefined): Promise<{ text?: string; absent?: string }> {
  let chosen = pids ? [...pids] : [];
  if (!pids) {
    const entries = await readdir(proc).catch(() => [] as string[]);
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      const status = await readFile(`${proc}/${entry}/stat`, 'utf8').catch(() => '');
      // stat: "pid (comm) S …"; comm may contain spaces and parentheses, the state follows the last ')'.
      const state = status.slice(status.lastIndexOf(')') + 2, status.lastIndexOf(')') + 3);
      if (state === 'D') chosen.push(Number(entry));
    }
    if (chosen.length === 0) return { text: '# no task was in uninterruptible sleep (D) when the bundle was made\n' };
  }
  chosen = [...new Set(chosen)].sort((a, b) => a - b);
  const parts: string[] = [];
  let unreadable = 0;
  for (const pid of chosen) {
    const comm = (await readFile(`${proc}/${pid}/comm`, 'utf8').catch(() => '?')).trim();
    const stack = await readFile(`${proc}/${pid}/stack`, 'utf8').catch((err: NodeJS.ErrnoException) => {
      unreadable++;
      return `(unreadable: ${err.code ?? err.message})\n`;
    });
    parts.push(`== ${pid} ${comm}\n${stack}`);
  }
  if (unreadable === chosen.length && chosen.length > 0) return { absent: `no kernel stack readable (${proc}/<pid>/stack needs root)` };
  return { text: parts.join('\n') };
}

/** The last `count` lines of a file, streamed through a ring buffer (memory: `count` lines). */
async function lastLines(path: string, count: number): Promise<{ text?: string; absent?: string }> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return { absent: `cannot read ${path}` };
  const ring: string[] = new Array<string>(count);
  let seen = 0;
  await forEachLine(path, (line) => {
    if (line === '') return;
    ring[seen % count] = line;
    seen++;
  });
  const start = seen > count ? seen % count : 0;
  const kept = Math.min(seen, count);
  const lines: string[] = [];
  for (let i = 0; i < kept; i++) lines.push(ring[(start + i) % count] as string);
  return { text: lines.length > 0 ? lines.join('\n') + '\n' : '' };
}
