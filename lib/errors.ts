/**
 * The few error classes the CLI maps to exit codes (apps/cli/exit.ts). Each carries the evidence
 * a person needs to act on it; none is thrown for control flow.
 */

/** A config value is wrong. `issues` name each key, the value found and what was expected. */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly issues: readonly { key: string; value: unknown; expected: string }[],
  ) {
    super(`invalid config (${source}):\n` + issues.map((i) => `  - ${i.key}: got ${formatValue(i.value)}, expected ${i.expected}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/**
 * The user asked for something that cannot be done as asked (bad flag, unknown flavor …). Defined
 * in core, which throws it from pure code and imports nothing of lib/; the same class, so
 * `instanceof` in apps/cli/exit.ts holds for both.
 */
export { UsageError } from '../core/errors.js';

/** A command run on a host or guest failed; keeps what it printed. */
export class CommandFailed extends Error {
  override name = 'CommandFailed';
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`${command} exited with ${exitCode ?? 'a signal'}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
}

/** Infrastructure (server, worker, VM, network) failed, as opposed to a test failing. */
export class InfraError extends Error {
  override name = 'InfraError';
}

function formatValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The innermost cause's message: what a failed workflow or activity really died of. */
export function rootCauseMessage(err: unknown): string {
  let e: unknown = err;
  while (e && typeof e === 'object' && 'cause' in e && (e as { cause?: unknown }).cause) e = (e as { cause: unknown }).cause;
  return e instanceof Error ? e.message : String(e);
}
