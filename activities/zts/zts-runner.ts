import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { runCommand } from '../../lib/exec/run-command.js';
import { createLogger, type Logger } from '../../lib/log.js';

/**
 * OpenZFS's test runner (`test-runner.py`, pure Python) as Debian's `zfs-test` package ships it, for
 * hosts that run the ZTS natively without having ZFS (or its test package) installed.
 *
 * The package lives in Debian's `contrib`, which a host's apt sources often lack, and newer releases
 * live in other suites (bookworm 2.1.11, bookworm-backports 2.3.2, trixie 2.3.9, trixie-backports 2.4.4).
 * So apt is pointed at a private sources list, list cache and archive cache under the tools dir (the
 * host's apt configuration is never changed) and only `apt-get download` + `dpkg-deb -x` are used:
 * nothing gets installed. The result, `<toolsDir>/zts/<version>/`, holds the package's whole tree
 * (`usr/share/zfs/test-runner/bin/test-runner.py`, `zts-report.py`, the runfiles and the suite).
 */

export const ZTS_PACKAGE = 'zfs-test';
export const RUNNER_IN_PACKAGE = 'usr/share/zfs/test-runner/bin/test-runner.py';
const MARKER = '.zfslab-zts.json';
const DEFAULT_MIRROR = 'http://deb.debian.org/debian';
const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

const MarkerSchema = z.object({
  package: z.literal(ZTS_PACKAGE),
  packageVersion: z.string(),
  version: z.string(),
  suite: z.string(),
  mirror: z.string(),
  extractedAt: z.string(),
});
type Marker = z.infer<typeof MarkerSchema>;

export interface ZtsRunner {
  /** `<root>/usr/share/zfs/test-runner/bin/test-runner.py` */
  runnerPath: string;
  /** Upstream OpenZFS version, e.g. `2.1.11`. */
  version: string;
  /** Debian package version, e.g. `2.1.11-1+deb12u1`. */
  packageVersion: string;
  suite: string;
  /** `<toolsDir>/zts/<version>`: the unpacked package. */
  root: string;
  /** False when it was already there. */
  downloaded: boolean;
}

export interface EnsureZtsRunnerOptions {
  toolsDir: string;
  /** Debian suite to take `zfs-test` from. Default: this host's codename (`bookworm`). */
  suite?: string;
  /** Upstream (`2.3.2`) or exact package version; default: the suite's newest. */
  version?: string;
  /** Debian mirror; default: the host's own Debian mirror from its apt sources, else deb.debian.org. */
  mirror?: string;
  log?: Logger;
}

/** Makes sure a `test-runner.py` is unpacked under the tools dir and returns where. Idempotent. */
export async function ensureZtsRunner(options: EnsureZtsRunnerOptions): Promise<ZtsRunner> {
  const log = options.log ?? createLogger('zts-runner');
  const suite = options.suite ?? hostCodename();
  const ztsDir = join(resolve(options.toolsDir), 'zts');
  const have = findExtracted(ztsDir, suite, options.version);
  if (have) return have;
  // Two workers (or activities) asking at once would fight over apt's private lock; take turns.
  return withDirLock(join(ztsDir, '.lock'), async () => {
    return findExtracted(ztsDir, suite, options.version) ?? (await fetchAndUnpack(ztsDir, suite, options, log));
  });
}

