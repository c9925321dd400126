import { ConfigError, InfraError, UsageError } from '../../lib/errors.js';

/**
 * Exit codes, decided once, here. CI gates read them:
 *   0  nothing unexpected failed
 *   1  a test (or fingerprint check) failed unexpectedly
 *   2  bad input: config, flags, arguments
 *   3  infrastructure error: a server, worker, VM or the network failed; no verdict on the tests
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, infra: 3 } as const;

export class ExitError extends Error {
  override name = 'ExitError';
  constructor(
    readonly code: number,
    message = '',
  ) {
    super(message);
  }
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof ExitError) return err.code;
  if (err instanceof ConfigError || err instanceof UsageError) return EXIT.usage;
  if (err instanceof InfraError) return EXIT.infra;
  if (err && typeof err === 'object' && 'code' in err && (err as { code?: string }).code?.startsWith('commander.')) return EXIT.usage;
  return EXIT.infra;
}
