import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../lib/errors.js';
import { parseRunfile } from '../../../core/runfile/parse.js';
import { renderRunfile } from '../../../core/runfile/render.js';
import { resolveRunfiles } from '../../../core/runfile/resolve.js';
import type { ResolvedSection } from '../../../core/runfile/resolve.js';
import type { RunfileDocument } from '../../../core/runfile/document.js';
import {
  AmbiguousSelectionError,
  listTests,
  remainingRunfile,
  selectRunfile,
  suiteDocuments,
  UnknownSelectionError,
  withOutputDir,
} from '../../../core/runfile/select.js';
import type { RunfileCatalog, Selection } from '../../../core/runfile/select.js';
import { FAULT_TAGS } from '../../../core/runfile/suites.js';
import { catalogOf, runfileText, TAGS } from './fixtures.js';

const catalog = catalogOf('zfs-2.4.4');

/** The selected runfile, read back from its text, as test-runner.py would see it. */
function reread(doc: RunfileDocument): ResolvedSection[] {
  return resolveRunfiles([parseRunfile(renderRunfile(doc), 'selected.run')]).sections;
}

function settings(section: ResolvedSection): Omit<ResolvedSection, 'tests' | 'testIds'> {
  const { tests: _tests, testIds: _ids, ...rest } = section;
  return rest;
}