async function fetchAndUnpack(ztsDir: string, suite: string, options: EnsureZtsRunnerOptions, log: Logger): Promise<ZtsRunner> {
  const mirror = options.mirror ?? hostDebianMirror() ?? DEFAULT_MIRROR;
  const apt = privateApt(join(ztsDir, 'apt'), mirror, suite);
  log.info({ suite, mirror }, 'fetching the zfs-test package list (private apt config; host sources untouched)');
  await run('apt-get', [...apt.options, '-q', 'update']);
  const { stdout } = await run('apt-cache', [...apt.options, 'madison', ZTS_PACKAGE]);
  const packageVersion = pickVersion(parseMadison(stdout), suite, options.version);
  if (!packageVersion) {
    throw new Error(`no ${ZTS_PACKAGE}${options.version ? ` ${options.version}` : ''} in ${mirror} ${suite}/contrib`);
  }
  const version = upstreamVersion(packageVersion);
  const root = join(ztsDir, version);
  const already = readMarker(root);
  if (already?.packageVersion === packageVersion && existsSync(join(root, RUNNER_IN_PACKAGE))) {
    return toRunner(root, already, false);
  }

  const debDir = join(ztsDir, 'apt', 'debs');
  mkdirSync(debDir, { recursive: true });
  log.info({ packageVersion, suite }, `downloading ${ZTS_PACKAGE}`);
  await run('apt-get', [...apt.options, '-q', 'download', `${ZTS_PACKAGE}=${packageVersion}`], { cwd: debDir });
  const deb = readdirSync(debDir).find((f) => f.startsWith(`${ZTS_PACKAGE}_`) && f.endsWith('.deb') && debVersion(f) === packageVersion);
  if (!deb) throw new Error(`apt-get download left no ${ZTS_PACKAGE} ${packageVersion} .deb in ${debDir}`);

  // Unpack beside the final place and rename, so a crash never leaves a half tree that looks complete.
  const staging = `${root}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  await run('dpkg-deb', ['-x', join(debDir, deb), staging]);
  if (!existsSync(join(staging, RUNNER_IN_PACKAGE))) throw new Error(`${deb} holds no ${RUNNER_IN_PACKAGE}`);
  const marker: Marker = { package: ZTS_PACKAGE, packageVersion, version, suite, mirror, extractedAt: new Date().toISOString() };
  writeFileSync(join(staging, MARKER), JSON.stringify(marker, null, 2) + '\n');
  rmSync(root, { recursive: true, force: true });
  renameSync(staging, root);
  rmSync(join(debDir, deb), { force: true });
  log.info({ root, version, packageVersion }, `${ZTS_PACKAGE} unpacked`);
  return toRunner(root, marker, true);
}

/** Runs `work` while holding a lock directory (with the holder's pid inside; a dead holder's lock is taken over). */
async function withDirLock<T>(lockDir: string, work: () => Promise<T>, timeoutMs = 600_000): Promise<T> {
  mkdirSync(dirname(lockDir), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(join(lockDir, 'pid'), { encoding: 'utf8', flag: 'a+' }));
      if (holder > 0 && !existsSync(`/proc/${holder}`)) {
        rmSync(lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${lockDir} is held by pid ${holder || '?'} for too long`);
      await sleep(200);
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/** apt options that use only files under `dir`: its own sources list, lists, archives; no dpkg status. */
export function privateApt(dir: string, mirror: string, suite: string): { options: string[]; sourcesList: string } {
  for (const sub of ['lists/partial', 'cache/archives/partial', 'sources.list.d']) mkdirSync(join(dir, sub), { recursive: true });
  const sourcesList = join(dir, 'sources.list');
  const signedBy = existsSync(DEBIAN_KEYRING) ? ` [signed-by=${DEBIAN_KEYRING}]` : '';
  writeFileSync(sourcesList, `deb${signedBy} ${mirror} ${suite} contrib\n`);
  return {
    sourcesList,
    options: [
      '-o',
      `Dir::Etc::SourceList=${sourcesList}`,
      '-o',
      `Dir::Etc::SourceParts=${join(dir, 'sources.list.d')}`,
      '-o',
      `Dir::State::Lists=${join(dir, 'lists')}`,
      '-o',
      `Dir::Cache=${join(dir, 'cache')}`,
      '-o',
      'Dir::State::Status=/dev/null',
      // apt drops to the _apt user for downloads; it cannot write into our tools dir.
      '-o',
      'APT::Sandbox::User=root',
    ],
  };
}

export interface MadisonRow {
  version: string;
  /** e.g. `bookworm-backports/contrib` */
  suite: string;
}

/** `apt-cache madison` rows: `  zfs-test | 2.3.2-2~bpo12+2 | http://deb.debian.org/debian bookworm-backports/contrib amd64 Packages`. */
export function parseMadison(text: string): MadisonRow[] {
  const rows: MadisonRow[] = [];
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 3 || cells[0] !== ZTS_PACKAGE) continue;
    const where = cells[2]!.split(/\s+/);
    rows.push({ version: cells[1]!, suite: where[1] ?? '' });
  }
  return rows;
}

