import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CommandFailed } from '../../../lib/errors.js';
import { LocalExecutor, localExecutor } from '../../../lib/exec/local.js';
import { runCommand } from '../../../lib/exec/run-command.js';

/** The process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function gone(pids: readonly number[], withinMs = 3_000): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (pids.every((p) => !alive(p))) return true;
    await sleep(20);
  }
  return false;
}

/** Pids the command printed on lines of their own. */
function pidsIn(text: string): number[] {
  return text
    .split('\n')
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
}

describe('LocalExecutor', () => {
  it('streams stdout and stderr as they come and reports the exit code, for a command line and an argv', async () => {
    const chunks: string[] = [];
    const r = await localExecutor.exec('echo out; echo err >&2; exit 7', { onStdout: (c) => chunks.push(`o:${c}`), onStderr: (c) => chunks.push(`e:${c}`) });
    expect(r).toMatchObject({ exitCode: 7, stdout: 'out\n', stderr: 'err\n', timedOut: false, cancelled: false });
    expect(chunks.join('')).toContain('o:out\n');
    expect(chunks.join('')).toContain('e:err\n');
    const argv = await localExecutor.exec(['printf', '%s|', "it's", '$HOME']);
    expect(argv).toMatchObject({ exitCode: 0, stdout: "it's|$HOME|" });
    const fed = await localExecutor.exec(['tr', 'a-z', 'A-Z'], { input: 'shout\n' });
    expect(fed.stdout).toBe('SHOUT\n');
  });

  it('says a program is missing instead of throwing', async () => {
    const r = await localExecutor.exec(['/nonexistent/zfslab-no-such-program']);
    expect(r.exitCode).toBeNull();
    expect(r.missing).toBe(true);
    expect(r.spawnError).toMatch(/ENOENT/);
  });

  it('keeps only the tail of a long output', async () => {
    const r = await localExecutor.exec(['sh', '-c', 'seq 1 10000'], { maxCapture: 100 });
    expect(r.stdout.length).toBe(100);
    expect(r.stdout.endsWith('9999\n10000\n')).toBe(true);
  });

  it('a timeout kills the whole group and the descendants that left it, within the bound', async () => {
    let printed = '';
    const started = Date.now();
    const r = await localExecutor.exec('sleep 60 & echo $!; setsid sleep 61 & echo $!; wait', { timeoutMs: 500, onStdout: (c) => (printed += c) });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(r.exitSignal).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(5_000);
    const pids = pidsIn(printed);
    expect(pids).toHaveLength(2);
    expect(await gone(pids)).toBe(true);
  });

  it('with a kill grace, a timeout sends TERM first so the command can clean up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zfslab-exec-'));
    const marker = join(dir, 'cleaned');
    const r = await new LocalExecutor({ killGraceMs: 2_000 }).exec(`trap 'echo x > ${marker}; exit 143' TERM; sleep 60 & wait`, { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(readFileSync(marker, 'utf8')).toBe('x\n');
  });

  it('an abort kills the group', async () => {
    const controller = new AbortController();
    let printed = '';
    const running = localExecutor.exec('sleep 60 & echo $!; wait', {
      signal: controller.signal,
      onStdout: (c) => {
        printed += c;
        controller.abort();
      },
    });
    const r = await running;
    expect(r.cancelled).toBe(true);
    expect(await gone(pidsIn(printed))).toBe(true);
  });

  it('the command killed -9 while a child holds its stdout: the result comes at once and the child dies too', async () => {
    let printed = '';
    const started = Date.now();
    // The shell prints its own pid and its child's; the child inherits stdout and would hold it open.
    const running = localExecutor.exec('sleep 60 & echo $!; echo $$; wait', { onStdout: (c) => (printed += c), drainMs: 30_000 });
    while (pidsIn(printed).length < 2) await sleep(10);
    const [child, shell] = pidsIn(printed) as [number, number];
    process.kill(shell, 'SIGKILL');
    const r = await running;
    expect(r.exitSignal).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await gone([child])).toBe(true);
  });

  it('a process that left the group and holds stdout does not hold the result past drainMs', async () => {
    let printed = '';
    const started = Date.now();
    const r = await localExecutor.exec('setsid sleep 60 & echo $!; echo done', { onStdout: (c) => (printed += c), drainMs: 300 });
    const [escaped] = pidsIn(printed) as [number];
    try {
      expect(r).toMatchObject({ exitCode: 0, timedOut: false });
      expect(r.stdout).toContain('done\n');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      // It left the group on purpose (as a daemon does), so it is not the executor's to kill.
      process.kill(escaped, 'SIGKILL');
    }
  });

  it('uploads and downloads on this host', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zfslab-exec-'));
    await localExecutor.upload('#!/bin/sh\necho hi\n', join(dir, 'script.sh'), 0o755);
    expect(statSync(join(dir, 'script.sh')).mode & 0o777).toBe(0o755);
    expect((await localExecutor.exec([join(dir, 'script.sh')])).stdout).toBe('hi\n');
    writeFileSync(join(dir, 'from'), 'payload');
    await localExecutor.download(join(dir, 'from'), join(dir, 'to'));
    expect(readFileSync(join(dir, 'to'), 'utf8')).toBe('payload');
  });
});

describe('runCommand', () => {
  it('returns the output, splits lines for onLine, accepts okExitCodes and throws CommandFailed otherwise', async () => {
    const lines: string[] = [];
    const r = await runCommand('sh', ['-c', 'echo a; echo b >&2; echo c'], { onLine: (line, stream) => lines.push(`${stream}:${line}`) });
    expect(r).toEqual({ exitCode: 0, stdout: 'a\nc\n', stderr: 'b\n' });
    expect(lines.sort()).toEqual(['stderr:b', 'stdout:a', 'stdout:c']);
    expect((await runCommand('sh', ['-c', 'exit 3'], { okExitCodes: [3] })).exitCode).toBe(3);
    const failed = await runCommand('sh', ['-c', 'echo why >&2; exit 4']).catch((err: unknown) => err);
    expect(failed).toBeInstanceOf(CommandFailed);
    expect(failed).toMatchObject({ exitCode: 4, stderr: 'why\n' });
    const slow = await runCommand('sleep', ['30'], { timeoutMs: 200 }).catch((err: unknown) => err);
    expect(slow).toBeInstanceOf(CommandFailed);
    expect((slow as CommandFailed).message).toMatch(/timed out after 200 ms/);
  });
});
