import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withClone } from '../../../activities/vm/lifecycle.js';
import { Qcow2Storage } from '../../../activities/vm/qcow2-storage.js';
import type { RunResult } from '../../../lib/exec/run-command.js';
import { shellQuote } from '../../../core/text/shell-quote.js';
import type { SshExecutor } from '../../../lib/exec/ssh-executor.js';
import { sweepOrphanClones } from '../../../activities/vm/sweeper.js';
import { ZfsStorage } from '../../../activities/vm/zfs-storage.js';
import { CommandFailed } from '../../../lib/errors.js';
import { createLogger } from '../../../lib/log.js';
import { debian13Golden } from '../../support/debian13-golden.js';

/**
 * The zfs storage backend for real, as on a kldload host: the host here has no ZFS, but a booted clone
 * of the debian13 golden has the real module, so the backend's commands run in the guest (as root over
 * the clone's SSH) against a real pool on one of its virtio disks. A small qcow2 with a known pattern
 * stands in for the golden image; qemu-utils comes from Debian's mirror (the guest reaches it through
 * qemu's user network). ZFSLAB_SLOW=1 only.
 */
const slow = process.env.ZFSLAB_SLOW === '1';
const log = createLogger('zfs-storage-guest-test', 'warn');

/** The backend's Runner, in the guest as root; fails like runCommand does. */
function guestRunner(ssh: SshExecutor): (command: string, args: readonly string[]) => Promise<RunResult> {
  return async (command, args) => {
    const line = `sudo -n ${[command, ...args].map(shellQuote).join(' ')}`;
    const r = await ssh.exec(line, { timeoutMs: 300_000 });
    if (r.exitCode !== 0) throw new CommandFailed(line, r.exitCode, r.stdout, r.stderr);
    return { exitCode: 0, stdout: r.stdout, stderr: r.stderr };
  };
}

