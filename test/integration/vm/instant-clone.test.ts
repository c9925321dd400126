import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultGoldenCacheDir } from '../../../activities/golden/paths.js';
import { hypervisorResolver, type Hypervisor } from '../../../activities/vm/hypervisor.js';
import { findGolden, VmSizeSchema } from '../../../activities/vm/index.js';
import { saveGoldenState, withClone, type CloneOptions, type ReadyVm } from '../../../activities/vm/lifecycle.js';
import { Qcow2Storage } from '../../../activities/vm/qcow2-storage.js';
import { findSavedState } from '../../../activities/vm/saved-state.js';
import { loadCatalog } from '../../../core/catalog/index.js';
import { createLogger } from '../../../lib/log.js';
import { keptTestOutput, oneGroupRunfile, runRunfileInClone } from '../../support/guest-zts.js';

const log = createLogger('instant-clone-test', 'warn');
// The debian13 ztest golden of the current recipe, when this machine has built it (the demo and the
// slow tier build it; goldens live outside the clone). Without one this file says so and skips.
const golden = findGolden(defaultGoldenCacheDir(), loadCatalog().get('debian13'), 'ztest');
if (!golden) process.stderr.write('instant-clone: no debian13 golden cached on this machine: the real-VM check is SKIPPED\n');

const RUNFILE = oneGroupRunfile('functional/cli_root/zpool_create', ['zpool_create_001_pos']);

/** What a clone tells about itself: the things two restored clones must not share. */
async function identity(vm: ReadyVm): Promise<{ hostname: string; uuid: string; hostid: string; clockSkewSeconds: number }> {
  const r = await vm.ssh.exec('hostname; cat /proc/sys/kernel/random/uuid; date +%s.%N; hostid', { timeoutMs: 60_000 });
  const [hostname, uuid, clock, hostid] = r.stdout.trim().split('\n');
  return { hostname: hostname!, uuid: uuid!, hostid: hostid!, clockSkewSeconds: Math.abs(Number(clock) - Date.now() / 1000) };
}

// The main path checked on every change where a golden exists: clones restored from the golden's
// saved running machine (no boot), two at once, each its own machine, each running a real ZTS test.
// Slow tier for now. The restore takes 3–24 s to SSH here (66 s and more cold). An earlier session
// saw a restored guest's monotonic clock jump hours ahead under a test (KILLED after a 13551 s
// 'duration'); on 2026-12-04 three restores (states 1 to 40 min old) kept uptime and monotonic time
// continuous with the host's, but one of two concurrent clones FAILed zpool_create_001_pos once and
// passed on the next two tries: the failure message now carries the test's own output.
describe.skipIf(!golden || process.env.ZFSLAB_SLOW !== '1')('instant clones of the cached debian13 golden', () => {
  let hypervisor: Hypervisor;
  const cloneRoot = mkdtempSync(join(tmpdir(), 'zfslab-instant-'));
  const options = (runId: string): CloneOptions => ({
    runId,
    golden: golden!,
    storage: new Qcow2Storage(),
    hypervisor,
    cloneRoot,
    ...VmSizeSchema.parse({}),
    instant: true,
    log,
  });

  beforeAll(async () => {
    hypervisor = await hypervisorResolver(defaultGoldenCacheDir(), log)(golden!);
    // The first use on a machine saves the state (one cold boot); every later run only restores.
    const existing = await findSavedState(golden!, { accel: hypervisor.accel, ...VmSizeSchema.parse({}) });
    if (!('dir' in existing)) expect(await saveGoldenState(options('instant-save'), log)).toBeDefined();
  }, 30 * 60_000);

  afterAll(() => rmSync(cloneRoot, { recursive: true, force: true }));

  it(
    'two clones restored at once are each their own machine, and each runs a real ZTS test',
    async () => {
      const one = async (runId: string) =>
        withClone(options(runId), async (vm) => {
          const who = await identity(vm);
          const outputBase = join(cloneRoot, `${runId}-results`);
          const zts = await runRunfileInClone(vm, RUNFILE, { outputBase, timeoutMs: 20 * 60_000, log });
          process.stderr.write(`instant-clone: ${vm.cloneId} ${vm.start.kind} ready in ${vm.bootSeconds}s, zts ${zts.seconds}s\n`);
          return {
            vm: { cloneId: vm.cloneId, start: vm.start, bootSeconds: vm.bootSeconds },
            who,
            results: zts.results,
            log: keptTestOutput(outputBase, 'zpool_create_001_pos'),
          };
        });
      const [a, b] = await Promise.all([one('instant-a'), one('instant-b')]);
      for (const clone of [a, b]) {
        expect(clone.vm.start.kind, JSON.stringify(clone.vm.start)).toBe('restored');
        expect(clone.who.hostname).toBe(`zfslab-${clone.vm.cloneId}`);
        expect(clone.who.clockSkewSeconds).toBeLessThan(120);
        const test = clone.results.find((r) => r.testId.endsWith('zpool_create_001_pos') && r.kind === 'test');
        expect(test?.outcome, `${JSON.stringify(clone.results)}\n--- the test's output ---\n${clone.log}`).toBe('PASS');
      }
      expect(a.who.hostname).not.toBe(b.who.hostname);
      expect(a.who.uuid).not.toBe(b.who.uuid);
      expect(a.who.hostid).not.toBe(b.who.hostid);
    },
    45 * 60_000,
  );
});
