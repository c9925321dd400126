import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultGoldenCacheDir } from '../../activities/golden/paths.js';
import { hypervisorResolver } from '../../activities/vm/hypervisor.js';
import { findGolden, VmSizeSchema } from '../../activities/vm/index.js';
import { withClone } from '../../activities/vm/lifecycle.js';
import { Qcow2Storage } from '../../activities/vm/qcow2-storage.js';
import { loadCatalog } from '../../core/catalog/index.js';
import { createLogger } from '../../lib/log.js';
import { keptTestOutput, oneGroupRunfile, runRunfileInClone } from '../support/guest-zts.js';
import { qemuUnder } from '../support/qemu-processes.js';

/**
 * The mission's main path on every `npm test` where a debian13 golden is cached on the machine: one
 * real ZTS test in a clone restored from the golden's saved running machine (instant clone; the first
 * run on a machine saves that state with one cold boot). This project runs after the others, alone
 * (vitest.config.ts), so the emulated guest competes with no other test. Without a golden it says
 * plainly that it skipped.
 */
const golden = findGolden(defaultGoldenCacheDir(), loadCatalog().get('debian13'), 'ztest');
if (!golden)
  process.stderr.write(
    'restored-clone: SKIPPED, no debian13 ztest golden is cached on this machine (zfslab golden-ztest debian13 builds one): no real ZTS test ran in a VM\n',
  );

const TEST = 'functional/cli_root/zpool_create/zpool_create_001_pos';
const RUNFILE = oneGroupRunfile('functional/cli_root/zpool_create', ['zpool_create_001_pos']);

describe.skipIf(!golden)('one real ZTS test in a restored clone of the cached debian13 golden', () => {
  const cloneRoot = mkdtempSync(join(tmpdir(), 'zfslab-restored-'));
  afterAll(() => rmSync(cloneRoot, { recursive: true, force: true }));

  it(
    `${TEST} PASSes in an instant clone, and the clone is gone after`,
    async () => {
      const log = createLogger('restored-clone', process.env.ZFSLAB_LOG_LEVEL ?? 'warn');
      const hypervisor = await hypervisorResolver(defaultGoldenCacheDir(), log)(golden!);
      const outputBase = join(cloneRoot, 'results');
      const started = performance.now();
      const run = await withClone(
        { runId: 'npm-test-restored', golden: golden!, storage: new Qcow2Storage(), hypervisor, cloneRoot, ...VmSizeSchema.parse({}), instant: true, log },
        async (vm) => ({ start: vm.start, ready: vm.bootSeconds, zts: await runRunfileInClone(vm, RUNFILE, { outputBase, timeoutMs: 15 * 60_000, log }) }),
      );
      const seconds = Math.round((performance.now() - started) / 1000);
      process.stderr.write(
        `restored-clone: ${run.start.kind} clone ready in ${run.ready} s, ${TEST} ${run.zts.results.find((r) => r.testId === TEST)?.outcome} in ${seconds} s in all\n`,
      );
      const output = keptTestOutput(outputBase, 'zpool_create_001_pos');
      expect(run.start.kind, JSON.stringify(run.start)).toBe('restored');
      expect(run.zts.results.find((r) => r.testId === TEST && r.kind === 'test')?.outcome, output).toBe('PASS');
      expect(qemuUnder(cloneRoot)).toEqual([]);
    },
    20 * 60_000,
  );
});
