import { describe, expect, it } from 'vitest';
import { DEFAULT_SECTION, findOption } from '../../../core/runfile/document.js';
import { findSection, removeSection, setOption, setSectionList } from '../../../core/runfile/edit.js';
import { RunfileSyntaxError } from '../../../core/runfile/errors.js';
import { parseRunfile } from '../../../core/runfile/parse.js';
import { parsePythonStringList, PythonListError, renderPythonStringList } from '../../../core/runfile/python-list.js';
import { renderRunfile } from '../../../core/runfile/render.js';
import { resolveRunfiles } from '../../../core/runfile/resolve.js';
import type { RunfileDocument } from '../../../core/runfile/document.js';
import { configparserDump, fixturePath, RUNFILE_NAMES, runfileText, TAGS } from './fixtures.js';
import type { ConfigparserDump } from './fixtures.js';
import { readFileSync } from 'node:fs';

function expectSameAsConfigparser(docs: RunfileDocument[], dump: ConfigparserDump): void {
  const resolved = resolveRunfiles(docs);
  expect(resolved.defaults).toEqual(dump.defaults);
  expect(resolved.sectionOptions.map((s) => s.section)).toEqual(dump.sections.map((s) => s.section));
  dump.sections.forEach((want, i) => {
    const got = resolved.sections[i];
    expect(resolved.sectionOptions[i]?.options, want.section).toEqual(want.own);
    expect(got?.kind, want.section).toBe(want.tests ? 'group' : 'test');
    if (want.tests) expect(got?.tests, want.section).toEqual(want.tests);
    if (want.tags) expect(got?.tags, want.section).toEqual(want.tags);
  });
}

describe('runfile parse/render on upstream runfiles', () => {
  for (const tag of TAGS) {
    for (const name of RUNFILE_NAMES) {
      it(`${tag}/${name}.run renders back byte for byte`, () => {
        const text = runfileText(tag, name);
        expect(renderRunfile(parseRunfile(text, `${name}.run`))).toBe(text);
      });
    }
    it(`${tag}: sanity.run reads as Python's configparser reads it`, () => {
      const docs = [parseRunfile(runfileText(tag, 'sanity'), 'sanity.run')];
      expectSameAsConfigparser(docs, configparserDump(`reference/${tag}.sanity.json`));
    });
    it(`${tag}: common.run + linux.run read together as Python's configparser reads them`, () => {
      const docs = ['common', 'linux'].map((n) => parseRunfile(runfileText(tag, n), `${n}.run`));
      expectSameAsConfigparser(docs, configparserDump(`reference/${tag}.common+linux.json`));
    });
  }

  it('resolves group settings with DEFAULT inheritance and :Linux identifiers (2.4.4)', () => {
    const docs = ['common', 'linux'].map((n) => parseRunfile(runfileText('zfs-2.4.4', n), `${n}.run`));
    const sections = resolveRunfiles(docs).sections;
    const atimeLinux = sections.find((s) => s.section === 'tests/functional/atime:Linux');
    expect(atimeLinux).toMatchObject({
      kind: 'group',
      path: 'tests/functional/atime',
      identifier: 'Linux',
      groupId: 'functional/atime',
      pre: 'setup',
      post: 'cleanup',
      preUser: 'root',
      user: 'root',
      failsafe: 'callbacks/zfs_failsafe',
      timeoutSeconds: 600,
    });
    expect(atimeLinux?.testIds[0]).toBe('functional/atime/atime_003_pos');
    // A group that turns off its setup: `pre =` in the section overrides DEFAULT's `pre = setup`.
    const noPre = sections.filter((s) => s.pre === '');
    expect(noPre.length).toBeGreaterThan(10);
    expect(sections.some((s) => s.timeoutSeconds === 1200)).toBe(true);
  });
});

