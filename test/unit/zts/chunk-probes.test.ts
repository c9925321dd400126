import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { startChunkProbes } from '../../../activities/zts/chunk-probes.js';
import type { CaptureShell, ShellExit } from '../../../activities/fingerprint/shell.js';
import { KSTAT_SAMPLE, ZIO_WINDOW } from '../../../core/probes/scripts.js';
import { parseStamped } from '../../../core/probes/stream.js';
import { createLogger } from '../../../lib/log.js';
import { projectRoot } from '../../../lib/paths.js';

const log = createLogger('chunk-probes-test', 'silent');
const fixture = (name: string): string => readFileSync(join(projectRoot, 'test/fixtures/probes', name), 'utf8');
const lines = (name: string): string[] => parseStamped(fixture(name)).map((l) => l.text);

type Script = 'preflight' | 'kstat' | 'zio';
const which = (commandLine: string): Script =>
  commandLine.includes('available_filter_functions') && commandLine.includes('kallsyms') && !commandLine.includes('while :')
    ? 'preflight'
    : commandLine.includes(KSTAT_SAMPLE)
      ? 'kstat'
      : 'zio';

/**
 * A target shell that answers each probe script with what the real guest printed (the fixtures), a
 * few lines every few ms, until the probes stop it: the orchestration around the scripts, not the
 * scripts (test/integration/vm/probes-vm.test.ts runs those for real).
 */
function replayShell(
  overrides: Partial<Record<Script, (onStdout: (c: string) => void, signal?: AbortSignal) => Promise<ShellExit>>> = {},
): CaptureShell & { ran: Script[] } {
  const ran: Script[] = [];
  const replay = async (out: string[], onStdout: (c: string) => void, signal?: AbortSignal): Promise<ShellExit> => {
    for (let i = 0; i < out.length && !signal?.aborted; i += 25) {
      onStdout(out.slice(i, i + 25).join('\n') + '\n');
      await sleep(2);
    }
    while (!signal?.aborted) await sleep(5);
    return { exitCode: null, stderr: '', ended: 'killed by SIGKILL' };
  };
  return {
    name: 'replayed guest',
    ran,
    async run(commandLine, onStdout, signal) {
      const script = which(commandLine);
      ran.push(script);
      const override = overrides[script];
      if (override) return override(onStdout, signal);
      if (script === 'preflight') {
        onStdout(fixture('preflight-debian13.txt'));
        return { exitCode: 0, stderr: '' };
      }
      return replay(lines(script === 'kstat' ? 'kstat-stream-debian13.txt' : 'zio-stream-debian13.txt'), onStdout, signal);
    },
  };
}

describe('the probes of one pass of a chunk', () => {
  it('preflight, then both probes; the runner waits for bpftrace; records go live and to the scripts; raw streams kept', async () => {
    const shell = replayShell();
    const live = { kstat: 0, zio: 0 };
    const kept: { stream: string; text: string }[] = [];
    const started = Date.now();
    const probes = startChunkProbes(shell, ['zio', 'kstat'], {
      log,
      listener: { kstat: () => live.kstat++, zio: () => live.zio++ },
      keepRaw: async (stream, body) => {
        kept.push({ stream, text: gunzipSync(body).toString('utf8') });
        return `raw/${stream}`;
      },
    });
    await probes.ready;
    expect(shell.ran).toEqual(['preflight', 'kstat', 'zio']);
    await sleep(150);
    expect(probes.tail()).toContain(ZIO_WINDOW);
    const report = await probes.finish([{ testId: 'g/t1', startMs: started - 1, endMs: Date.now() }]);
    expect(report.captured.sort()).toEqual(['kstat', 'zio']);
    expect(report.notCaptured).toEqual([{ probe: 'zio:ioctl:zio_ioctl', reason: 'zio_ioctl is not in /proc/kallsyms' }]);
    expect(report.rawKeys).toEqual(['raw/preflight', 'raw/kstat', 'raw/zio']);
    expect(live.zio).toBe(18);
    expect(live.kstat).toBe(19);
    const [t1] = report.scripts;
    expect(Object.keys(t1!.zio).sort()).toEqual(['read', 'scrub', 'write']);
    expect(t1!.txg.testpool!.count).toBeGreaterThan(0);
    // The raw zio stream is what the shell printed, each line stamped on arrival.
    expect(parseStamped(kept.find((k) => k.stream === 'zio')!.text).map((l) => l.text)).toEqual(lines('zio-stream-debian13.txt'));
  });

  it('a preflight that fails leaves every probe not captured, and the runner is not held back', async () => {
    const shell = replayShell({ preflight: async () => ({ exitCode: 1, stderr: 'sudo: a password is required' }) });
    const probes = startChunkProbes(shell, ['zio', 'kstat'], { log, keepRaw: async (s) => s });
    await probes.ready;
    const report = await probes.finish([]);
    expect(report.captured).toEqual([]);
    expect(report.notCaptured.map((n) => n.probe)).toEqual(['zio', 'kstat']);
    expect(report.notCaptured[0]!.reason).toMatch(/preflight failed on replayed guest: sudo: a password is required/);
    expect(shell.ran).toEqual(['preflight']);
  });

  it('bpftrace that exits without attaching: the runner starts at once, zio is not captured with its words, kstat still is', async () => {
    const shell = replayShell({ zio: async () => ({ exitCode: 1, stderr: 'ERROR: Could not resolve symbol: zio_done' }) });
    const probes = startChunkProbes(shell, ['zio', 'kstat'], { log, keepRaw: async (s) => s, attachTimeoutMs: 60_000 });
    const t0 = Date.now();
    await probes.ready;
    expect(Date.now() - t0).toBeLessThan(5_000);
    await sleep(100);
    const report = await probes.finish([]);
    expect(report.captured).toEqual(['kstat']);
    expect(report.notCaptured).toContainEqual({ probe: 'zio', reason: 'bpftrace did not attach: ERROR: Could not resolve symbol: zio_done' });
  });

  it('a target without a shell, or probes turned off: nothing runs, and it says why', async () => {
    const none = await startChunkProbes(undefined, ['kstat'], { log, keepRaw: async (s) => s }).finish([]);
    expect(none).toEqual({ captured: [], notCaptured: [{ probe: 'kstat', reason: 'this target offers no root shell' }], rawKeys: [], scripts: [] });
    const shell = replayShell();
    const off = await startChunkProbes(shell, [], { log, keepRaw: async (s) => s }).finish([]);
    expect(off).toEqual({ captured: [], notCaptured: [], rawKeys: [], scripts: [] });
    expect(shell.ran).toEqual([]);
  });
});
