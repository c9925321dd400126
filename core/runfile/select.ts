import { z } from 'zod';
import { UsageError } from '../errors.js';
import { nearestMatches } from '../text/edit-distance.js';
import type { SectionPick } from './compose.js';
import { composeRunfile } from './compose.js';
import { DEFAULT_SECTION, RunfileDocumentSchema } from './document.js';
import type { RunfileDocument } from './document.js';
import { newSection, setOption } from './edit.js';
import { baseName, idFromPath, shortId } from './ids.js';
import { resolveRunfiles } from './resolve.js';
import type { ResolvedSection } from './resolve.js';
import { FAULT_TAGS, SuiteSchema } from './suites.js';
import type { Suite } from './suites.js';

/** The runfiles installed with one flavor's OpenZFS (`/usr/share/zfs/runfiles/*.run`), parsed. */
export const RunfileCatalogSchema = z.strictObject({
  sanity: RunfileDocumentSchema,
  common: RunfileDocumentSchema,
  linux: RunfileDocumentSchema,
});
export type RunfileCatalog = z.infer<typeof RunfileCatalogSchema>;

/**
 * What to run, as the CLI takes it. `suite` names the runfiles searched (default `linux`, i.e. the full
 * common + linux set); at most one of `run` (one test), `groups` (groups or tests) and `tags` narrows it.
 * Test names may be given as `functional/<dir>/<test>`, the path after `functional/`, any tail of it
 * that is unique, or (for the installed layout) a path containing `/tests/`.
 */
export const SelectionSchema = z
  .strictObject({
    suite: SuiteSchema.optional(),
    run: z.string().trim().min(1).optional(),
    groups: z.array(z.string().trim().min(1)).min(1).optional(),
    tags: z.array(z.string().trim().min(1)).min(1).optional(),
  })
  .refine((s) => [s.run, s.groups, s.tags].filter((v) => v !== undefined).length <= 1, {
    message: 'give at most one of a test (--run), groups (--group) and tags (--tags)',
  })
  .refine((s) => s.suite !== undefined || s.run !== undefined || s.groups !== undefined || s.tags !== undefined, {
    message: 'nothing selected: give a suite, a test (--run), groups (--group) or tags (--tags)',
  });
export type Selection = z.infer<typeof SelectionSchema>;

/** A name that matches nothing; `nearest` holds the closest known names (edit distance), best first. */
export class UnknownSelectionError extends UsageError {
  constructor(
    readonly what: 'test' | 'group or test' | 'tag',
    readonly input: string,
    readonly searched: string,
    readonly nearest: readonly string[],
  ) {
    super(`unknown ${what} "${input}" in ${searched}${nearest.length ? `; nearest: ${nearest.join(', ')}` : ''}`);
  }
}

/** A short name that fits more than one test or group. */
export class AmbiguousSelectionError extends UsageError {
  constructor(
    readonly what: 'test' | 'group',
    readonly input: string,
    readonly candidates: readonly string[],
  ) {
    super(`"${input}" names more than one ${what}: ${candidates.slice(0, 8).join(', ')}${candidates.length > 8 ? ', …' : ''}`);
  }
}

export function suiteDocuments(catalog: RunfileCatalog, suite: Suite): RunfileDocument[] {
  return suite === 'quick' ? [catalog.sanity] : [catalog.common, catalog.linux];
}

/**
 * Resolves a selection against one flavor's runfiles into a single runfile with only the selected
 * groups and tests; each kept group keeps its pre/post/failsafe, users, timeout and tags.
 * Throws UsageError (UnknownSelectionError, AmbiguousSelectionError) for a name that fits nothing or
 * more than one thing.
 */
