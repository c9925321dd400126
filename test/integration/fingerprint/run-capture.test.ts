import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureRunFingerprint } from '../../../activities/fingerprint/runs.js';
import { captureFingerprint } from '../../../activities/fingerprint/capture.js';
import { localCaptureShell, sshCaptureShell } from '../../../activities/fingerprint/shell.js';
import type { Executor } from '../../../lib/exec/executor.js';
import { localExecutor } from '../../../lib/exec/local.js';
import { wrapInProcessGroup } from '../../../lib/exec/ssh-executor.js';
import { pathPattern } from '../../../core/fingerprint/path-glob.js';
import { parseFingerprint } from '../../../core/fingerprint/schema.js';
import { memoryStore } from '../../support/memory-fingerprint-store.js';
import { fixtureDir } from '../../unit/fingerprint/fixtures.js';

// Real bpftrace captures of a real workload, as root (from test/unit/fingerprint/runs.test.ts,
// whose other tests need nothing running).
const run = { runId: 'run-1', flavor: 'debian-12', shard: 0, workload: 'zts-sanity' };

describe('fingerprints in runs', () => {
  const canCapture = process.getuid?.() === 0 && spawnSync('bpftrace', ['--version']).status === 0;
  it.runIf(canCapture)('captures alongside a workload someone else starts (follow mode) and stores it with the run', { timeout: 180_000 }, async () => {
    const store = memoryStore();
    const script = join(fixtureDir, 'capture', 'workload.sh');
    const scratch = mkdtempSync(join(tmpdir(), 'zfslab-follow-'));
    const readyFile = join(scratch, 'ready');
    const result = await captureRunFingerprint(
      localCaptureShell(),
      { ...run, followExec: script, readyFile, onReady: () => void spawn(script, [scratch], { stdio: 'ignore' }) },
      store,
    );
    expect(result.fingerprintUri).toBe('s3://zfslab-artifacts/runs/run-1/debian-12/0/fingerprint.json');
    expect(result.comparison.status).toBe('missing');
    const stored = parseFingerprint(JSON.parse(store.objects.get('runs/run-1/debian-12/0/fingerprint.json')!.toString()));
    if (!stored.ok) throw new Error(stored.issues.join('; '));
    expect(stored.value.workload).toBe('zts-sanity');
    expect(stored.value.binaries_spawned.map((b) => b.path)).toEqual(expect.arrayContaining([script, '/usr/bin/python3', '/usr/bin/rm']));
    expect(stored.value.syscalls.sched_yield?.count).toBe(333);
    expect(stored.value.capture.exit_code).toBeNull();
    expect(store.objects.get('runs/run-1/debian-12/0/fingerprint-raw.jsonl')!.toString()).toMatch(/^\{"type":"zfslab","data":\{"event":"plan"/);
  });
});

describe('capture through the SSH shell', () => {
  const canCapture = process.getuid?.() === 0 && spawnSync('bpftrace', ['--version']).status === 0 && spawnSync('sudo', ['-n', 'true']).status === 0;
  it.runIf(canCapture)("the command line survives sudo -n and the SSH executor's process-group wrapper", { timeout: 180_000 }, async () => {
    // No sshd on the lab host: this executor runs exactly the string a guest's sshd would get
    // (activities/vm wrapInProcessGroup around `sudo -n <capture>`) with sh -c, streaming stdout.
    const executor: Executor = {
      name: 'sh -c as sshd runs it',
      exec: async (command, options) => {
        const result = await localExecutor.exec(['sh', '-c', wrapInProcessGroup(command as string)], options);
        // The real executor strips the wrapper's pgid line from stderr.
        return { ...result, stderr: result.stderr.replace(/^zfslab-pgid:\d+\n/, '') };
      },
      upload: (content, path, mode) => localExecutor.upload(content, path, mode),
      download: (from, to) => localExecutor.download(from, to),
    };
    const script = join(fixtureDir, 'capture', 'workload.sh');
    const scratch = mkdtempSync(join(tmpdir(), 'zfslab-ssh-'));
    const { fingerprint } = await captureFingerprint(sshCaptureShell(executor, { name: 'guest (sh -c)' }), { command: [script, scratch], cwd: '/' });
    expect(fingerprint.syscalls.sched_yield?.count).toBe(333);
    expect(fingerprint.binaries_spawned.find((b) => b.parents.length === 0)?.path).toBe(script);
    expect(fingerprint.filesystem_paths_modified).toContain(`${pathPattern(scratch)}/copy-1.txt`);
  });
});
