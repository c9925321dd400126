import { z } from 'zod';

/**
 * A runfile as text that remembers how it was written. Every source line is kept (with its line
 * ending) in the piece it belongs to, so rendering an unchanged document gives back the file byte for
 * byte; an edited option drops its source lines (`lines: null`) and is re-rendered from key and value.
 *
 * The split of lines follows Python's configparser (what test-runner.py reads runfiles with):
 * an option owns its first line, its deeper-indented continuation lines and the blank/comment lines
 * between them; blank and comment lines after an option's last continuation are trivia of the section,
 * except a run of comment lines right above a section header, which is that section's `leading` text.
 */

export const RunfileOptionSchema = z.strictObject({
  kind: z.literal('option'),
  /** The key as written (case kept); used when the option is re-rendered. */
  key: z.string().min(1),
  /** configparser's optionxform(key): lowercased. Lookups use this. */
  name: z.string().min(1),
  /** The value exactly as configparser returns it: continuation lines stripped, joined by '\n', right-stripped. */
  value: z.string(),
  /** Source lines with their endings; null once the option was edited. */
  lines: z.array(z.string()).nullable(),
});
export type RunfileOption = z.infer<typeof RunfileOptionSchema>;

/** A blank or comment line that belongs to no option. */
export const RunfileTriviaSchema = z.strictObject({ kind: z.literal('trivia'), line: z.string() });
export type RunfileTrivia = z.infer<typeof RunfileTriviaSchema>;

export const RunfileEntrySchema = z.discriminatedUnion('kind', [RunfileOptionSchema, RunfileTriviaSchema]);
export type RunfileEntry = z.infer<typeof RunfileEntrySchema>;

export const RunfileSectionSchema = z.strictObject({
  /** The header text between the brackets: `DEFAULT`, `tests/functional/atime`, `tests/functional/atime:Linux`. */
  name: z.string().min(1),
  /** Comment lines directly above the header. */
  leading: z.array(z.string()),
  /** The header line as written; null for a section made in code (rendered as `[name]`). */
  header: z.string().nullable(),
  entries: z.array(RunfileEntrySchema),
});
export type RunfileSection = z.infer<typeof RunfileSectionSchema>;

export const RunfileDocumentSchema = z.strictObject({
  /** Where it came from (`common.run`), for messages. */
  source: z.string(),
  /** Everything before the first section header (upstream: the licence comment). */
  preamble: z.array(z.string()),
  sections: z.array(RunfileSectionSchema),
  /** Line ending used for re-rendered lines: the one the source used. */
  eol: z.enum(['\n', '\r\n']),
});
export type RunfileDocument = z.infer<typeof RunfileDocumentSchema>;

/** configparser's name for the section whose options every other section inherits. */
export const DEFAULT_SECTION = 'DEFAULT';

export function findOption(section: RunfileSection, name: string): RunfileOption | undefined {
  const wanted = name.toLowerCase();
  for (const entry of section.entries) if (entry.kind === 'option' && entry.name === wanted) return entry;
  return undefined;
}
