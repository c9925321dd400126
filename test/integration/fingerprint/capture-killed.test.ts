import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { captureFingerprint } from '../../../activities/fingerprint/capture.js';
import { localCaptureShell } from '../../../activities/fingerprint/shell.js';
import { InfraError } from '../../../lib/errors.js';
import { descendants, isLive } from '../../../lib/exec/process-tree.js';

/**
 * Whatever happens to the capture script, its tracer and its workload die with it and the capture ends
 * with a clear error: the script's shell is SIGKILLed while bpftrace is attached and the workload (with a
 * child of its own) runs. Needs root and bpftrace, like the other real captures.
 */
const canCapture = process.getuid?.() === 0 && spawnSync('bpftrace', ['--version']).status === 0;

function comm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

describe.runIf(canCapture)('a capture whose script is killed', () => {
  it('ends within its bound with an error naming the kill, and leaves no tracer, workload or child behind', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zfslab-fp-killed-'));
    // The workload records its parent (the capture script's shell) and starts a child, then waits.
    const workload = [
      '/bin/sh',
      '-c',
      'echo $PPID > "$1/script.pid"; /usr/bin/sleep 300 & echo $! > "$1/child.pid"; echo $$ > "$1/workload.pid"; wait',
      'workload',
      dir,
    ];
    const capturing = captureFingerprint(localCaptureShell(), { command: workload, cwd: '/' }).then(
      () => undefined,
      (err: unknown) => err,
    );
    const pidFile = (name: string) => join(dir, `${name}.pid`);
    const deadline = Date.now() + 150_000;
    while (!existsSync(pidFile('workload')) && Date.now() < deadline) await sleep(100);
    const pid = (name: string) => Number(readFileSync(pidFile(name), 'utf8'));
    const script = pid('script');
    // Everything below the script now: bpftrace, the workload, its child.
    const tree = descendants(script);
    expect(tree.map(comm)).toContain('bpftrace');
    expect(tree).toContain(pid('workload'));
    const killedAt = Date.now();
    process.kill(script, 'SIGKILL');
    const error = await capturing;
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(error).toBeInstanceOf(InfraError);
    expect((error as Error).message).toMatch(/capture script on this host did not finish \(killed by SIGKILL\)/);
    const settle = Date.now() + 5_000;
    while (Date.now() < settle && [...tree, pid('child')].some(isLive)) await sleep(50);
    expect([...tree, pid('child')].filter(isLive).map((p) => `${p} ${comm(p)}`)).toEqual([]);
  });
});