/** The wanted version in that suite: exact package version, upstream version, or (none asked) the first listed. */
export function pickVersion(rows: readonly MadisonRow[], suite: string, wanted?: string): string | undefined {
  const inSuite = rows.filter((r) => r.suite.split('/')[0] === suite);
  if (!wanted) return inSuite[0]?.version;
  return inSuite.find((r) => r.version === wanted || upstreamVersion(r.version) === wanted)?.version;
}

/** `2.1.11-1+deb12u1` → `2.1.11`; `1:2.3.2-2~bpo12+2` → `2.3.2`. */
export function upstreamVersion(packageVersion: string): string {
  return packageVersion.replace(/^\d+:/, '').replace(/-[^-]*$/, '');
}

/** The first Debian (not -security) mirror URI in the host's apt sources, one-line or deb822 format. */
export function parseDebianMirror(sources: readonly string[]): string | undefined {
  for (const text of sources) {
    for (const line of text.split('\n')) {
      const deb822 = /^URIs:\s*(\S+)/.exec(line.trim());
      const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+\S+/.exec(line.trim());
      const uri = deb822?.[1] ?? oneLine?.[1];
      if (uri && /\/debian\/?$/.test(uri)) return uri.replace(/\/$/, '');
    }
  }
  return undefined;
}

function hostDebianMirror(): string | undefined {
  const files = ['/etc/apt/sources.list'];
  if (existsSync('/etc/apt/sources.list.d')) {
    for (const f of readdirSync('/etc/apt/sources.list.d')) if (/\.(list|sources)$/.test(f)) files.push(join('/etc/apt/sources.list.d', f));
  }
  return parseDebianMirror(files.filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8')));
}

function hostCodename(): string {
  const osRelease = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
  const codename = /^VERSION_CODENAME=(\S+)/m.exec(osRelease)?.[1]?.replace(/"/g, '');
  if (!codename) throw new Error('cannot tell this host Debian suite from /etc/os-release; pass a suite (e.g. bookworm)');
  return codename;
}

function findExtracted(ztsDir: string, suite: string, wanted: string | undefined): ZtsRunner | undefined {
  if (!existsSync(ztsDir)) return undefined;
  for (const name of readdirSync(ztsDir).sort().reverse()) {
    const root = join(ztsDir, name);
    const marker = readMarker(root);
    if (!marker || marker.suite !== suite || !existsSync(join(root, RUNNER_IN_PACKAGE))) continue;
    if (wanted && marker.packageVersion !== wanted && marker.version !== wanted) continue;
    return toRunner(root, marker, false);
  }
  return undefined;
}

function readMarker(root: string): Marker | undefined {
  try {
    return MarkerSchema.parse(JSON.parse(readFileSync(join(root, MARKER), 'utf8')));
  } catch {
    return undefined;
  }
}

function toRunner(root: string, marker: Marker, downloaded: boolean): ZtsRunner {
  return {
    runnerPath: join(root, RUNNER_IN_PACKAGE),
    version: marker.version,
    packageVersion: marker.packageVersion,
    suite: marker.suite,
    root,
    downloaded,
  };
}

/** `zfs-test_2.3.2-2~bpo12+2_amd64.deb` → `2.3.2-2~bpo12+2` (apt writes an epoch's ':' as `%3a`). */
function debVersion(file: string): string {
  return decodeURIComponent(file.split('_')[1] ?? '');
}

/** A mirror that stops answering must not hold a run forever. */
const RUN_TIMEOUT_MS = 15 * 60_000;

/** apt's own messages in English (parsed: madison), the whole output kept (package lists are long). */
async function run(command: string, args: string[], options: { cwd?: string } = {}): Promise<{ stdout: string; stderr: string }> {
  const { stdout, stderr } = await runCommand(command, args, {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    maxCapture: 16 * 1024 * 1024,
    timeoutMs: RUN_TIMEOUT_MS,
    env: { ...process.env, LC_ALL: 'C' },
  });
  return { stdout, stderr };
}
