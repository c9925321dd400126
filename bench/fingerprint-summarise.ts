/**
 * Summarising Tetragon-style events: zfslab vs jq doing the same reduction, on one core, side by side.
 *
 * Generates seeded event files (bench/generate-tetragon-events.ts; 300k and 3M events by default, 3M
 * being about what Tetragon emits for one sanity.run of the ZTS), then runs each summariser under `/usr/bin/time -v taskset -c 0`:
 *   ours: node dist/bench/fingerprint-summarise-once.js FILE 4000
 *   jq:   jq -n -c --argjson root 4000 -f bench/fingerprint-summarise.jq FILE
 * and checks that both reductions agree (syscall, binary, ioctl and destination counts; the path sets
 * once jq's paths go through the same pattern rules). Prints a Markdown table.
 *
 *   npx tsc -p . && node dist/bench/fingerprint-summarise.js [--sizes 300000,3000000] [--dir /tmp/x] [--keep]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collapsePatterns, pathPattern } from '../core/fingerprint/path-glob.js';
import type { Fingerprint } from '../core/fingerprint/schema.js';
import { syscallName } from '../core/fingerprint/syscall-table.js';
import { projectRoot } from '../lib/paths.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const sizes = (option('--sizes') ?? '300000,3000000').split(',').map(Number);
const dir = option('--dir') ?? mkdtempSync(join(tmpdir(), 'zfslab-bench-fp-'));
mkdirSync(dir, { recursive: true });
const ROOT = 4000;

interface Measured {
  wallSeconds: number;
  userSeconds: number;
  systemSeconds: number;
  maxRssKiB: number;
  stdout: string;
}

function timed(command: string[]): Measured {
  const result = spawnSync('/usr/bin/time', ['-v', 'taskset', '-c', '0', ...command], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (result.status !== 0) throw new Error(`${command.join(' ')} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  const field = (label: string) => {
    const line = result.stderr.split('\n').find((l) => l.trim().startsWith(label));
    if (!line) throw new Error(`no "${label}" in /usr/bin/time output`);
    return line.slice(line.lastIndexOf(': ') + 2).trim();
  };
  const wall = field('Elapsed (wall clock) time').split(':').map(Number);
  const wallSeconds = wall.reduce((acc, part) => acc * 60 + part, 0);
  return {
    wallSeconds,
    userSeconds: Number(field('User time (seconds)')),
    systemSeconds: Number(field('System time (seconds)')),
    maxRssKiB: Number(field('Maximum resident set size (kbytes)')),
    stdout: result.stdout,
  };
}

interface JqResult {
  syscalls: Record<string, number>;
  syscall_ids: Record<string, number>;
  binaries: Record<string, number>;
  parents: Record<string, Record<string, boolean>>;
  ioctls: Record<string, number>;
  destinations: Record<string, number>;
  modified: Record<string, boolean>;
  read: Record<string, boolean>;
}

/** The differences between the two reductions (empty when they agree). */
function compare(ours: Fingerprint, jq: JqResult): string[] {
  const problems: string[] = [];
  const expectEqual = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(a) !== JSON.stringify(b)) problems.push(`${what}: zfslab ${JSON.stringify(a).slice(0, 300)} vs jq ${JSON.stringify(b).slice(0, 300)}`);
  };
  const jqSyscalls: Record<string, number> = { ...jq.syscalls };
  for (const [id, count] of Object.entries(jq.syscall_ids)) {
    const name = syscallName('x86_64', Number(id));
    jqSyscalls[name] = (jqSyscalls[name] ?? 0) + count;
  }
  const sorted = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
  expectEqual('syscalls', sorted(Object.fromEntries(Object.entries(ours.syscalls).map(([k, v]) => [k, v.count]))), sorted(jqSyscalls));
  expectEqual('binaries', sorted(Object.fromEntries(ours.binaries_spawned.map((b) => [b.path, b.count]))), sorted(jq.binaries));
  expectEqual(
    'parents',
    Object.fromEntries(ours.binaries_spawned.map((b) => [b.path, b.parents]).sort()),
    Object.fromEntries(
      Object.entries(jq.parents)
        .map(([b, p]) => [b, Object.keys(p).sort()])
        .sort(),
    ),
  );
  expectEqual(
    'ioctls',
    sorted(Object.fromEntries(Object.entries(ours.ioctl_codes).map(([hex, v]) => [String(parseInt(hex, 16)), v.count]))),
    sorted(jq.ioctls),
  );
  expectEqual('destinations', sorted(Object.fromEntries(ours.network_destinations.map((d) => [`${d.address}:${d.port}`, d.count]))), sorted(jq.destinations));
  const modified = collapsePatterns(Object.keys(jq.modified).map((p) => pathPattern(p)));
  expectEqual('paths modified', ours.filesystem_paths_modified, modified);
  const modifiedSet = new Set(modified);
  expectEqual(
    'paths read',
    ours.filesystem_paths_read,
    collapsePatterns(
      Object.keys(jq.read)
        .map((p) => pathPattern(p))
        .filter((p) => !modifiedSet.has(p)),
    ),
  );
  return problems;
}

const rows: string[] = [];
const node = process.execPath;
const jqVersion = execFileSync('jq', ['--version'], { encoding: 'utf8' }).trim();
console.error(`node ${process.version}, ${jqVersion}, files in ${dir}`);
for (const size of sizes) {
  const file = join(dir, `events-${size}.jsonl`);
  if (!existsSync(file)) execFileSync(node, [join(projectRoot, 'dist/bench/generate-tetragon-events.js'), file, String(size), '42'], { stdio: 'inherit' });
  const megabytes = statSync(file).size / 1e6;
  console.error(`${size} events (${megabytes.toFixed(0)} MB): zfslab…`);
  const ours = timed([node, join(projectRoot, 'dist/bench/fingerprint-summarise-once.js'), file, String(ROOT)]);
  console.error(`  zfslab ${ours.wallSeconds}s wall, ${ours.userSeconds}s user, ${(ours.maxRssKiB / 1024).toFixed(0)} MiB; jq…`);
  const jq = timed(['jq', '-n', '-c', '--argjson', 'root', String(ROOT), '-f', join(projectRoot, 'bench/fingerprint-summarise.jq'), file]);
  console.error(`  jq ${jq.wallSeconds}s wall, ${jq.userSeconds}s user, ${(jq.maxRssKiB / 1024).toFixed(0)} MiB`);
  const problems = compare(JSON.parse(ours.stdout) as Fingerprint, JSON.parse(jq.stdout) as JqResult);
  const cpu = (m: Measured) => m.userSeconds + m.systemSeconds;
  rows.push(
    `| ${size.toLocaleString('en')} | ${megabytes.toFixed(0)} MB | ${ours.wallSeconds.toFixed(1)} s | ${cpu(ours).toFixed(1)} s | ${(ours.maxRssKiB / 1024).toFixed(0)} MiB | ` +
      `${jq.wallSeconds.toFixed(1)} s | ${cpu(jq).toFixed(1)} s | ${(jq.maxRssKiB / 1024).toFixed(0)} MiB | ${(cpu(jq) / cpu(ours)).toFixed(1)}× | ${problems.length === 0 ? 'yes' : 'NO'} |`,
  );
  for (const p of problems) console.error(`  MISMATCH ${p}`);
}
console.log('| events | file | zfslab wall | zfslab CPU | zfslab peak RSS | jq wall | jq CPU | jq peak RSS | CPU ratio (jq/zfslab) | same result |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
if (!args.includes('--keep') && !option('--dir')) rmSync(dir, { recursive: true, force: true });