describe.skipIf(!slow)('zfs storage backend in a guest with real ZFS', () => {
  it(
    'imports a golden into a zvol @golden once, clones it labelled with the run, lists and sweeps it with zfs destroy',
    async () => {
      const { golden, hypervisor } = await debian13Golden(log);
      const cloneRoot = mkdtempSync(join(tmpdir(), 'zfslab-clones-'));
      await withClone(
        { runId: 'slow-zfs-storage', golden, storage: new Qcow2Storage(), hypervisor, cloneRoot, cpus: 2, memoryMiB: 3072, vdevCount: 1, vdevSizeGiB: 2, log },
        async (vm) => {
          const sh = async (line: string): Promise<string> => {
            const r = await vm.ssh.exec(line, { timeoutMs: 600_000 });
            if (r.exitCode !== 0) throw new Error(`${line}: exit ${r.exitCode}: ${r.stderr.slice(-600)}`);
            return r.stdout;
          };
          // The golden ships without package lists (its build cleans them).
          await sh(
            'sudo -n apt-get update -q >/dev/null && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends qemu-utils >/dev/null',
          );
          await sh(`sudo -n modprobe zfs && sudo -n zpool create -f tank ${vm.disks[0]} && sudo -n zfs create tank/zfslab`);
          // The stand-in golden: 64 MiB qcow2 with a 1 MiB pattern at offset 0.
          await sh('sudo -n qemu-img create -q -f qcow2 /var/tmp/golden.qcow2 64M && sudo -n qemu-io -c "write -q -P 0xab 0 1M" /var/tmp/golden.qcow2');
          const want = (
            await sh(
              'sudo -n qemu-img convert -f qcow2 -O raw /var/tmp/golden.qcow2 /var/tmp/golden.raw && sudo -n head -c 1048576 /var/tmp/golden.raw | sha256sum',
            )
          ).split(' ')[0];

          const storage = new ZfsStorage('tank/zfslab', guestRunner(vm.ssh));
          const goldenDisk = { name: 'stand-in-golden', path: '/var/tmp/golden.qcow2', format: 'qcow2' as const };
          const createdAt = new Date(Date.now() - 3600_000).toISOString();
          const labels = ['c-zfs1', 'c-zfs2'].map((cloneId) => ({ cloneId, runId: `run-of-${cloneId}`, golden: goldenDisk.name, createdAt }));
          const disks = [];
          for (const label of labels) disks.push(await storage.createClone(goldenDisk, label, join(cloneRoot, label.cloneId)));
          expect(disks.map((d) => [d.path, d.format])).toEqual([
            ['/dev/zvol/tank/zfslab/clones/c-zfs1', 'raw'],
            ['/dev/zvol/tank/zfslab/clones/c-zfs2', 'raw'],
          ]);

          // The golden was imported once: one zvol, one @golden snapshot, both clones of it.
          const datasets = await sh('sudo -n zfs list -H -t all -o name,origin -r tank/zfslab');
          expect(datasets.split('\n').filter(Boolean).sort()).toEqual([
            'tank/zfslab\t-',
            'tank/zfslab/clones\t-',
            'tank/zfslab/clones/c-zfs1\ttank/zfslab/goldens/stand-in-golden@golden',
            'tank/zfslab/clones/c-zfs2\ttank/zfslab/goldens/stand-in-golden@golden',
            'tank/zfslab/goldens\t-',
            'tank/zfslab/goldens/stand-in-golden\t-',
            'tank/zfslab/goldens/stand-in-golden@golden\t-',
          ]);
          // A clone's device holds the golden's bytes.
          const got = (await sh('sudo -n head -c 1048576 /dev/zvol/tank/zfslab/clones/c-zfs1 | sha256sum')).split(' ')[0];
          expect(got).toBe(want);
          // A write to one clone reaches neither the golden nor the other clone.
          await sh('sudo -n dd if=/dev/zero of=/dev/zvol/tank/zfslab/clones/c-zfs1 bs=1M count=1 conv=fsync status=none');
          expect((await sh('sudo -n head -c 1048576 /dev/zvol/tank/zfslab/clones/c-zfs2 | sha256sum')).split(' ')[0]).toBe(want);

          expect((await storage.listClones()).map((c) => [c.cloneId, c.runId]).sort()).toEqual([
            ['c-zfs1', 'run-of-c-zfs1'],
            ['c-zfs2', 'run-of-c-zfs2'],
          ]);

          // The sweeper, with only c-zfs2's run open: c-zfs1 goes with zfs destroy, c-zfs2 stays.
          const report = await sweepOrphanClones({
            cloneRoot,
            storages: [storage],
            hypervisor,
            // The VM's own clone is in cloneRoot too: its run is open.
            isRunOpen: async (runId) => runId === 'run-of-c-zfs2' || runId === 'slow-zfs-storage',
            log,
          });
          expect(report.errors).toEqual([]);
          expect(report.destroyed.map((d) => d.cloneId)).toEqual(['c-zfs1']);
          expect(await sh('sudo -n zfs list -H -o name -r tank/zfslab/clones')).toBe('tank/zfslab/clones\ntank/zfslab/clones/c-zfs2\n');
          await storage.destroyClone(labels[1]!, join(cloneRoot, 'c-zfs2'));
          expect(await sh('sudo -n zfs list -H -o name -r tank/zfslab/clones')).toBe('tank/zfslab/clones\n');
          // The golden's snapshot stays for the next clone.
          expect(await sh('sudo -n zfs list -H -o name -t snapshot -r tank/zfslab/goldens')).toBe('tank/zfslab/goldens/stand-in-golden@golden\n');
        },
      );
      // Only the sweeper's own bookkeeping dirs were ever here; withClone removed the VM's.
      expect(readdirSync(cloneRoot).filter((d) => !d.startsWith('c-zfs'))).toEqual([]);
    },
    40 * 60_000,
  );
});
