import { findOption } from './document.js';
import type { RunfileDocument, RunfileEntry, RunfileOption, RunfileSection } from './document.js';
import { renderPythonStringList } from './python-list.js';

/**
 * Pure edits of a RunfileDocument. Each returns a new document and leaves the input untouched;
 * only what changed loses its source lines.
 */

export function findSection(doc: RunfileDocument, name: string): RunfileSection | undefined {
  return doc.sections.find((section) => section.name === name);
}

/** Sets an option in a section (the section must exist); a new option goes after the section's last option. */
export function setOption(doc: RunfileDocument, sectionName: string, name: string, value: string): RunfileDocument {
  return mapSection(doc, sectionName, (section) => setSectionOption(section, name, value));
}

export function setSectionOption(section: RunfileSection, name: string, value: string): RunfileSection {
  const existing = findOption(section, name);
  if (existing) {
    if (existing.value === value) return section;
    const edited: RunfileOption = { ...existing, value, lines: null };
    return { ...section, entries: section.entries.map((entry) => (entry === existing ? edited : entry)) };
  }
  const added: RunfileOption = { kind: 'option', key: name, name: name.toLowerCase(), value, lines: null };
  const entries = [...section.entries];
  entries.splice(lastOptionIndex(entries) + 1, 0, added);
  return { ...section, entries };
}

/** Sets `tests`/`tags` as a Python list literal in upstream's layout (wrapped, 4-space continuation). */
export function setSectionList(section: RunfileSection, name: string, items: readonly string[]): RunfileSection {
  const key = findOption(section, name)?.key ?? name;
  const rendered = renderPythonStringList(items, `${key} = `);
  // The stored value is what configparser would return: continuation lines without their indentation.
  const value = rendered
    .split('\n')
    .map((line) => line.trim())
    .join('\n');
  return setSectionOption(section, name, value);
}

export function removeSectionOption(section: RunfileSection, name: string): RunfileSection {
  const existing = findOption(section, name);
  if (!existing) return section;
  return { ...section, entries: section.entries.filter((entry) => entry !== existing) };
}

export function removeSection(doc: RunfileDocument, sectionName: string): RunfileDocument {
  return { ...doc, sections: doc.sections.filter((section) => section.name !== sectionName) };
}

/** A section made in code, with one blank line after it like upstream's sections. */
export function newSection(name: string, options: readonly (readonly [string, string])[], eol: string): RunfileSection {
  let section: RunfileSection = { name, leading: [], header: null, entries: [{ kind: 'trivia', line: eol }] };
  for (const [key, value] of options) section = setSectionOption(section, key, value);
  return section;
}

function mapSection(doc: RunfileDocument, sectionName: string, edit: (section: RunfileSection) => RunfileSection): RunfileDocument {
  const index = doc.sections.findIndex((section) => section.name === sectionName);
  if (index < 0) throw new Error(`no section [${sectionName}] in ${doc.source}`);
  const sections = [...doc.sections];
  sections[index] = edit(sections[index] as RunfileSection);
  return { ...doc, sections };
}

function lastOptionIndex(entries: readonly RunfileEntry[]): number {
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]?.kind === 'option') return i;
  return -1;
}
