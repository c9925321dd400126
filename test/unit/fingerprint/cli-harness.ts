import { Command, CommanderError } from 'commander';
import { vi } from 'vitest';
import { fingerprintCommand, type FingerprintCommandContext } from '../../../apps/cli/commands/fingerprint.js';
import { exitCodeFor } from '../../../apps/cli/exit.js';

/** Runs `zfslab [--json] fingerprint …` in-process, the way apps/cli/main.ts maps errors to exit codes. */
export async function runFingerprintCli(
  args: readonly string[],
  ctx: Partial<FingerprintCommandContext> = {},
): Promise<{ code: number; stdout: string; error?: string }> {
  const program = new Command('zfslab').option('--json').exitOverride();
  program.addCommand(
    fingerprintCommand({
      loadConfig: () => {
        throw new Error('the fingerprint commands under test need no config');
      },
      ...ctx,
    }),
  );
  program.commands.forEach(function exitOverride(c: Command) {
    c.exitOverride();
    c.commands.forEach(exitOverride);
  });
  let stdout = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  try {
    await program.parseAsync([...args], { from: 'user' });
    return { code: 0, stdout };
  } catch (err) {
    if (err instanceof CommanderError) return { code: err.exitCode === 0 ? 0 : 2, stdout, error: err.message };
    return { code: exitCodeFor(err), stdout, error: (err as Error).message };
  } finally {
    write.mockRestore();
  }
}
