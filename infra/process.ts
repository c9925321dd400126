import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type Options } from 'execa';
import { z } from 'zod';
import { isProcessAlive, processStartTicks } from '../lib/process-identity.js';

export { processStartTicks };

/**
 * A background process owned by the stack: started detached with its output in a log file, and
 * recorded in a pid file with the kernel's start time of that pid, so that `down` stops exactly the
 * process `up` started, never an unrelated process that later reused the pid.
 */
export const PidRecordSchema = z.object({
  name: z.string(),
  pid: z.number().int().positive(),
  startTicks: z.number().int().nonnegative(),
  argv: z.array(z.string()),
  logFile: z.string(),
  startedAt: z.string(),
});
export type PidRecord = z.infer<typeof PidRecordSchema>;

export interface ProcessDirs {
  runDir: string;
  logDir: string;
}

export function pidFile(dirs: ProcessDirs, name: string): string {
  return join(dirs.runDir, `${name}.pid.json`);
}

export function readPidRecord(dirs: ProcessDirs, name: string): PidRecord | undefined {
  const file = pidFile(dirs, name);
  if (!existsSync(file)) return undefined;
  try {
    return PidRecordSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

/** The recorded process is alive and is the same process (pid not reused). */
export function isRecordAlive(record: PidRecord): boolean {
  return isProcessAlive(record);
}

export function startBackground(dirs: ProcessDirs, name: string, argv: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): PidRecord {
  mkdirSync(dirs.runDir, { recursive: true });
  mkdirSync(dirs.logDir, { recursive: true });
  const logFile = join(dirs.logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  try {
    const [command, ...args] = argv;
    if (!command) throw new Error(`no command for ${name}`);
    // A daemon of the stack: its own process group, output into its log file, not waited for (unref).
    const child = execa(command, args, {
      detached: true,
      // A file descriptor goes to the daemon as is (it must not depend on this process to write its log);
      // execa's types list only fds 3-9 by value, its runtime takes any.
      stdio: ['ignore', fd, fd] as unknown as Options['stdio'],
      env: options.env ?? process.env,
      extendEnv: false,
      reject: false,
      buffer: false,
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    if (child.pid === undefined) throw new Error(`could not start ${name}: ${argv.join(' ')}`);
    child.unref();
    const record: PidRecord = {
      name,
      pid: child.pid,
      startTicks: processStartTicks(child.pid) ?? 0,
      argv: [...argv],
      logFile,
      startedAt: new Date().toISOString(),
    };
    writeFileSync(pidFile(dirs, name), JSON.stringify(record, null, 2));
    return record;
  } finally {
    closeSync(fd);
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; removes the pid file. Returns false when nothing was running. */
export async function stopRecorded(dirs: ProcessDirs, name: string, graceMs = 15_000): Promise<boolean> {
  const record = readPidRecord(dirs, name);
  if (!record) return false;
  let wasRunning = false;
  if (isRecordAlive(record)) {
    wasRunning = true;
    signalGroup(record.pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isRecordAlive(record) && Date.now() < deadline) await sleep(100);
    if (isRecordAlive(record)) signalGroup(record.pid, 'SIGKILL');
    while (isRecordAlive(record) && Date.now() < deadline + 5_000) await sleep(100);
  }
  rmSync(pidFile(dirs, name), { force: true });
  return wasRunning;
}

/** Background processes lead their own process group (detached), so their children go with them. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Polls `check` until it returns true or the deadline passes; `describe` says what was awaited. */
export async function waitUntil(
  check: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; describe: string; alive?: () => boolean; logFile?: string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (options.alive && !options.alive()) {
      throw new Error(`${options.describe}: the process exited early${options.logFile ? `; see ${options.logFile}:\n${tail(options.logFile)}` : ''}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${options.describe}: not ready after ${options.timeoutMs / 1000}s${options.logFile ? `; see ${options.logFile}` : ''}`);
    }
    await sleep(options.intervalMs ?? 250);
  }
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
