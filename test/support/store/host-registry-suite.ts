import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registrationOf, placementHostOf } from '../../../core/host/registry.js';
import type { HostProbeReport } from '../../../core/host/probe-report.js';
import { UsageError } from '../../../lib/errors.js';
import { HostRegistry, openStore } from '../../../lib/store/index.js';
import { recordSkippedTargets, skippedTargets } from '../../../lib/store/skipped-targets.js';
import type { StoreEngine } from './engines.js';

const quiet = { logger: (await import('pino')).default({ level: 'silent' }) };

/**
 * A probe report shaped like this project's build machine's (2 cores, 24 GiB, no /dev/kvm, qemu and
 * debootstrap present, one debian13 ztest golden), with KVM set per test.
 */
export function probeReport(hostId: string, kvm: HostProbeReport['sections']['kvm']['usable'], guestBooted?: boolean): HostProbeReport {
  const stamp = { attempt: 1, collectedAt: '2026-12-03T19:00:00.000Z' };
  const tool = { present: true, version: '1.0' };
  return {
    schema: 'zfslab.host-probe/v1',
    hostId,
    probedAt: '2026-12-03T19:00:01.000Z',
    sections: {
      system: {
        ...stamp,
        hostname: `${hostId}.lab`,
        kernel: '6.1.0-40-amd64',
        os: 'Debian GNU/Linux 12 (bookworm)',
        arch: 'x64',
        cpus: 2,
        cpuModel: 'x',
        memoryBytes: 24 * 2 ** 30,
      },
      disk: { ...stamp, imageDir: '/srv/images', freeBytes: 2 ** 40, totalBytes: 2 ** 41 },
      kvm: {
        ...stamp,
        devicePresent: kvm,
        usable: kvm,
        ...(guestBooted === undefined ? {} : { guestBoot: { kernel: '/boot/vmlinuz', booted: guestBooted, seconds: 1.2, detail: 'x' } }),
      },
      qemu: { ...stamp, system: tool, img: tool },
      zfs: { ...stamp, zfs: { present: false }, zpool: { present: false } },
      tools: { ...stamp, debootstrap: tool, bpftrace: { present: false } },
      tracing: { ...stamp, tracefsMounted: false, tracepoints: { works: false, detail: 'x' }, kprobes: { works: false, detail: 'x' } },
      diskSpeed: { ...stamp, measured: false, seconds: 0, bytesWritten: 0, writeMiBPerSecond: 0 },
    },
    worker: { vmSlots: 2, tags: ['internet'], goldens: ['debian13'] },
  };
}

export function hostRegistrySuite(engine: StoreEngine): void {
  describe(`host registry on ${engine.name}`, () => {
    beforeAll(() => engine.start());
    afterAll(() => engine.stop());

    it('registers what a probe proved, keeps health across probes and records every health change', async () => {
      const store = await openStore(await engine.freshUrl(), quiet);
      try {
        const registry = new HostRegistry(store.db);
        // A run naming a host before any probe: a row without capabilities, `unknown`.
        await registry.ensure('lab-a', '2026-12-03T18:00:00Z');
        expect((await registry.get('lab-a'))?.capabilities).toEqual([]);
        const first = await registry.register(registrationOf(probeReport('lab-a', true, true)), '2026-12-03T19:00:02Z');
        expect(first.capabilities).toEqual(['debootstrap', 'internet', 'kvm', 'qemu']);
        expect(first.facts).toMatchObject({ vmSlots: 2, goldens: ['debian13'], accelerator: 'kvm', cpus: 2 });
        expect(first.health.state).toBe('unknown');

        const checked = await registry.applyHealth('lab-a', {
          kind: 'health-check',
          at: '2026-12-03T19:05:00Z',
          passed: true,
          why: 'probe + boot + smoke passed',
        });
        expect(checked.transition).toMatchObject({ from: 'unknown', to: 'good', by: 'system' });
        // A later probe replaces capabilities and facts, not health.
        const again = await registry.register(registrationOf(probeReport('lab-a', false)), '2026-12-03T20:00:00Z');
        expect(again.capabilities).toEqual(['debootstrap', 'internet', 'qemu']);
        expect(again.health.state).toBe('good');
        expect(placementHostOf(again)).toEqual({
          hostId: 'lab-a',
          health: 'good',
          capabilities: again.capabilities,
          goldens: ['debian13'],
          vmSlots: 2,
          busyVmSlots: 0,
        });

        await registry.applyHealth('lab-a', { kind: 'maintenance', at: '2026-12-03T20:01:00Z', by: 'operator:alice', why: 'disk swap' });
        await registry.applyHealth('lab-a', { kind: 'retire', at: '2026-12-03T20:02:00Z', by: 'operator:alice', why: 'decommissioned' });
        await expect(registry.applyHealth('lab-a', { kind: 'recheck', at: '2026-12-03T20:03:00Z', by: 'operator:bob', why: 'x' })).rejects.toThrow(
          /host lab-a is retired: cannot apply recheck/,
        );
        expect((await registry.transitions('lab-a')).map((t) => `${t.from}>${t.to} ${t.by}`)).toEqual([
          'maintenance>retired operator:alice',
          'good>maintenance operator:alice',
          'unknown>good system',
        ]);
        expect((await registry.list()).map((h) => [h.hostId, h.health.state])).toEqual([['lab-a', 'retired']]);
        await expect(registry.applyHealth('lab-z', { kind: 'retire', at: '2026-12-03T20:03:00Z', by: 'x', why: 'y' })).rejects.toThrow(UsageError);
        await expect(registry.applyHealth('lab-z', { kind: 'retire', at: '2026-12-03T20:03:00Z', by: 'x', why: 'y' })).rejects.toThrow(/known: lab-a/);
      } finally {
        await store.close();
      }
    });

    it('keeps the flavors a run skipped with the run, once each', async () => {
      const store = await openStore(await engine.freshUrl(), quiet);
      try {
        await store.recordRun({ id: 'run-s', selection: 'suite:quick', target: 'debian13', startedAt: '2026-12-03T20:00:00Z' });
        const skipped = [
          { flavorId: 'ubuntu24', reason: 'lab-a: no ubuntu24 golden and cannot build one (lacks internet)' },
          { flavorId: 'centos9', reason: 'lab-a: no centos9 golden and cannot build one (lacks internet)' },
        ];
        await recordSkippedTargets(store.db, 'run-s', skipped);
        await recordSkippedTargets(store.db, 'run-s', skipped);
        expect(await skippedTargets(store.db, 'run-s')).toEqual([skipped[1], skipped[0]]);
        expect(await skippedTargets(store.db, 'run-other')).toEqual([]);
      } finally {
        await store.close();
      }
    });

    it('reads a host row written before the registry (capabilities `{}`) as unknown with nothing proven', async () => {
      const store = await openStore(await engine.freshUrl(), quiet);
      try {
        await store.upsertHost({ id: 'old', hostname: 'old', capabilities: {}, lastSeenAt: '2026-11-01T00:00:00Z' });
        const entry = await new HostRegistry(store.db).get('old');
        expect(entry).toMatchObject({ hostId: 'old', capabilities: [], health: { state: 'unknown' } });
        expect(entry?.facts).toBeUndefined();
      } finally {
        await store.close();
      }
    });
  });
}
