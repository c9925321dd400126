import type { ReadyVm } from './lifecycle.js';
import { shellQuote } from '../../core/text/shell-quote.js';
import { SshExecutor } from '../../lib/exec/ssh-executor.js';

/** PASS/FAIL by the script's exit code; KILLED when it outran its timeout (or was cancelled). */
export type RecipeOutcome = 'PASS' | 'FAIL' | 'KILLED';

export interface RecipeRunResult {
  outcome: RecipeOutcome;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  durationSeconds: number;
}

/**
 * Uploads a recipe script and runs it as root (`sudo -n`) with the zfs module loaded. The script
 * is run by the interpreter its #! line names (bash when it has none).
 */
export async function runRecipe(
  vm: ReadyVm,
  recipe: { name: string; script: string; timeoutMs: number; env?: Record<string, string> },
  options: { signal?: AbortSignal; onOutput?: (chunk: string) => void } = {},
): Promise<RecipeRunResult> {
  const path = SshExecutor.tempPath(`-${recipe.name.replace(/[^A-Za-z0-9._-]/g, '_')}`);
  await vm.ssh.upload(recipe.script, path, 0o755);
  const env = Object.entries(recipe.env ?? {})
    .map(([k, v]) => `${k}=${shellQuote(v)}`)
    .join(' ');
  const interpreter = recipe.script.startsWith('#!') ? '' : 'bash ';
  const command = `sudo -n modprobe zfs && sudo -n env DISKS=${shellQuote(vm.disks.join(' '))} ${env} ${interpreter}${path}`;
  const r = await vm.ssh.exec(command, { timeoutMs: recipe.timeoutMs, signal: options.signal, onStdout: options.onOutput, onStderr: options.onOutput });
  const outcome: RecipeOutcome = r.timedOut || r.cancelled ? 'KILLED' : r.exitCode === 0 ? 'PASS' : 'FAIL';
  return { outcome, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, durationSeconds: Math.round(r.durationMs / 100) / 10 };
}