export function selectRunfile(catalog: RunfileCatalog, selection: Selection): RunfileDocument {
  const parsed = SelectionSchema.safeParse(selection);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((issue) => issue.message).join('; '));
  const wanted = parsed.data;
  const suite = wanted.suite ?? 'linux';
  const docs = suiteDocuments(catalog, suite);
  const searched = docs.map((doc) => doc.source).join(' + ') + (suite === 'fault' ? ' (fault-tagged groups)' : '');
  let universe = resolveRunfiles(docs).sections;
  if (suite === 'fault') universe = universe.filter((s) => s.tags.some((tag) => FAULT_TAGS.includes(tag)));

  let picks: SectionPick[];
  let label: string;
  if (wanted.run !== undefined) {
    picks = [pickTest(universe, wanted.run, searched, 'test')];
    label = `--run ${wanted.run}`;
  } else if (wanted.groups !== undefined) {
    picks = pickGroupsOrTests(universe, wanted.groups, searched);
    label = `--group ${wanted.groups.join(',')}`;
  } else if (wanted.tags !== undefined) {
    picks = pickTags(universe, wanted.tags, searched);
    label = `--tags ${wanted.tags.join(',')}`;
  } else {
    picks = universe.map((s) => ({ section: s.section }));
    label = 'all';
  }
  return composeRunfile(docs, picks, `suite ${suite}, ${label}`);
}

/**
 * What is left of a runfile after the given tests finished: each group keeps its unfinished tests and
 * its pre/post (so setup runs again before them), emptied groups are dropped. Used to resume a run
 * after a crash. Ids are test ids as in core/results (`functional/atime/atime_001_pos`); a test listed
 * in two sections (upstream lists mmap_sync_001_pos in both common.run and linux.run) counts as
 * finished in both once it finished in one.
 */
export function remainingRunfile(doc: RunfileDocument, finishedTestIds: Iterable<string>): RunfileDocument {
  const finished = new Set(finishedTestIds);
  const picks: SectionPick[] = [];
  for (const section of resolveRunfiles([doc]).sections) {
    const left = section.tests.filter((_, i) => !finished.has(section.testIds[i] as string));
    if (left.length === 0) continue;
    picks.push(section.kind === 'group' ? { section: section.section, tests: left } : { section: section.section });
  }
  return composeRunfile([doc], picks, doc.source);
}

/**
 * The runfile with `[DEFAULT] outputdir` set. A custom runfile needs it pointing at a directory the
 * test user can write, or the runner fails before any test (2.3.9) or runs nothing and exits 0
 * (2.1.11). The runner adds a timestamped directory below it.
 */
export function withOutputDir(doc: RunfileDocument, outputDir: string): RunfileDocument {
  if (!outputDir.startsWith('/') || /[\r\n]/.test(outputDir) || outputDir.trim() !== outputDir) {
    throw new UsageError(`outputdir must be an absolute path on one line without surrounding spaces, got ${JSON.stringify(outputDir)}`);
  }
  if (doc.sections.some((section) => section.name === DEFAULT_SECTION)) return setOption(doc, DEFAULT_SECTION, 'outputdir', outputDir);
  return { ...doc, sections: [newSection(DEFAULT_SECTION, [['outputdir', outputDir]], doc.eol), ...doc.sections] };
}

/** Every test a runfile would run, in runfile order, with its section. */
export function listTests(doc: RunfileDocument | readonly RunfileDocument[]): { section: string; testId: string }[] {
  const docs = Array.isArray(doc) ? (doc as readonly RunfileDocument[]) : [doc as RunfileDocument];
  return resolveRunfiles(docs).sections.flatMap((s) => s.testIds.map((testId) => ({ section: s.section, testId })));
}

function normalizeName(input: string): string {
  const trimmed = input.trim().replace(/\.(ksh|sh)$/, '');
  if (trimmed.startsWith('tests/') || trimmed.includes('/tests/')) return idFromPath(trimmed);
  return trimmed.replace(/^\/+/, '').replace(/\/+$/, '');
}

function fitsId(id: string, query: string): boolean {
  return id === query || id.endsWith(`/${query}`);
}

function findTest(universe: readonly ResolvedSection[], input: string): SectionPick | 'none' | string[] {
  const query = normalizeName(input);
  const ids = new Set<string>();
  let first: SectionPick | undefined;
  for (const section of universe) {
    section.testIds.forEach((testId, i) => {
      if (!fitsId(testId, query)) return;
      ids.add(testId);
      first ??= section.kind === 'group' ? { section: section.section, tests: [section.tests[i] as string] } : { section: section.section };
    });
  }
  if (ids.size === 0 || !first) return 'none';
  if (ids.size > 1) return [...ids].map(shortId).sort();
  return first;
}

function pickTest(universe: readonly ResolvedSection[], input: string, searched: string, what: 'test'): SectionPick {
  const found = findTest(universe, input);
  if (found === 'none') throw new UnknownSelectionError(what, input, searched, nearestTests(universe, normalizeName(input)));
  if (Array.isArray(found)) throw new AmbiguousSelectionError('test', input, found);
  return found;
}

