/**
 * The domain's one error for a request that cannot be met as asked: an unknown or ambiguous
 * flavor or test name, a flavor defined twice, a malformed selection. Core throws it without
 * knowing who asked; the CLI maps it to exit code 2 (bad input) through lib/errors.ts, which
 * re-exports it, so core needs nothing from lib/.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}
