/**
 * A runfile the real test-runner would refuse (configparser raises, or `eval()` of `tests`/`tags`
 * fails). Carries where, so a person can open the file at the line.
 */
export class RunfileSyntaxError extends Error {
  override name = 'RunfileSyntaxError';
  constructor(
    readonly source: string,
    /** 1-based line number in the source, when the problem is on one line. */
    readonly line: number | undefined,
    readonly problem: string,
  ) {
    super(`${source}${line === undefined ? '' : `:${line}`}: ${problem}`);
  }
}
