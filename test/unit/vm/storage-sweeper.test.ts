import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Qcow2Storage, readCloneLabel, writeCloneLabel } from '../../../activities/vm/qcow2-storage.js';
import { QemuHypervisor } from '../../../activities/vm/qemu-hypervisor.js';
import type { RunResult } from '../../../lib/exec/run-command.js';
import { sweepOrphanClones } from '../../../activities/vm/sweeper.js';
import { ZfsStorage } from '../../../activities/vm/zfs-storage.js';
import { runCommand } from '../../../lib/exec/run-command.js';
import { currentProcessIdentity, processStartTicks, type ProcessIdentity } from '../../../lib/process-identity.js';

describe('Qcow2Storage (real qemu-img)', () => {
  it('makes an overlay backed by the golden, labelled with the run, and destroys it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'zfslab-qcow2-'));
    const goldenPath = join(root, 'golden.qcow2');
    await runCommand('qemu-img', ['create', '-q', '-f', 'qcow2', goldenPath, '64M']);
    const storage = new Qcow2Storage();
    const label = { cloneId: 'c-0011223344', runId: 'run-1', golden: 'g', createdAt: new Date().toISOString() };
    const dir = join(root, 'clones', label.cloneId);
    const disk = await storage.createClone({ name: 'g', path: goldenPath, format: 'qcow2' }, label, dir);
    const info = JSON.parse((await runCommand('qemu-img', ['info', '--output=json', disk.path])).stdout) as Record<string, unknown>;
    expect(info['backing-filename']).toBe(goldenPath);
    expect(info['virtual-size']).toBe(64 * 1024 * 1024);
    expect(readCloneLabel(dir)).toEqual(label);
    expect(await storage.listClones(join(root, 'clones'))).toEqual([label]);
    await storage.destroyClone(label, dir);
    expect(existsSync(disk.path)).toBe(false);
    expect(await storage.listClones(join(root, 'clones'))).toEqual([]);
  });
});

describe('ZfsStorage argv', () => {
  function recorder(existing: Set<string>) {
    const calls: string[] = [];
    const run = async (command: string, args: readonly string[]): Promise<RunResult> => {
      calls.push([command, ...args].join(' '));
      if (command === 'zfs' && args[0] === 'list' && args.includes('name') && !existing.has(args.at(-1)!)) throw new Error('does not exist');
      if (command === 'qemu-img') return { exitCode: 0, stdout: JSON.stringify({ 'virtual-size': 17179869184 }), stderr: '' };
      if (command === 'zfs' && args[0] === 'list') {
        return { exitCode: 0, stdout: 'tank/zfslab/clones/c-1\trun-7\tc-1\t1795700000\ntank/zfslab/clones/c-2\t-\t-\t1795700000\n', stderr: '' };
      }
      return { exitCode: 0, stdout: '', stderr: '' };
    };
    return { calls, run };
  }

  it('imports a golden into a zvol once, snapshots @golden, clones it with the run id as a user property', async () => {
    const { calls, run } = recorder(new Set());
    const storage = new ZfsStorage('tank/zfslab', run);
    const dir = mkdtempSync(join(tmpdir(), 'zfslab-zfs-'));
    const label = { cloneId: 'c-1', runId: 'run-7', golden: 'debian13-ztest-0123', createdAt: '2026-01-01T00:00:00Z' };
    const disk = await storage.createClone({ name: 'debian13-ztest-0123', path: '/g/disk.qcow2', format: 'qcow2' }, label, dir);
    expect(disk).toEqual({ label, path: '/dev/zvol/tank/zfslab/clones/c-1', format: 'raw' });
    expect(calls).toContain('zfs create -p -s -V 17179869184 -o volmode=dev -o zfslab:golden=debian13-ztest-0123 tank/zfslab/goldens/debian13-ztest-0123');
    expect(calls).toContain('qemu-img convert -n -f qcow2 -O raw /g/disk.qcow2 /dev/zvol/tank/zfslab/goldens/debian13-ztest-0123');
    expect(calls).toContain('zfs snapshot tank/zfslab/goldens/debian13-ztest-0123@golden');
    expect(calls).toContain('zfs clone -p -o zfslab:run=run-7 -o zfslab:clone=c-1 tank/zfslab/goldens/debian13-ztest-0123@golden tank/zfslab/clones/c-1');
    expect(readCloneLabel(dir)).toEqual(label);
  });

  it('reuses an existing @golden snapshot and destroys clones with zfs destroy', async () => {
    const { calls, run } = recorder(new Set(['tank/zfslab/goldens/g@golden', 'tank/zfslab/clones/c-1']));
    const storage = new ZfsStorage('tank/zfslab', run);
    await storage.createClone(
      { name: 'g', path: '/g/disk.qcow2', format: 'qcow2' },
      { cloneId: 'c-1', runId: 'r', golden: 'g', createdAt: '' },
      mkdtempSync(join(tmpdir(), 'z-')),
    );
    expect(calls.some((c) => c.startsWith('zfs create'))).toBe(false);
    await storage.destroyClone({ cloneId: 'c-1', runId: 'r', golden: 'g', createdAt: '' }, '/nonexistent');
    expect(calls.at(-1)).toBe('zfs destroy -r tank/zfslab/clones/c-1');
  });

  it('lists clones by their zfslab:run property (unlabelled ones have no run)', async () => {
    const { run } = recorder(new Set());
    const clones = await new ZfsStorage('tank/zfslab', run).listClones();
    expect(clones.map((c) => [c.cloneId, c.runId])).toEqual([
      ['c-1', 'run-7'],
      ['c-2', ''],
    ]);
  });
});