/** Every section of a selection must run exactly as it would from the full runfiles (only fewer tests). */
function expectSettingsKept(catalogUsed: RunfileCatalog, selection: Selection, doc: RunfileDocument): void {
  const original = new Map(resolveRunfiles(suiteDocuments(catalogUsed, selection.suite === 'quick' ? 'quick' : 'linux')).sections.map((s) => [s.section, s]));
  for (const section of reread(doc)) {
    const before = original.get(section.section);
    expect(before, section.section).toBeDefined();
    expect(settings(section)).toEqual(settings(before!));
    expect(section.tests.every((t) => before!.tests.includes(t))).toBe(true);
  }
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('suites', () => {
  for (const tag of TAGS) {
    it(`${tag}: quick is sanity.run itself, byte for byte`, () => {
      const cat = catalogOf(tag);
      expect(renderRunfile(selectRunfile(cat, { suite: 'quick' }))).toBe(runfileText(tag, 'sanity'));
    });
    it(`${tag}: linux is common.run + linux.run in one runfile that reads the same`, () => {
      const cat = catalogOf(tag);
      const doc = selectRunfile(cat, { suite: 'linux' });
      const full = resolveRunfiles([cat.common, cat.linux]);
      const got = reread(doc);
      expect(got).toEqual(full.sections);
      // The common part is copied as written: the composed text starts with common.run itself.
      expect(renderRunfile(doc).startsWith(runfileText(tag, 'common').trimEnd())).toBe(true);
    });
  }

  it('fault keeps only groups carrying a fault tag, from both common.run and linux.run', () => {
    const doc = selectRunfile(catalog, { suite: 'fault' });
    const sections = reread(doc);
    expect(sections.every((s) => s.tags.some((t) => FAULT_TAGS.includes(t)))).toBe(true);
    const names = sections.map((s) => s.section);
    expect(names).toEqual(
      expect.arrayContaining(['tests/functional/fault:Linux', 'tests/functional/events:Linux', 'tests/functional/replacement', 'tests/functional/deadman']),
    );
    expect(names).not.toContain('tests/functional/acl/off');
    const faultTagged = resolveRunfiles([catalog.common, catalog.linux]).sections.filter((s) => s.tags.some((t) => FAULT_TAGS.includes(t)));
    expect(sections.length).toBe(faultTagged.length);
    expectSettingsKept(catalog, { suite: 'fault' }, doc);
  });

  it('every fault tag exists in some upstream version, and most in all of them', () => {
    const tagsByVersion = TAGS.map((tag) => {
      const cat = catalogOf(tag);
      return new Set(resolveRunfiles([cat.common, cat.linux]).sections.flatMap((s) => s.tags));
    });
    for (const tag of FAULT_TAGS)
      expect(
        tagsByVersion.some((set) => set.has(tag)),
        tag,
      ).toBe(true);
    expect(FAULT_TAGS.filter((tag) => tagsByVersion.every((set) => set.has(tag))).length).toBeGreaterThanOrEqual(14);
  });
});

describe('--run', () => {
  const target = 'functional/cli_root/zpool_create/zpool_create_001_pos';
  const spellings = [
    target,
    'cli_root/zpool_create/zpool_create_001_pos',
    'zpool_create/zpool_create_001_pos',
    'zpool_create_001_pos',
    'tests/functional/cli_root/zpool_create/zpool_create_001_pos',
    '/usr/share/zfs/zfs-tests/tests/functional/cli_root/zpool_create/zpool_create_001_pos.ksh',
  ];
  for (const run of spellings) {
    it(`accepts ${run}`, () => {
      const doc = selectRunfile(catalog, { run });
      expect(listTests(doc)).toEqual([{ section: 'tests/functional/cli_root/zpool_create', testId: target }]);
      expectSettingsKept(catalog, { run }, doc);
      const [section] = reread(doc);
      expect(section).toMatchObject({ pre: 'setup', post: 'cleanup', timeoutSeconds: 600, user: 'root' });
    });
  }

  it('names the 3 nearest tests for an unknown one, as a UsageError', () => {
    const err = caught(() => selectRunfile(catalog, { run: 'zpool_create_01_pos' }));
    expect(err).toBeInstanceOf(UsageError);
    expect(err).toBeInstanceOf(UnknownSelectionError);
    const nearest = (err as UnknownSelectionError).nearest;
    expect(nearest).toHaveLength(3);
    expect(nearest[0]).toBe('cli_root/zpool_create/zpool_create_001_pos');
    expect((err as Error).message).toContain(nearest[0]);
  });

  it('refuses a bare name two groups share, listing both', () => {
    const err = caught(() => selectRunfile(catalog, { run: 'posix_001_pos' }));
    expect(err).toBeInstanceOf(AmbiguousSelectionError);
    expect((err as AmbiguousSelectionError).candidates).toEqual(['acl/posix-sa/posix_001_pos', 'acl/posix/posix_001_pos']);
    expect(listTests(selectRunfile(catalog, { run: 'acl/posix/posix_001_pos' }))).toHaveLength(1);
  });

  it('runs a test that upstream lists in both common.run and linux.run once', () => {
    const doc = selectRunfile(catalog, { run: 'mmap_sync_001_pos' });
    expect(listTests(doc)).toEqual([{ section: 'tests/functional/mmap', testId: 'functional/mmap/mmap_sync_001_pos' }]);
  });

  it('searches only the suite given: a common.run test is unknown in quick', () => {
    const inSanity = new Set(listTests(catalog.sanity).map((t) => t.testId));
    const notInSanity = listTests([catalog.common]).find((t) => !inSanity.has(t.testId))!;
    expect(() => selectRunfile(catalog, { suite: 'quick', run: notInSanity.testId })).toThrow(UnknownSelectionError);
    expect(listTests(selectRunfile(catalog, { run: notInSanity.testId }))).toHaveLength(1);
    // sanity.run's own timeout (180 s) comes along in quick.
    const quick = selectRunfile(catalog, { suite: 'quick', run: 'zpool_create_001_pos' });
    expect(reread(quick)[0]?.timeoutSeconds).toBe(180);
  });
});

describe('--group', () => {
  it('takes a whole group, and both halves of a group split over common.run and linux.run', () => {
    const doc = selectRunfile(catalog, { groups: ['zpool_create', 'atime'] });
    const sections = reread(doc).map((s) => s.section);
    expect(sections).toEqual(['tests/functional/atime', 'tests/functional/cli_root/zpool_create', 'tests/functional/atime:Linux']);
    const full = resolveRunfiles([catalog.common, catalog.linux]).sections;
    const wanted = full.filter((s) => sections.includes(s.section)).reduce((n, s) => n + s.tests.length, 0);
    expect(listTests(doc)).toHaveLength(wanted);
    expectSettingsKept(catalog, { groups: ['zpool_create', 'atime'] }, doc);
  });

  it('takes every group under a directory', () => {
    const doc = selectRunfile(catalog, { groups: ['acl'] });
    expect(
      reread(doc)
        .map((s) => s.section)
        .sort(),
    ).toEqual(['tests/functional/acl/off', 'tests/functional/acl/posix-sa:Linux', 'tests/functional/acl/posix:Linux']);
  });

  it('mixes groups and single tests; a test inside a taken group adds nothing', () => {
    const doc = selectRunfile(catalog, { groups: ['atime', 'zpool_add_001_pos', 'atime_001_pos', 'zpool_add_002_pos'] });
    const sections = reread(doc);
    const zpoolAdd = sections.find((s) => s.section === 'tests/functional/cli_root/zpool_add');
    expect(zpoolAdd?.tests).toEqual(['zpool_add_001_pos', 'zpool_add_002_pos']);
    const atime = sections.find((s) => s.section === 'tests/functional/atime');
    expect(atime?.tests.length).toBeGreaterThan(1);
  });

  it('names the nearest groups or tests for an unknown name', () => {
    const err = caught(() => selectRunfile(catalog, { groups: ['zpool_creat'] })) as UnknownSelectionError;
    expect(err).toBeInstanceOf(UsageError);
    expect(err.nearest).toContain('cli_root/zpool_create');
  });
});

describe('--tags', () => {
  it('selects groups sharing a tag, like test-runner -T', () => {
    const doc = selectRunfile(catalog, { tags: ['zpool_add', 'deadman'] });
    expect(reread(doc).map((s) => s.section)).toEqual([
      'tests/functional/cli_root/zpool_add',
      'tests/functional/deadman',
      'tests/functional/cli_root/zpool_add:Linux',
    ]);
  });

  it('names the nearest tags for an unknown one', () => {
    const err = caught(() => selectRunfile(catalog, { tags: ['zpol_add'] })) as UnknownSelectionError;
    expect(err).toBeInstanceOf(UsageError);
    expect(err.what).toBe('tag');
    expect(err.nearest[0]).toBe('zpool_add');
    expect(err.nearest).toHaveLength(3);
  });

  it('narrows a suite', () => {
    const doc = selectRunfile(catalog, { suite: 'fault', tags: ['events'] });
    expect(reread(doc).map((s) => s.section)).toEqual(['tests/functional/events:Linux']);
    expect(() => selectRunfile(catalog, { suite: 'fault', tags: ['acl'] })).toThrow(UnknownSelectionError);
  });
});

describe('selection input', () => {
  it('is a UsageError when empty or when it mixes --run, --group and --tags', () => {
    expect(() => selectRunfile(catalog, {})).toThrow(UsageError);
    expect(() => selectRunfile(catalog, { run: 'x', tags: ['y'] })).toThrow(UsageError);
  });
});

describe('remainingRunfile (crash resume)', () => {
  const selected = selectRunfile(catalog, { groups: ['zpool_create', 'atime'] });

  it('is the same runfile when nothing finished', () => {
    expect(renderRunfile(remainingRunfile(selected, []))).toBe(renderRunfile(selected));
  });

  it('keeps unfinished tests with their group setup/cleanup and drops finished groups', () => {
    const all = listTests(selected);
    const zpoolCreate = all.filter((t) => t.section === 'tests/functional/cli_root/zpool_create');
    const atimeCommon = all.filter((t) => t.section === 'tests/functional/atime');
    const finished = [
      ...atimeCommon.map((t) => t.testId),
      ...zpoolCreate.slice(0, 5).map((t) => t.testId),
      // setup/cleanup ids from the results are ignored: setup runs again before the rest.
      'functional/cli_root/zpool_create/setup',
    ];
    const left = remainingRunfile(selected, finished);
    const sections = reread(left);
    expect(sections.map((s) => s.section)).toEqual(['tests/functional/cli_root/zpool_create', 'tests/functional/atime:Linux']);
    expect(sections[0]?.testIds).toEqual(zpoolCreate.slice(5).map((t) => t.testId));
    expect(sections[0]).toMatchObject({ pre: 'setup', post: 'cleanup', preUser: 'root', postUser: 'root', timeoutSeconds: 600 });
    expectSettingsKept(catalog, { groups: ['x'] }, left);
  });

  it('is empty of sections (DEFAULT only) when everything finished', () => {
    const left = remainingRunfile(
      selected,
      listTests(selected).map((t) => t.testId),
    );
    expect(listTests(left)).toEqual([]);
    expect(left.sections.map((s) => s.name)).toEqual(['DEFAULT']);
  });
});

describe('withOutputDir', () => {
  it('sets [DEFAULT] outputdir and nothing else', () => {
    const doc = selectRunfile(catalog, { run: 'zpool_create_001_pos' });
    const text = renderRunfile(withOutputDir(doc, '/var/tmp/zfslab/run-1'));
    const before = renderRunfile(doc);
    expect(text).toBe(before.replace("tags = ['functional']\n\n", "tags = ['functional']\noutputdir = /var/tmp/zfslab/run-1\n\n"));
    const reparsed = parseRunfile(text);
    expect(resolveRunfiles([reparsed]).defaults.outputdir).toBe('/var/tmp/zfslab/run-1');
    expect(reread(reparsed)).toEqual(reread(doc));
  });

  it('adds a [DEFAULT] section when there is none, and refuses a relative or multi-line dir', () => {
    const doc = parseRunfile("[tests/functional/a]\ntests = ['x']\n");
    const text = renderRunfile(withOutputDir(doc, '/tmp/out'));
    expect(text).toBe("[DEFAULT]\noutputdir = /tmp/out\n\n[tests/functional/a]\ntests = ['x']\n");
    expect(() => withOutputDir(doc, 'relative/dir')).toThrow(UsageError);
    expect(() => withOutputDir(doc, '/tmp/a\n[evil]')).toThrow(UsageError);
  });
});
