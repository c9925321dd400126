import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { ChunkJournal } from '../../../activities/zts/journal.js';
import { killMarked, processesWithMarker } from '../../../activities/zts/leftovers.js';
import { ParentDeathTarget } from '../../../activities/zts/parent-death.js';
import type { RunningRunner } from '../../../activities/zts/runner-target.js';
import { parseResultLines } from '../../../core/results/result-line.js';

const scratch = mkdtempSync(join(tmpdir(), 'zfslab-chunk-host-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const results = parseResultLines(
  [
    'Test: /s/tests/functional/c/setup (run as root) [00:00] [PASS]',
    'Test: /s/tests/functional/c/t01 (run as root) [00:01] [PASS]',
    'Test: /s/tests/functional/c/t02 (run as root) [00:01] [FAIL]',
  ].join('\n'),
);

describe('ChunkJournal', () => {
  it('appends what was not written yet and reads it back; a torn last line is ignored', () => {
    const journal = new ChunkJournal(join(scratch, 'j1', 'journal.ndjson'));
    expect(journal.read()).toEqual([]);
    journal.reset(results.slice(0, 1));
    journal.sync(results.slice(0, 1));
    journal.sync(results);
    journal.sync(results);
    expect(journal.read()).toEqual(results);
    appendFileSync(journal.path, '{"testId":"functional/c/t0');
    expect(new ChunkJournal(journal.path).read()).toEqual(results);
    // A new attempt starts from its resume point, replacing the file.
    journal.reset(results.slice(0, 2));
    expect(journal.read()).toEqual(results.slice(0, 2));
  });
});

describe('leftovers of an earlier attempt', () => {
  it('finds processes by the marker they inherited and kills only those with the prefix', async () => {
    const marker = 'ZFSLAB_TEST_MARKER';
    const ours = spawn('sh', ['-c', 'sleep 30 & sleep 30'], { env: { ...process.env, [marker]: `${scratch}/chunk-001/attempt-1` }, stdio: 'ignore' });
    const other = spawn('sleep', ['30'], { env: { ...process.env, [marker]: `${scratch}/chunk-0010/attempt-1` }, stdio: 'ignore' });
    try {
      // The shell and its background sleep, at least (a shell may exec its last command).
      await until(() => processesWithMarker(marker, `${scratch}/chunk-001/`).some((p) => p.pid !== ours.pid));
      const found = processesWithMarker(marker, `${scratch}/chunk-001/`).length;
      expect(found).toBeGreaterThanOrEqual(2);
      expect(await killMarked(marker, `${scratch}/chunk-001/`)).toBe(found);
      expect(processesWithMarker(marker, `${scratch}/chunk-001/`)).toEqual([]);
      expect(processesWithMarker(marker, `${scratch}/chunk-0010/`).map((p) => p.pid)).toEqual([other.pid]);
    } finally {
      ours.kill('SIGKILL');
      other.kill('SIGKILL');
    }
  });
});

describe('ParentDeathTarget', () => {
  it('runs the runner under setpriv --pdeathsig, leaving everything else to the wrapped target', async () => {
    const seen: string[][] = [];
    const inner = {
      writeFile: async () => undefined,
      listDir: async () => ['x'],
      spawnArgv: (argv: readonly string[]) => {
        seen.push([...argv]);
        return {} as RunningRunner;
      },
    };
    const target = new ParentDeathTarget(inner);
    target.spawnRunner({ python: 'python3', runnerPath: '/r/test-runner.py', runfile: 'x.run', testDir: '/t', outputBase: '/o', tags: [] }, {});
    expect(seen).toEqual([['setpriv', '--pdeathsig=KILL', '--', 'python3', '/r/test-runner.py', '-c', 'x.run', '-i', '/t', '-o', '/o']]);
    expect(await target.listDir('/')).toEqual(['x']);
  });

  it('with that argv, the child dies when its parent is killed with SIGKILL', async () => {
    const pidFile = join(scratch, 'child.pid');
    // The parent starts the child exactly as the wrapper does, records its pid, and waits.
    const parent = spawn('sh', ['-c', `setpriv --pdeathsig=KILL -- sleep 30 & echo $! > ${pidFile}; wait`], { stdio: 'ignore' });
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '');
    const child = Number(readFileSync(pidFile, 'utf8'));
    await until(() => alive(child) && readFileSync(`/proc/${child}/cmdline`, 'utf8').startsWith('sleep'));
    parent.kill('SIGKILL');
    await until(() => !alive(child), 5_000);
    expect(alive(child)).toBe(false);
  });
});

function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}
