/** Single-quotes `text` for a POSIX shell: the result is one word whatever `text` holds. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** An argv as one shell command line (each word quoted). */
export function shellCommandLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}
