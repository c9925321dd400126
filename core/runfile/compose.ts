import { DEFAULT_SECTION } from './document.js';
import type { RunfileDocument, RunfileSection } from './document.js';
import { newSection, setSectionList, setSectionOption } from './edit.js';
import { mergeRunfiles, resolveRunfiles } from './resolve.js';

/** One section to keep, optionally with fewer tests. */
export interface SectionPick {
  section: string;
  /** The tests to keep, in order; undefined keeps the section's list as is. */
  tests?: readonly string[];
}

/**
 * Builds one runfile holding the picked sections of `docs` (read together, as ./resolve.ts does).
 * The result resolves to the same settings for every kept section: its `[DEFAULT]` is the merged
 * DEFAULT, and a section copied from one file keeps its own lines, so pre/post/failsafe, users,
 * timeout and tags come out unchanged. A section whose test list shrinks gets a re-rendered `tests`.
 * With one document and every section picked unchanged, the output is the input, byte for byte.
 */
export function composeRunfile(docs: readonly RunfileDocument[], picks: readonly SectionPick[], source: string): RunfileDocument {
  const first = docs[0];
  const eol = first?.eol ?? '\n';
  const { defaults } = mergeRunfiles(docs);
  const resolved = new Map(resolveRunfiles(docs).sections.map((s) => [s.section, s]));
  const sections: RunfileSection[] = [];

  const defaultSection = composeDefault(docs, defaults, eol);
  if (defaultSection) sections.push(defaultSection);

  for (const pick of picks) {
    const found = resolved.get(pick.section);
    if (!found) throw new Error(`no section [${pick.section}] in ${docs.map((d) => d.source).join(', ')}`);
    let section = copySection(docs, pick.section);
    if (pick.tests && !sameList(pick.tests, found.tests)) section = setSectionList(section, 'tests', pick.tests);
    sections.push(section);
  }

  // Keep upstream's blank line between sections where a section came from the end of another file.
  for (let i = 0; i < sections.length - 1; i++) sections[i] = withTrailingBlank(sections[i] as RunfileSection, eol);
  return { source, preamble: first?.preamble ?? [], sections, eol };
}

function composeDefault(docs: readonly RunfileDocument[], defaults: Record<string, string>, eol: string): RunfileSection | undefined {
  const found = docs.flatMap((doc) => doc.sections).find((section) => section.name === DEFAULT_SECTION);
  if (!found && Object.keys(defaults).length === 0) return undefined;
  let section = found ?? newSection(DEFAULT_SECTION, [], eol);
  for (const [name, value] of Object.entries(defaults)) section = setSectionOption(section, name, value);
  return section;
}

/** The section as written; if several files define it, the first copy with the others' options merged in. */
function copySection(docs: readonly RunfileDocument[], name: string): RunfileSection {
  const copies = docs.flatMap((doc) => doc.sections.filter((section) => section.name === name));
  let section = copies[0] as RunfileSection;
  for (const later of copies.slice(1)) {
    for (const entry of later.entries) if (entry.kind === 'option') section = setSectionOption(section, entry.key, entry.value);
  }
  return section;
}

function withTrailingBlank(section: RunfileSection, eol: string): RunfileSection {
  const last = section.entries[section.entries.length - 1];
  if (last?.kind === 'trivia' && last.line.trim() === '') return section;
  return { ...section, entries: [...section.entries, { kind: 'trivia', line: eol }] };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, i) => item === b[i]);
}
