import type { RunfileDocument, RunfileOption, RunfileSection } from './document.js';

/** Writes a document back to text. Unchanged pieces come out exactly as read. */
export function renderRunfile(doc: RunfileDocument): string {
  const out: string[] = [];
  const push = (text: string): void => {
    const last = out[out.length - 1];
    // A source whose last line had no line ending, followed by more text.
    if (last !== undefined && !last.endsWith('\n')) out.push(doc.eol);
    out.push(text);
  };
  for (const line of doc.preamble) push(line);
  for (const section of doc.sections) for (const text of renderSection(section, doc.eol)) push(text);
  return out.join('');
}

function renderSection(section: RunfileSection, eol: string): string[] {
  const out = [...section.leading, section.header ?? `[${section.name}]${eol}`];
  for (const entry of section.entries) {
    if (entry.kind === 'trivia') out.push(entry.line);
    else out.push(...renderOption(entry, eol));
  }
  return out;
}

/**
 * An edited option: `key = value`, continuation lines indented four spaces deeper than the key (the
 * upstream style; configparser only needs them deeper). Blank lines inside the value stay blank.
 */
export function renderOption(option: RunfileOption, eol: string): string[] {
  if (option.lines) return option.lines;
  const [first = '', ...rest] = option.value.split('\n');
  const head = first === '' ? `${option.key} =` : `${option.key} = ${first}`;
  return [head + eol, ...rest.map((line) => (line === '' ? eol : `    ${line}${eol}`))];
}
