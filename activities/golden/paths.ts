import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Goldens are cached per machine, outside any clone of the repo, so that only a machine's first
 * run pays for a build: $ZFSLAB_GOLDEN_CACHE, else /var/cache/zfslab/goldens as root, else
 * ~/.cache/zfslab/goldens.
 */
export function defaultGoldenCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ZFSLAB_GOLDEN_CACHE) return env.ZFSLAB_GOLDEN_CACHE;
  if (process.getuid?.() === 0) return '/var/cache/zfslab/goldens';
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'zfslab', 'goldens');
}

/** Where clones, their vdevs, pid files, QMP sockets and serial logs live (one dir per clone). */
export function defaultCloneDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ZFSLAB_CLONE_DIR) return env.ZFSLAB_CLONE_DIR;
  if (process.getuid?.() === 0) return '/var/lib/zfslab/clones';
  return join(env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state'), 'zfslab', 'clones');
}

export interface GoldenPaths {
  /** The published, immutable golden. */
  dir: string;
  /** Work in progress; renamed into `dir` by the publish step. */
  buildDir: string;
  rootfs: string;
  stepsDir: string;
  outDir: string;
  sshDir: string;
  buildLog: string;
}

export function goldenPaths(cacheDir: string, name: string): GoldenPaths {
  const buildDir = join(cacheDir, `.build-${name}`);
  return {
    dir: join(cacheDir, name),
    buildDir,
    rootfs: join(buildDir, 'rootfs'),
    stepsDir: join(buildDir, 'steps'),
    outDir: join(buildDir, 'out'),
    sshDir: join(buildDir, 'out', 'ssh'),
    buildLog: join(buildDir, 'out', 'build.log'),
  };
}

/**
 * The Debian mirror this host's apt uses (deb822 `URIs:` or one-line `deb URL suite`), so that
 * debootstrap pulls from it directly and the host's apt sources are never touched.
 */
export function hostDebianMirror(aptDir = '/etc/apt'): string {
  const files: string[] = [];
  if (existsSync(join(aptDir, 'sources.list'))) files.push(join(aptDir, 'sources.list'));
  const listDir = join(aptDir, 'sources.list.d');
  if (existsSync(listDir)) for (const f of readdirSync(listDir).sort()) if (/\.(list|sources)$/.test(f)) files.push(join(listDir, f));
  for (const file of files) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const deb822 = /^URIs:\s*(\S+)/.exec(line);
      const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+/.exec(line);
      const url = deb822?.[1] ?? oneLine?.[1];
      if (url && /\/debian\/?$/.test(url)) return url.replace(/\/$/, '');
    }
  }
  return 'http://deb.debian.org/debian';
}