describe('runfile parse/render on edge cases (checked against Python 3.11 configparser)', () => {
  const text = readFileSync(fixturePath('runfiles', 'edge', 'tricky.run'), 'utf8');

  it('renders back byte for byte, including a last line without line ending', () => {
    expect(text.endsWith("'gamma']")).toBe(true);
    expect(renderRunfile(parseRunfile(text, 'tricky.run'))).toBe(text);
  });

  it('reads every option, list and section as configparser + eval do', () => {
    expectSameAsConfigparser([parseRunfile(text, 'tricky.run')], configparserDump('edge/tricky.configparser.json'));
  });

  it('keeps a comment directly above a header with that section, and the blank lines with the one before', () => {
    const doc = parseRunfile(text, 'tricky.run');
    const alpha = findSection(doc, 'tests/functional/alpha');
    expect(alpha?.leading).toEqual(['# comment directly above a header\n']);
    const without = renderRunfile(removeSection(doc, 'tests/functional/alpha'));
    expect(without).not.toContain('comment directly above');
    expect(without).not.toContain('a_001_pos');
    expect(without).toContain('[tests/functional/alpha:Linux]');
    // The comment inside the multi-line value belongs to the value, like configparser treats it.
    expect(findOption(alpha!, 'tests')?.lines?.join('')).toContain('# an indented comment inside the value');
  });

  it('appends after a source without a final line ending without gluing lines together', () => {
    const doc = parseRunfile(text, 'tricky.run');
    const edited = setOption(doc, 'tests/functional/gamma:FreeBSD', 'timeout', '90');
    const out = renderRunfile(edited);
    expect(out.endsWith("Tags = ['functional', 'gamma']\ntimeout = 90\n")).toBe(true);
    expect(resolveRunfiles([parseRunfile(out)]).sections.at(-1)?.timeoutSeconds).toBe(90);
  });

  it('rejects what configparser rejects, naming the line', () => {
    const cases: [string, number][] = [
      ['[a]\ntests=[]\n[a]\nx=1\n', 3], // DuplicateSectionError
      ['[a]\nx=1\nX=2\n', 3], // DuplicateOptionError (keys are case-insensitive)
      ['x=1\n[a]\n', 1], // MissingSectionHeaderError
      ['[a]\njunk\n', 2], // ParsingError
      ['[a]\n=1\n', 2], // ParsingError (empty key)
      ['[DEFAULT]\nx=1\n[DEFAULT]\nx=2\n', 4], // DuplicateOptionError in DEFAULT
    ];
    for (const [source, line] of cases) {
      let caught: unknown;
      try {
        parseRunfile(source, 'bad.run');
      } catch (err) {
        caught = err;
      }
      expect(caught, source).toBeInstanceOf(RunfileSyntaxError);
      expect((caught as RunfileSyntaxError).line, source).toBe(line);
    }
    // Two [DEFAULT] headers in one file are fine for configparser, as long as no option repeats.
    expect(resolveRunfiles([parseRunfile('[DEFAULT]\nx=1\n[DEFAULT]\ny=2\n')]).defaults).toEqual({ x: '1', y: '2' });
  });

  it('merges files read together like configparser.read([a, b]): later values win, sections merge', () => {
    const a = parseRunfile('[DEFAULT]\nt=1\n[s]\nx=1\ny=1\n', 'a.run');
    const b = parseRunfile('[DEFAULT]\nt=2\n[s]\nx=2\n[u]\nz=1\n', 'b.run');
    const merged = resolveRunfiles([a, b]);
    expect(merged.defaults).toEqual({ t: '2' });
    expect(merged.sectionOptions).toEqual([
      { section: 's', options: { x: '2', y: '1' } },
      { section: 'u', options: { z: '1' } },
    ]);
  });

  it('keeps CRLF line endings, also on edited lines', () => {
    const crlf = "[DEFAULT]\r\ntimeout = 60\r\n\r\n[tests/functional/a]\r\ntests = ['x',\r\n    'y']\r\n";
    const doc = parseRunfile(crlf);
    expect(renderRunfile(doc)).toBe(crlf);
    expect(resolveRunfiles([doc]).sections[0]?.tests).toEqual(['x', 'y']);
    const edited = renderRunfile(setOption(doc, DEFAULT_SECTION, 'timeout', '90'));
    expect(edited).toBe(crlf.replace('timeout = 60', 'timeout = 90'));
  });
});

describe('re-rendered lists', () => {
  it('wrap like upstream writes them (2.4.4 alloc_class comes out identical)', () => {
    const text = runfileText('zfs-2.4.4', 'common');
    const doc = parseRunfile(text, 'common.run');
    const section = findSection(doc, 'tests/functional/alloc_class')!;
    const tests = resolveRunfiles([doc]).sections.find((s) => s.section === section.name)!.tests;
    const rerendered = setSectionList({ ...section, entries: section.entries.map((e) => (e.kind === 'option' ? { ...e, lines: null } : e)) }, 'tests', tests);
    const doc2 = { ...doc, sections: doc.sections.map((s) => (s.name === section.name ? rerendered : s)) };
    expect(renderRunfile(doc2)).toBe(text);
  });

  it('survive a parse after any edit', () => {
    const doc = parseRunfile("[tests/functional/x]\ntests = ['a']\n");
    const names = Array.from({ length: 40 }, (_, i) => `test_${i}_with_a_long_name`).concat(["it's", 'back\\slash']);
    const edited = { ...doc, sections: [setSectionList(doc.sections[0]!, 'tests', names)] };
    const text = renderRunfile(edited);
    expect(text.split('\n').every((line) => line.length <= 79)).toBe(true);
    expect(resolveRunfiles([parseRunfile(text)]).sections[0]?.tests).toEqual(names);
  });
});

describe('python list literals (what eval() accepts in runfiles)', () => {
  it('reads lists, tuples, both quote styles, escapes, concatenation, comments and trailing commas', () => {
    expect(parsePythonStringList("['a', 'b',\n'c',]")).toEqual(['a', 'b', 'c']);
    expect(parsePythonStringList('("a",)')).toEqual(['a']);
    expect(parsePythonStringList('[]')).toEqual([]);
    expect(parsePythonStringList("['a' \"b\" # note\n, r'c\\d', u'\\x41\\n']")).toEqual(['ab', 'c\\d', 'A\n']);
  });

  it('rejects what is not a list of strings', () => {
    for (const bad of ["'a'", "('a')", "['a' 'b' c]", "['a', 1]", "['a'", "['a'] x", "['''a''']", "['a',, 'b']"]) {
      expect(() => parsePythonStringList(bad), bad).toThrow(PythonListError);
    }
  });

  it('renders what it reads', () => {
    const items = ['plain', "quo'te", 'back\\slash', 'tab\there'];
    expect(parsePythonStringList(renderPythonStringList(items, 'tests = '))).toEqual(items);
  });
});
