import { DEFAULT_SECTION } from './document.js';
import type { RunfileDocument, RunfileOption, RunfileSection } from './document.js';
import { RunfileSyntaxError } from './errors.js';

/**
 * Reads one runfile the way Python's configparser.RawConfigParser (default settings) reads it in
 * test-runner.py: `#`/`;` full-line comments (no inline comments), `=` or `:` delimiters, keys
 * lowercased, values continued on deeper-indented lines with blank lines kept inside a value, strict
 * duplicate checks within one file, and `[DEFAULT]` as the inherited section. Nothing is lost: see
 * ./document.ts. Errors are the ones configparser would raise (it raises a ParsingError for a bad line
 * at the end of the file; we stop at the first one).
 *
 * Known differences, none of which upstream runfiles use: a lone `\r` is not a line break (Python's
 * universal newlines make it one), and whitespace means JS `\s`/`trim()` rather than `str.isspace()`.
 */
export function parseRunfile(text: string, source = 'runfile'): RunfileDocument {
  const preamble: string[] = [];
  const sections: RunfileSection[] = [];
  const seenSections = new Set<string>();
  const seenOptions = new Set<string>();
  let section: RunfileSection | undefined;
  let option: { entry: RunfileOption; parts: string[] } | undefined;
  /** Blank/comment lines after the last content line, not yet known to be inside a value or not. */
  let pending: string[] = [];
  let indentLevel = 0;
  const finished: { entry: RunfileOption; parts: string[] }[] = [];

  const lines = splitLines(text);
  lines.forEach((raw, index) => {
    const lineNumber = index + 1;
    const content = raw.replace(/\r?\n$/, '');
    const trimmed = content.trim();
    const isComment = trimmed.startsWith('#') || trimmed.startsWith(';');
    const value = isComment ? '' : trimmed;
    if (value === '') {
      if (!isComment && option) option.parts.push('');
      if (section) pending.push(raw);
      else preamble.push(raw);
      return;
    }
    const indent = content.search(/\S/);
    if (section && option && indent > indentLevel) {
      option.parts.push(value);
      option.entry.lines?.push(...pending, raw);
      pending = [];
      return;
    }
    indentLevel = indent;
    const header = /^\[(.+)\]/.exec(value);
    if (header) {
      const name = header[1] as string;
      if (name !== DEFAULT_SECTION && seenSections.has(name)) {
        throw new RunfileSyntaxError(source, lineNumber, `section [${name}] appears twice`);
      }
      seenSections.add(name);
      const leading = trailingCommentRun(pending);
      if (section) for (const line of pending.slice(0, pending.length - leading.length)) section.entries.push({ kind: 'trivia', line });
      pending = [];
      section = { name, leading, header: raw, entries: [] };
      sections.push(section);
      option = undefined;
      return;
    }
    if (!section) throw new RunfileSyntaxError(source, lineNumber, 'text before the first [section] header');
    const match = /^(.*?)\s*([=:])\s*(.*)$/.exec(value);
    const key = match?.[1]?.trimEnd() ?? '';
    if (!match || key === '') throw new RunfileSyntaxError(source, lineNumber, `not an option line: ${JSON.stringify(content)}`);
    const name = key.toLowerCase();
    const optionKey = `${section.name}\u0000${name}`;
    if (seenOptions.has(optionKey)) {
      throw new RunfileSyntaxError(source, lineNumber, `option '${name}' appears twice in [${section.name}]`);
    }
    seenOptions.add(optionKey);
    for (const line of pending) section.entries.push({ kind: 'trivia', line });
    pending = [];
    const first = (match[3] ?? '').trim();
    const entry: RunfileOption = { kind: 'option', key, name, value: first, lines: [raw] };
    section.entries.push(entry);
    option = { entry, parts: [first] };
    finished.push(option);
  });
  if (section) for (const line of pending) section.entries.push({ kind: 'trivia', line });

  for (const { entry, parts } of finished) entry.value = parts.join('\n').replace(/\s+$/, '');
  const eol = lines[0]?.endsWith('\r\n') ? '\r\n' : '\n';
  return { source, preamble, sections, eol };
}

/** Lines with their endings kept; a last line without one is kept too. */
export function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function trailingCommentRun(lines: readonly string[]): string[] {
  let start = lines.length;
  while (start > 0 && /^\s*[#;]/.test(lines[start - 1] as string)) start--;
  return lines.slice(start);
}
