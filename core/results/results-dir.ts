/**
 * Maps the files of one test-runner result directory (`/var/tmp/test_results/<YYYYMMDDTHHMMSS>/`) to
 * the scripts they belong to. Pure: it gets relative paths (from a directory listing, a tarball or an
 * S3 prefix) and the test ids of the run's results, and touches nothing.
 *
 * Where the runner puts a script's `stdout`/`stderr`/`merged` (and `kmemleak`) files
 * (TestRun.complete_outputdirs, openzfs/zfs tests/test-runner/bin/test-runner.py.in):
 * - before 2.3.3 (`flat`): `<shortest unique suffix of the runfile section>/<test>/`, e.g. `off/posixmode/`;
 * - from 2.3.3 (`output-tree`): `output/<section with the leading components common to all sections
 *   cut>/<test>/`, e.g. `output/acl/off/posixmode/`.
 * Either way the directory is a path suffix of the section (`tests/functional/acl/off`, with any
 * `:Linux` identifier kept in the directory name) plus the script's name. A group's setup and cleanup
 * are `<group dir>/setup/` and `<group dir>/cleanup/`; a failsafe run after a KILLED test writes under
 * `<test dir>/<failsafe name>/`. Scripts that printed nothing (e.g. tests skipped after a failed
 * setup) have no directory at all; `merged` exists only when both stdout and stderr had lines.
 */

export type ResultsDirLayout = 'flat' | 'output-tree';

export const SCRIPT_OUTPUT_FILES = ['stdout', 'stderr', 'merged', 'kmemleak'] as const;
export type ScriptOutputFile = (typeof SCRIPT_OUTPUT_FILES)[number];

/** Relative paths (inside the result directory) of one script's output files. */
export type ScriptFiles = Partial<Record<ScriptOutputFile, string>> & {
  /** Output of scripts run on this script's behalf (the failsafe after a kill), by their name. */
  nested?: Record<string, Partial<Record<ScriptOutputFile, string>>>;
};

export interface ResultsDirMap {
  layout: ResultsDirLayout;
  /** `log`: every result line with the scripts' timestamped output. */
  log?: string;
  /** `results`: written by zfs-tests.sh (runner stdout + zts-report), or by our chunk runner. */
  results?: string;
  /** Keyed by test id (`functional/acl/off/posixmode`). */
  byTest: Record<string, ScriptFiles>;
  /** Files that belong to no known script. */
  unmatched: string[];
}

export function mapResultsDir(relativePaths: readonly string[], testIds: readonly string[]): ResultsDirMap {
  const paths = relativePaths.map((p) => p.replace(/^\.\//, '').replace(/\/+$/, '')).filter((p) => p.length > 0);
  const layout: ResultsDirLayout = paths.some((p) => p.startsWith('output/')) ? 'output-tree' : 'flat';
  const map: ResultsDirMap = { layout, byTest: {}, unmatched: [] };
  const candidates = testIds.map((id) => ({ id, parts: id.split('/') }));

  for (const path of paths) {
    if (path === 'log') {
      map.log = path;
      continue;
    }
    if (path === 'results') {
      map.results = path;
      continue;
    }
    const inner = layout === 'output-tree' ? path.replace(/^output\//, '') : path;
    const parts = inner.split('/');
    const file = parts.pop() as ScriptOutputFile;
    if (!(SCRIPT_OUTPUT_FILES as readonly string[]).includes(file) || parts.length === 0) {
      map.unmatched.push(path);
      continue;
    }
    const dir = parts.map(stripIdentifier);
    const own = findBySuffix(candidates, dir);
    if (own) {
      (map.byTest[own] ??= {})[file] = path;
      continue;
    }
    // One level deeper than a script's own directory: a failsafe (or another helper) run for it.
    const parent = dir.length > 1 ? findBySuffix(candidates, dir.slice(0, -1)) : undefined;
    if (parent) {
      const entry = (map.byTest[parent] ??= {});
      ((entry.nested ??= {})[dir[dir.length - 1]!] ??= {})[file] = path;
      continue;
    }
    map.unmatched.push(path);
  }
  return map;
}

/** `posix:Linux` → `posix`: runfile sections carry the identifier, test ids do not. */
function stripIdentifier(component: string): string {
  const colon = component.indexOf(':');
  return colon > 0 ? component.slice(0, colon) : component;
}

/** The one test id whose trailing path components equal `dir`; the longest id wins a tie. */
function findBySuffix(candidates: readonly { id: string; parts: string[] }[], dir: readonly string[]): string | undefined {
  let best: { id: string; parts: string[] } | undefined;
  for (const candidate of candidates) {
    if (candidate.parts.length < dir.length) continue;
    const offset = candidate.parts.length - dir.length;
    if (dir.every((d, i) => candidate.parts[offset + i] === d)) {
      if (!best || candidate.parts.length > best.parts.length) best = candidate;
    }
  }
  return best?.id;
}
