/**
 * Names for groups and tests, shared with the results parser (core/results/types.ts): a test's id is
 * its path after `tests/` (`functional/cli_root/zpool_create/zpool_create_001_pos`), its group's id
 * the directory (`functional/cli_root/zpool_create`). A runfile section `[tests/functional/atime:Linux]`
 * names the path `tests/functional/atime` run with the identifier `Linux` (printed as `Test (Linux):`).
 */

export interface SectionName {
  /** The directory (or, for a single-test section, the script) the section names. */
  path: string;
  /** What follows the first `:`, e.g. `Linux` or `FreeBSD`; test-runner.py prints it on each result line. */
  identifier: string | undefined;
}

/** test-runner.py: `section.split(':', 1)`. */
export function splitSectionName(section: string): SectionName {
  const colon = section.indexOf(':');
  if (colon < 0) return { path: section, identifier: undefined };
  return { path: section.slice(0, colon), identifier: section.slice(colon + 1) };
}

/** `tests/functional/atime` → `functional/atime`; an installed path keeps what follows its last `/tests/`. */
export function idFromPath(path: string): string {
  const trimmed = path.replace(/\/+$/, '').replace(/\.(ksh|sh)$/, '');
  if (trimmed.startsWith('tests/')) return trimmed.slice('tests/'.length);
  const at = trimmed.lastIndexOf('/tests/');
  return at >= 0 ? trimmed.slice(at + '/tests/'.length) : trimmed;
}

export function testIdOf(groupId: string, testName: string): string {
  return `${groupId}/${testName}`;
}

/** `functional/cli_root/zpool_create/zpool_create_001_pos` → `cli_root/zpool_create/zpool_create_001_pos`. */
export function shortId(id: string): string {
  return id.startsWith('functional/') ? id.slice('functional/'.length) : id;
}

export function baseName(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? path : path.slice(slash + 1);
}

export function dirName(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}