describe('orphan sweeper', () => {
  it('destroys clones of closed or unknown runs and of dead owners, keeps open and young ones', async () => {
    const root = mkdtempSync(join(tmpdir(), 'zfslab-sweep-'));
    const old = new Date(Date.now() - 3600_000).toISOString();
    const make = (cloneId: string, runId: string | undefined, createdAt = old, owner?: ProcessIdentity) => {
      const dir = join(root, cloneId);
      mkdirSync(dir, { recursive: true });
      if (runId !== undefined) writeCloneLabel(dir, { cloneId, runId, golden: 'g', createdAt, ...(owner ? { owner } : {}) });
      writeFileSync(join(dir, 'disk.qcow2'), 'overlay');
      // a pid file naming a pid that is not a qemu of this clone must not be killed
      writeFileSync(join(dir, 'qemu.pid'), `${process.pid}\n`);
    };
    make('c-open', 'run-open');
    make('c-closed', 'run-closed');
    make('c-young', 'run-closed', new Date().toISOString());
    make('c-nolabel', undefined);
    // Made by a worker that died (a real process, gone): an orphan although its run is open and it is young.
    const dead = spawnSync('true');
    make('c-dead-owner', 'run-open', new Date().toISOString(), { pid: dead.pid!, startTicks: 1 });
    // Made by this (live) process for an open run: in use.
    make('c-live-owner', 'run-open', old, currentProcessIdentity());
    // Made by another live process (pid 1 here), for a run this sweeper's Temporal does not know: not ours to judge.
    const init = { pid: 1, startTicks: processStartTicks(1)! };
    make('c-other-owner', 'run-elsewhere', old, init);
    // Made by this process for a run that closed: destroyed.
    make('c-own-closed', 'run-closed', old, currentProcessIdentity());
    const report = await sweepOrphanClones({
      cloneRoot: root,
      storages: [new Qcow2Storage()],
      hypervisor: new QemuHypervisor({ accel: 'tcg' }),
      isRunOpen: async (runId) => runId === 'run-open',
    });
    expect(report.destroyed.map((d) => [d.cloneId, d.reason]).sort()).toEqual([
      ['c-closed', 'run-closed'],
      ['c-dead-owner', 'owner-gone'],
      ['c-nolabel', 'unlabelled'],
      ['c-own-closed', 'run-closed'],
    ]);
    expect(report.kept.map((k) => k.cloneId).sort()).toEqual(['c-live-owner', 'c-open', 'c-other-owner', 'c-young']);
    expect(readdirSync(root).sort()).toEqual(['c-live-owner', 'c-open', 'c-other-owner', 'c-young']);
    expect(report.errors).toEqual([]);
  });
});
