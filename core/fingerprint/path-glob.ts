import { posix } from 'node:path';

/**
 * Turns concrete paths into the few glob patterns a fingerprint keeps (`/var/tmp/zfs-test-vdevs/disk*.img`,
 * `/var/tmp/test_results/**`). Three steps:
 *   1. per path, what always changes between runs becomes `*`: all-digit components (pids), digit runs
 *      of 4 or more (timestamps, sizes), uuids, long hex (hashes), mktemp-style random tokens;
 *   2. per directory, siblings that differ only in their digits merge (`disk1.img`, `disk2.img` →
 *      `disk*.img`) while a lone `x86_64` or `python3.11` stays as it is;
 *   3. a directory with many distinct children becomes `dir/**`, and the set is kept under a size bound.
 * `*` matches within one component, `**` matches any number of components.
 */

/** Resolves `path` against `cwd` (when relative and known) and normalises `.`, `..` and `//`. */
export function resolvePath(path: string, cwd: string | undefined): string {
  if (path.startsWith('/')) return posix.normalize(path);
  if (cwd === undefined) return posix.normalize('./' + path).replace(/^(?!\.\/)/, './');
  return posix.normalize(posix.join(cwd, path));
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const HEX_RUN = /(?<![0-9a-z])[0-9a-f]{12,}(?![0-9a-z])/gi;
const ALNUM_RUN = /[A-Za-z0-9]{6,}/g;

/** One path component with its always-varying parts replaced by `*` (step 1). */
export function componentPattern(component: string): string {
  if (component === '' || component === '.' || component === '..' || component === '**') return component;
  if (/^\d+$/.test(component)) return '*';
  let out = component.replace(UUID, '*').replace(HEX_RUN, '*');
  out = out.replace(ALNUM_RUN, (run) => (looksRandom(run) ? '*' : run));
  out = out.replace(/\d{4,}/g, '*');
  return out.replace(/\*+/g, '*');
}

/** mktemp-style tokens: mixed case, or letters and digits interleaved. Words and version numbers are not random. */
function looksRandom(run: string): boolean {
  let caseChanges = 0;
  let kindChanges = 0;
  for (let i = 1; i < run.length; i++) {
    const a = run[i - 1] as string;
    const b = run[i] as string;
    const aDigit = a >= '0' && a <= '9';
    const bDigit = b >= '0' && b <= '9';
    if (aDigit !== bDigit) kindChanges++;
    else if (!aDigit && a >= 'a' !== b >= 'a') caseChanges++;
  }
  return caseChanges >= 2 || kindChanges >= 3 || (caseChanges >= 1 && kindChanges >= 2);
}

/** A normalised path as a pattern, component by component. Paths cut at the capture's string limit end in `*`. */
export function pathPattern(path: string, truncated = false): string {
  const pattern = path
    .split('/')
    .map((c) => componentPattern(c))
    .join('/');
  return truncated ? pattern.replace(/[^/]*$/, (last) => (last.endsWith('*') ? last : last + '*')) : pattern;
}

/**
 * Step 2: within each directory, components that are equal once their digits are `*` merge when more
 * than one of them was seen. Applied from the root down, so merged directories merge their subtrees.
 */
export function mergeDigitSiblings(patterns: Iterable<string>): Set<string> {
  let current = [...new Set(patterns)].map((p) => p.split('/'));
  const maxDepth = Math.max(0, ...current.map((parts) => parts.length));
  for (let depth = 1; depth < maxDepth; depth++) {
    const groups = new Map<string, Set<string>>();
    for (const parts of current) {
      if (parts.length <= depth) continue;
      const key = `${parts.slice(0, depth).join('/')}\u0000${(parts[depth] as string).replace(/\d+/g, '*').replace(/\*+/g, '*')}`;
      let members = groups.get(key);
      if (!members) groups.set(key, (members = new Set()));
      members.add(parts[depth] as string);
    }
    current = current.map((parts) => {
      if (parts.length <= depth) return parts;
      const normalised = (parts[depth] as string).replace(/\d+/g, '*').replace(/\*+/g, '*');
      const members = groups.get(`${parts.slice(0, depth).join('/')}\u0000${normalised}`);
      if (!members || members.size < 2) return parts;
      const copy = [...parts];
      copy[depth] = normalised;
      return copy;
    });
  }
  return new Set(current.map((parts) => parts.join('/')));
}

export interface CollapseOptions {
  /** A directory with more distinct child patterns than this becomes `dir/**`. */
  maxChildren: number;
  /** Collapse deeper directories until at most this many patterns remain. */
  maxPatterns: number;
}

export const DEFAULT_COLLAPSE: CollapseOptions = { maxChildren: 16, maxPatterns: 200 };

/**
 * Steps 2 and 3: merges digit siblings, then a directory whose distinct children exceed `maxChildren`
 * becomes `dir/**` (deepest first), then, while over `maxPatterns`, the directory holding the most
 * patterns is collapsed. Returns the patterns sorted.
 */
export function collapsePatterns(patterns: Iterable<string>, options: CollapseOptions = DEFAULT_COLLAPSE): string[] {
  let set = mergeDigitSiblings(patterns);
  for (;;) {
    const children = childrenByDir(set);
    const crowded = [...children.entries()].filter(([, kids]) => kids.size > options.maxChildren).sort((a, b) => depth(b[0]) - depth(a[0]));
    if (crowded.length > 0) {
      set = collapseDir(set, (crowded[0] as [string, Set<string>])[0]);
      continue;
    }
    if (set.size <= options.maxPatterns) break;
    const biggest = [...children.entries()].filter(([dir]) => dir !== '' && dir !== '/').sort((a, b) => b[1].size - a[1].size || depth(b[0]) - depth(a[0]))[0];
    if (!biggest || biggest[1].size <= 1) {
      // Only distinct top-level entries remain; collapse the deepest pattern's parent instead.
      const deepest = [...set].sort((a, b) => depth(b) - depth(a))[0];
      const parent = deepest === undefined ? undefined : posix.dirname(deepest);
      if (parent === undefined || parent === '/' || parent === '.') break;
      set = collapseDir(set, parent);
      continue;
    }
    set = collapseDir(set, biggest[0]);
  }
  return [...set].sort();
}

function depth(path: string): number {
  return path.split('/').length;
}

function childrenByDir(set: ReadonlySet<string>): Map<string, Set<string>> {
  const children = new Map<string, Set<string>>();
  for (const pattern of set) {
    const parts = pattern.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/') || '/';
      if (parts[i - 1] === '**') break;
      let kids = children.get(dir);
      if (!kids) children.set(dir, (kids = new Set()));
      kids.add(parts[i] as string);
    }
  }
  return children;
}

function collapseDir(set: ReadonlySet<string>, dir: string): Set<string> {
  const prefix = dir === '/' ? '/' : dir + '/';
  const out = new Set<string>();
  for (const pattern of set) out.add(pattern.startsWith(prefix) ? prefix + '**' : pattern);
  return out;
}

/** A glob pattern as a RegExp over paths: `*` within a component, `**` across components. */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += '[^/]*';
    else source += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/**
 * True when every path `pattern` stands for is also matched by one of `baseline` (approximately: the
 * pattern's own text, wildcards included, must match a baseline glob). `/a/x*.log` is covered by
 * `/a/**`; `/a/**` is not covered by `/a/x*.log`.
 */
export function isCoveredBy(pattern: string, baseline: readonly string[]): boolean {
  return baseline.some((b) => b === pattern || globToRegExp(b).test(pattern));
}