function pickGroupsOrTests(universe: readonly ResolvedSection[], inputs: readonly string[], searched: string): SectionPick[] {
  const whole = new Set<string>();
  const someTests = new Map<string, Set<string>>();
  for (const input of inputs) {
    const query = normalizeName(input);
    const groups = matchGroups(universe, query);
    if (groups === 'ambiguous') {
      const candidates = [...new Set(universe.filter((s) => s.kind === 'group' && fitsId(s.groupId, query)).map((s) => shortId(s.groupId)))];
      throw new AmbiguousSelectionError('group', input, candidates.sort());
    }
    if (groups.length > 0) {
      for (const section of groups) whole.add(section.section);
      continue;
    }
    const test = findTest(universe, input);
    if (Array.isArray(test)) throw new AmbiguousSelectionError('test', input, test);
    if (test === 'none') {
      const spellings = [...groupCandidates(universe), ...testCandidates(universe)];
      throw new UnknownSelectionError('group or test', input, searched, nearestMatches(query, spellings));
    }
    const tests = someTests.get(test.section) ?? new Set<string>();
    for (const name of test.tests ?? []) tests.add(name);
    someTests.set(test.section, tests);
  }
  const picks: SectionPick[] = [];
  for (const section of universe) {
    if (whole.has(section.section)) picks.push({ section: section.section });
    else if (someTests.has(section.section)) {
      const keep = someTests.get(section.section) as Set<string>;
      picks.push(section.kind === 'group' ? { section: section.section, tests: section.tests.filter((t) => keep.has(t)) } : { section: section.section });
    }
  }
  return picks;
}

/**
 * Sections of the one group a name fits (`zpool_create`, `cli_root/zpool_create`, `functional/…`);
 * a group split over common.run and linux.run (`atime` and `atime:Linux`) gives both. A directory
 * above groups (`cli_root`, `acl`) gives every group below it.
 */
function matchGroups(universe: readonly ResolvedSection[], query: string): ResolvedSection[] | 'ambiguous' {
  const groups = universe.filter((s) => s.kind === 'group');
  const exact = new Set(groups.filter((s) => fitsId(s.groupId, query)).map((s) => s.groupId));
  if (exact.size > 1) return 'ambiguous';
  if (exact.size === 1) {
    const [id] = exact;
    return groups.filter((s) => s.groupId === id);
  }
  const directories = new Set<string>();
  for (const s of groups) {
    const parts = s.groupId.split('/');
    for (let n = 1; n < parts.length; n++) {
      const dir = parts.slice(0, n).join('/');
      if (fitsId(dir, query)) directories.add(dir);
    }
  }
  if (directories.size > 1) return 'ambiguous';
  const [dir] = directories;
  return dir === undefined ? [] : groups.filter((s) => s.groupId.startsWith(`${dir}/`));
}

function pickTags(universe: readonly ResolvedSection[], tags: readonly string[], searched: string): SectionPick[] {
  const known = new Set(universe.flatMap((s) => s.tags));
  for (const tag of tags) {
    if (!known.has(tag)) {
      const nearest = nearestMatches(
        tag,
        [...known].map((label) => ({ label, spellings: [label] })),
      );
      throw new UnknownSelectionError('tag', tag, searched, nearest);
    }
  }
  // test-runner.py runs a group when its tags and the wanted tags share one.
  return universe.filter((s) => s.tags.some((tag) => tags.includes(tag))).map((s) => ({ section: s.section }));
}

function testCandidates(universe: readonly ResolvedSection[]): { label: string; spellings: string[] }[] {
  return universe.flatMap((s) => s.testIds.map((id) => ({ label: shortId(id), spellings: [id, shortId(id), baseName(id)] })));
}

function groupCandidates(universe: readonly ResolvedSection[]): { label: string; spellings: string[] }[] {
  return universe
    .filter((s) => s.kind === 'group')
    .map((s) => ({ label: shortId(s.groupId), spellings: [s.groupId, shortId(s.groupId), baseName(s.groupId)] }));
}

function nearestTests(universe: readonly ResolvedSection[], query: string): string[] {
  return nearestMatches(query, testCandidates(universe));
}
