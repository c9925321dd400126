import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ReadyVm } from '../../../activities/vm/lifecycle.js';
import { runRecipe } from '../../../activities/vm/run-recipe.js';
import type { ExecOptions, ExecResult } from '../../../lib/exec/executor.js';
import { projectRoot } from '../../../lib/paths.js';

// A real debian13 console (test/fixtures/crash/debian13/README.md): boot and a hung task up to line
// 1026, then `echo c > /proc/sysrq-trigger`'s panic.
const serial = readFileSync(join(projectRoot, 'test/fixtures/crash/debian13/boot1-serial.log'), 'utf8').split('\n');
const bootOnly = serial.slice(0, 300).join('\n') + '\n';
const panic = serial.slice(1026).join('\n');
const hungTask = serial.slice(730, 770).join('\n') + '\n';
const scratch = mkdtempSync(join(tmpdir(), 'zfslab-run-recipe-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const done = (over: Partial<ExecResult>): ExecResult => ({
  exitCode: 0,
  exitSignal: undefined,
  stdout: '',
  stderr: '',
  timedOut: false,
  cancelled: false,
  durationMs: 1200,
  ...over,
});

let n = 0;
/** A clone whose SSH session does `exec` and whose serial log is a real file starting with `console`. */
function clone(exec: (options: ExecOptions, serialLogPath: string) => Promise<ExecResult>, console = bootOnly): ReadyVm {
  const serialLogPath = join(scratch, `serial-${++n}.log`);
  writeFileSync(serialLogPath, console);
  return {
    serialLogPath,
    disks: ['vdb', 'vdc'],
    ssh: { upload: async () => undefined, exec: (_command: string, options: ExecOptions) => exec(options, serialLogPath) },
  } as unknown as ReadyVm;
}

const recipe = { name: 'r.sh', script: 'echo c > /proc/sysrq-trigger', timeoutMs: 60_000 };
// The TCP sampler has its own test (test/integration/network); here the session runs only the recipe.
const fast = { consolePollMs: 20, consoleGraceMs: 1_000, sampleTcp: false };

describe('runRecipe', () => {
  it('calls a recipe whose session ended with the guest a CRASH, with the console that says why', async () => {
    const vm = clone(async (_o, log) => {
      // The session drops without an exit status; the panic reaches the serial log a moment later.
      setTimeout(() => appendFileSync(log, panic), 150);
      return done({ exitCode: null });
    });
    const out = await runRecipe(vm, recipe, fast);
    expect(out.outcome).toBe('CRASH');
    expect(out.crash).toMatchObject({ kind: 'panic', headline: 'Kernel panic - not syncing: sysrq triggered crash' });
    expect(out.crash?.signature).toMatch(/^[0-9a-f]{16}$/);
    expect(out.crash?.excerpt).toContain('sysrq_handle_crash');
  });

  it('is a CRASH, not a thrown error (which would retry the recipe in a new clone), when the session itself fails', async () => {
    const vm = clone(async (_o, log) => {
      appendFileSync(log, panic);
      throw new Error('Not connected');
    });
    expect((await runRecipe(vm, recipe, fast)).outcome).toBe('CRASH');
    const quiet = clone(async () => {
      throw new Error('Not connected');
    });
    await expect(runRecipe(quiet, recipe, fast)).rejects.toThrow('Not connected');
  });

  it('stops a recipe the kernel reports wedged at once, instead of at its timeout', async () => {
    const vm = clone(
      (options, log) =>
        new Promise((resolve) => {
          setTimeout(() => appendFileSync(log, hungTask), 100);
          options.signal?.addEventListener('abort', () => resolve(done({ exitCode: null, cancelled: true, durationMs: 300 })));
        }),
    );
    const started = Date.now();
    const out = await runRecipe(vm, { ...recipe, timeoutMs: 3_600_000 }, fast);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(out).toMatchObject({ outcome: 'CRASH', crash: { kind: 'hung-task' } });
  });

  it('keeps PASS, FAIL and KILLED by the exit, and ignores a report the console held before the recipe started', async () => {
    expect(
      (
        await runRecipe(
          clone(async () => done({ exitCode: 0 })),
          recipe,
          fast,
        )
      ).outcome,
    ).toBe('PASS');
    expect(
      (
        await runRecipe(
          clone(async () => done({ exitCode: 3 })),
          recipe,
          fast,
        )
      ).outcome,
    ).toBe('FAIL');
    expect(
      (
        await runRecipe(
          clone(async () => done({ exitCode: null, timedOut: true })),
          recipe,
          fast,
        )
      ).outcome,
    ).toBe('KILLED');
    // A boot that logged a hung task: the recipe after it passed.
    const out = await runRecipe(
      clone(async () => done({ exitCode: 0 }), bootOnly + hungTask),
      recipe,
      fast,
    );
    expect(out).toMatchObject({ outcome: 'PASS' });
    expect(out.crash).toBeUndefined();
    // Killed by a signal with a quiet console: a FAIL with no exit code, after the console's grace.
    expect(
      (
        await runRecipe(
          clone(async () => done({ exitCode: null, exitSignal: 'KILL' })),
          recipe,
          fast,
        )
      ).outcome,
    ).toBe('FAIL');
  });

  it('a cancelled run is KILLED even when the console then reports the guest going down', async () => {
    const user = new AbortController();
    const vm = clone(
      (options, log) =>
        new Promise((resolve) => {
          options.signal?.addEventListener('abort', () => {
            appendFileSync(log, panic);
            resolve(done({ exitCode: null, cancelled: true }));
          });
          setTimeout(() => user.abort(), 50);
        }),
    );
    expect((await runRecipe(vm, recipe, { ...fast, signal: user.signal })).outcome).toBe('KILLED');
  });
});
