import { DEFAULT_SECTION } from './document.js';
import type { RunfileDocument } from './document.js';
import { RunfileSyntaxError } from './errors.js';
import { baseName, dirName, idFromPath, splitSectionName, testIdOf } from './ids.js';
import { parsePythonStringList, PythonListError } from './python-list.js';

/**
 * What test-runner.py's TestRun.read() makes of one or more runfiles read together
 * (`config.read([common.run, linux.run])`): `[DEFAULT]` options merged, later files overriding earlier
 * ones; a section named in two files merged the same way; a section with a `tests` option (its own or
 * inherited from DEFAULT) is a TestGroup, any other a single Test; each property is the section's own
 * value, else DEFAULT's, else the runner's built-in default; `tests` and `tags` are Python lists.
 *
 * Paths stay as written (`setup`, `callbacks/zfs_failsafe`): making them absolute is the runner's job
 * on the guest. Upstream passes the runfiles as a Python set, so the order they are read in is not
 * defined there; here it is the order given. Upstream's runfiles never set one option in two files.
 */
export interface ResolvedSettings {
  pre: string;
  preUser: string;
  post: string;
  postUser: string;
  failsafe: string;
  failsafeUser: string;
  user: string;
  timeoutSeconds: number;
  tags: string[];
}

export interface ResolvedSection extends ResolvedSettings {
  /** A TestGroup (a directory with `tests`), or a section naming one test script. */
  kind: 'group' | 'test';
  /** The section header text, unique in a read set. */
  section: string;
  path: string;
  identifier: string | undefined;
  /** `functional/atime` (for a single-test section: its directory). */
  groupId: string;
  /** Script names as listed (a single-test section: its own base name). */
  tests: string[];
  /** Ids of the tests, in order (`functional/atime/atime_001_pos`). */
  testIds: string[];
}

export interface ResolvedRunfile {
  /** The merged `[DEFAULT]` options as configparser holds them (raw strings). */
  defaults: Record<string, string>;
  /** Options of each section after merging, in first-appearance order (raw strings, without DEFAULT's). */
  sectionOptions: { section: string; options: Record<string, string> }[];
  sections: ResolvedSection[];
}

/** TestRun.defaults in test-runner.py. */
const RUNNER_DEFAULTS: ResolvedSettings = {
  pre: '',
  preUser: '',
  post: '',
  postUser: '',
  failsafe: '',
  failsafeUser: '',
  user: '',
  timeoutSeconds: 60,
  tags: [],
};

export function mergeRunfiles(docs: readonly RunfileDocument[]): Pick<ResolvedRunfile, 'defaults' | 'sectionOptions'> {
  const defaults: Record<string, string> = {};
  const merged = new Map<string, Record<string, string>>();
  for (const doc of docs) {
    for (const section of doc.sections) {
      let target: Record<string, string>;
      if (section.name === DEFAULT_SECTION) target = defaults;
      else {
        target = merged.get(section.name) ?? {};
        merged.set(section.name, target);
      }
      for (const entry of section.entries) if (entry.kind === 'option') target[entry.name] = entry.value;
    }
  }
  return { defaults, sectionOptions: [...merged].map(([section, options]) => ({ section, options })) };
}

export function resolveRunfiles(docs: readonly RunfileDocument[]): ResolvedRunfile {
  const { defaults, sectionOptions } = mergeRunfiles(docs);
  const sourceOf = (section: string): string =>
    docs
      .filter((doc) => doc.sections.some((s) => s.name === section))
      .map((doc) => doc.source)
      .join('+');
  const sections = sectionOptions.map(({ section, options }) => {
    const get = (name: string): string | undefined => options[name] ?? defaults[name];
    const where = `${sourceOf(section)} [${section}]`;
    const settings: ResolvedSettings = {
      pre: get('pre') ?? RUNNER_DEFAULTS.pre,
      preUser: get('pre_user') ?? RUNNER_DEFAULTS.preUser,
      post: get('post') ?? RUNNER_DEFAULTS.post,
      postUser: get('post_user') ?? RUNNER_DEFAULTS.postUser,
      failsafe: get('failsafe') ?? RUNNER_DEFAULTS.failsafe,
      failsafeUser: get('failsafe_user') ?? RUNNER_DEFAULTS.failsafeUser,
      user: get('user') ?? RUNNER_DEFAULTS.user,
      timeoutSeconds: parseTimeout(get('timeout'), where),
      tags: parseList(get('tags'), 'tags', where) ?? RUNNER_DEFAULTS.tags,
    };
    const { path, identifier } = splitSectionName(section);
    const testsValue = get('tests');
    if (testsValue !== undefined) {
      const tests = parseList(testsValue, 'tests', where) ?? [];
      const groupId = idFromPath(path);
      return {
        kind: 'group' as const,
        section,
        path,
        identifier,
        groupId,
        tests,
        testIds: tests.map((name) => testIdOf(groupId, name)),
        ...settings,
      };
    }
    const testId = idFromPath(path);
    return {
      kind: 'test' as const,
      section,
      path,
      identifier,
      groupId: dirName(testId),
      tests: [baseName(testId)],
      testIds: [testId],
      ...settings,
    };
  });
  return { defaults, sectionOptions, sections };
}

/** `int(self.timeout)` in Cmd.run. */
function parseTimeout(value: string | undefined, where: string): number {
  if (value === undefined) return RUNNER_DEFAULTS.timeoutSeconds;
  if (!/^[+-]?\d+$/.test(value.trim())) throw new RunfileSyntaxError(where, undefined, `timeout is not an integer: ${JSON.stringify(value)}`);
  return Number.parseInt(value, 10);
}

function parseList(value: string | undefined, name: string, where: string): string[] | undefined {
  if (value === undefined) return undefined;
  try {
    return parsePythonStringList(value);
  } catch (err) {
    if (err instanceof PythonListError) throw new RunfileSyntaxError(where, undefined, `${name}: ${err.message}`);
    throw err;
  }
}
