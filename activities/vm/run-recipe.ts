import { existsSync, readFileSync } from 'node:fs';
import { findFirstCrash, type ConsoleCrash } from '../../core/crash/console.js';
import { shellQuote } from '../../core/text/shell-quote.js';
import type { ExecResult } from '../../lib/exec/executor.js';
import { SshExecutor } from '../../lib/exec/ssh-executor.js';
import { summariseTcp, type NetworkSummary, type TcpTick } from '../../core/network/tcp-stats.js';
import { createLogger, type Logger } from '../../lib/log.js';
import { startTcpSampler } from './tcp-sampler.js';
import type { ReadyVm } from './lifecycle.js';

/**
 * PASS/FAIL by the script's exit code; KILLED when it outran its timeout (or was cancelled); CRASH
 * when the guest kernel died or wedged under it (panic, Oops, BUG, lockup, hung task on the console).
 */
export type RecipeOutcome = 'PASS' | 'FAIL' | 'KILLED' | 'CRASH';

/** What the console said when a recipe's outcome is CRASH. */
export interface RecipeCrash {
  kind: ConsoleCrash['kind'];
  headline: string;
  signature: string;
  /** The report as the console printed it (kept as the run's console artifact). */
  excerpt: string;
}

export interface RecipeRunResult {
  outcome: RecipeOutcome;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  durationSeconds: number;
  crash?: RecipeCrash;
  /** Every namespace's TCP flows and qdisc drops, sampled while it ran (absent when not sampled). */
  network?: { timeline: TcpTick[]; summary: NetworkSummary };
}

/** How often the console is read while the recipe runs. */
const CONSOLE_POLL_MS = 2_000;
/**
 * After the SSH session ended without an exit status, how long to wait for the console to say why:
 * a panicking guest drops the connection a moment before (or after) its last words reach the serial log.
 */
const CONSOLE_GRACE_MS = 15_000;

export interface RunRecipeOptions {
  signal?: AbortSignal;
  onOutput?: (chunk: string) => void;
  /** Sample the guest's TCP flows (`ss -tin` in every namespace) while the recipe runs; default true. */
  sampleTcp?: boolean;
  /** Each TCP sample as it is taken (the host worker's exporter). */
  onTcpTick?: (tick: TcpTick, previous: TcpTick | undefined) => void;
  log?: Logger;
  /** Overrides for tests. */
  consolePollMs?: number;
  consoleGraceMs?: number;
}

/**
 * Uploads a recipe script and runs it as root (`sudo -n`) with the zfs module loaded. The script
 * is run by the interpreter its #! line names (bash when it has none). While it runs, the clone's
 * serial console is watched: a kernel report stops the script at once (a hung task or lockup would
 * otherwise hold it to its timeout) and the recipe is a CRASH with the report, not a FAIL; a CRASH
 * is a result, so the clone is not retried with the same recipe.
 */
export async function runRecipe(
  vm: ReadyVm,
  recipe: { name: string; script: string; timeoutMs: number; env?: Record<string, string> },
  options: RunRecipeOptions = {},
): Promise<RecipeRunResult> {
  const path = SshExecutor.tempPath(`-${recipe.name.replace(/[^A-Za-z0-9._-]/g, '_')}`);
  await vm.ssh.upload(recipe.script, path, 0o755);
  const env = Object.entries(recipe.env ?? {})
    .map(([k, v]) => `${k}=${shellQuote(v)}`)
    .join(' ');
  const interpreter = recipe.script.startsWith('#!') ? '' : 'bash ';
  const command = `sudo -n modprobe zfs && sudo -n env DISKS=${shellQuote(vm.disks.join(' '))} ${env} ${interpreter}${path}`;

  // Only what the console prints from now on is this recipe's: a report from boot is not.
  const consoleText = (): string => (existsSync(vm.serialLogPath) ? readFileSync(vm.serialLogPath, 'utf8') : '');
  const from = consoleText().length;
  const consoleCrash = (): ConsoleCrash | undefined => findFirstCrash(consoleText().slice(from));
  const stop = new AbortController();
  let crash: ConsoleCrash | undefined;
  const watch = setInterval(() => {
    crash ??= consoleCrash();
    if (crash) stop.abort();
  }, options.consolePollMs ?? CONSOLE_POLL_MS);
  const started = performance.now();
  const sampler =
    options.sampleTcp === false
      ? undefined
      : startTcpSampler(vm.ssh, { log: options.log ?? createLogger('recipe'), ...(options.onTcpTick ? { onTick: options.onTcpTick } : {}) });
  let r: ExecResult | undefined;
  let lost: unknown;
  try {
    r = await vm.ssh.exec(command, {
      timeoutMs: recipe.timeoutMs,
      signal: options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal,
      onStdout: options.onOutput,
      onStderr: options.onOutput,
    });
  } catch (err) {
    // The session itself failed (the connection went with the guest): only the console can say why.
    lost = err;
  } finally {
    clearInterval(watch);
  }
  const timeline = await sampler?.stop();
  const network = timeline ? { network: { timeline, summary: summariseTcp(timeline) } } : {};
  const userStopped = options.signal?.aborted === true;
  const ended = r === undefined || (r.exitCode === null && !r.timedOut && !r.cancelled);
  if (!crash && !userStopped && ended) crash = await consoleAfter(consoleCrash, options.consoleGraceMs ?? CONSOLE_GRACE_MS);
  crash ??= userStopped ? undefined : consoleCrash();
  const durationSeconds = Math.round((r?.durationMs ?? performance.now() - started) / 100) / 10;
  if (crash) {
    return {
      outcome: 'CRASH',
      exitCode: r?.exitCode ?? null,
      stdout: r?.stdout ?? '',
      stderr: r?.stderr ?? '',
      durationSeconds,
      crash: { kind: crash.kind, headline: crash.headline, signature: crash.signature, excerpt: crash.excerpt },
      ...network,
    };
  }
  if (r === undefined) throw lost;
  const outcome: RecipeOutcome = r.timedOut || r.cancelled ? 'KILLED' : r.exitCode === 0 ? 'PASS' : 'FAIL';
  return { outcome, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, durationSeconds, ...network };
}

/** Polls the console for a crash report for up to `graceMs`. */
async function consoleAfter(read: () => ConsoleCrash | undefined, graceMs: number): Promise<ConsoleCrash | undefined> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const found = read();
    if (found || Date.now() >= deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, Math.min(500, graceMs)));
  }
}
