import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { MockActivityEnvironment } from '@temporalio/testing';
import { writeIncidentBundle } from '../../../activities/fingerprint/bundle.js';
import { untar } from '../../support/untar.js';
import { afterAll, describe, expect, it } from 'vitest';
import { createVmActivities, type RecipeInCloneResult } from '../../../activities/vm/index.js';
import { findFirstCrash } from '../../../core/crash/console.js';
import { projectRoot } from '../../../lib/paths.js';
import { VmTargetProvider } from '../../../activities/vm/vm-target-provider.js';
import { executeChunk } from '../../../activities/zts/chunk.js';
import type { OpenedTarget, OpenTargetRequest, TargetProvider } from '../../../activities/zts/targets.js';
import { loadCatalog } from '../../../core/catalog/index.js';
import { ChunkResultsFileSchema } from '../../../core/test-run/chunk-results.js';
import { runKeys } from '../../../core/test-run/keys.js';
import { createLogger } from '../../../lib/log.js';
import { createWorld, testArtifacts } from '../../support/stack.js';
import { debian13Golden } from '../../support/debian13-golden.js';
import { qemuUnder } from '../../support/qemu-processes.js';

const GROUP = 'functional/cli_root/zpool_create';
const TESTS = ['zpool_create_001_pos', 'zpool_create_002_pos', 'zpool_create_003_pos'];
const CRASHING = `${GROUP}/zpool_create_002_pos`;
const RUNFILE = `[DEFAULT]
pre = setup
quiet = False
pre_user = root
user = root
timeout = 1800
post_user = root
post = cleanup
outputdir = /var/tmp/test_results
tags = ['functional']

[tests/${GROUP}]
tests = [${TESTS.map((t) => `'${t}'`).join(', ')}]
tags = ['functional', 'cli_root', 'zpool_create']
`;

/**
 * In the first clone only, a root shell in the guest waits for zpool_create_002_pos to start and
 * then panics the kernel for real (`echo c > /proc/sysrq-trigger`): qemu ends with the guest
 * (`panic=-1`, `-no-reboot`), as it would under a kernel bug the test hit.
 */
class PanicOnceProvider implements TargetProvider {
  opens = 0;
  constructor(private readonly inner: TargetProvider) {}
  async open(request: OpenTargetRequest): Promise<OpenedTarget> {
    const target = await this.inner.open(request);
    if (this.opens++ === 0 && target.capture) {
      void target.capture.shell
        .run(
          `sh -c 'while ! pgrep -f "[z]${TESTS[1]!.slice(1)}" >/dev/null; do sleep 0.5; done; sleep 2; echo c > /proc/sysrq-trigger'`,
          () => undefined,
          undefined,
          3_600_000,
        )
        .catch(() => undefined);
    }
    return target;
  }
}

describe.skipIf(process.env.ZFSLAB_SLOW !== '1')('a real guest kernel panic under one ZTS test (debian13 clone)', () => {
  const world = createWorld('crash-vm');
  const scratch = mkdtempSync(join(tmpdir(), 'zfslab-crash-vm-'));
  afterAll(() => {
    world.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('records the test as CRASH with the panic signature and console, runs the next test in a fresh clone, and leaves no qemu', async () => {
    const log = createLogger('crash-vm', process.env.ZFSLAB_LOG_LEVEL ?? 'warn');
    await debian13Golden(log);
    const artifacts = testArtifacts(world);
    const runId = `crash-vm-${Date.now()}`;
    const flavorId = 'debian13';
    const runfileKey = runKeys.shardRunfile(runId, flavorId, 1);
    await artifacts.putBytes(runfileKey, RUNFILE);
    const cloneRoot = join(scratch, 'clones');
    const provider = new PanicOnceProvider(new VmTargetProvider({ catalog: loadCatalog(), maxVms: 1, cloneRoot, log }));
    const started = Date.now();
    const result = await executeChunk(
      {
        runId,
        target: flavorId,
        flavorId,
        shard: 1,
        chunk: 1,
        runfileKey,
        testIds: TESTS.map((t) => `${GROUP}/${t}`),
        testDir: '/usr/share/zfs/zfs-tests',
      },
      {
        attempt: 1,
        heartbeatDetails: undefined,
        heartbeat: () => undefined,
        signal: new AbortController().signal,
        artifacts,
        provider,
        workRoot: join(scratch, 'work'),
        log,
        keepAliveMs: 5_000,
      },
    );
    process.stderr.write(`crash-vm: ${Math.round((Date.now() - started) / 1000)} s, clones opened ${provider.opens}\n`);

    const file = ChunkResultsFileSchema.parse(JSON.parse((await artifacts.getText(result.resultsKey))!));
    const tests = file.results.filter((r) => r.kind === 'test');
    expect(tests.map((r) => [r.testId, r.outcome])).toEqual([
      [`${GROUP}/zpool_create_001_pos`, 'PASS'],
      [CRASHING, 'CRASH'],
      [`${GROUP}/zpool_create_003_pos`, 'PASS'],
    ]);
    expect(provider.opens).toBe(2);
    const crash = tests[1]!.crash!;
    expect(crash.kind).toBe('panic');
    expect(crash.headline).toBe('Kernel panic - not syncing: sysrq triggered crash');
    expect(await artifacts.getText(crash.consoleKey!)).toMatch(/sysrq_handle_crash/);
    expect(result.counts).toMatchObject({ PASS: 2, CRASH: 1 });
    // The crash left an incident bundle: the guest was not asked anything, its console is in it.
    expect(file.incidents.map((i) => i.testIds)).toEqual([[CRASHING]]);
    const bundle = await untar(gunzipSync((await artifacts.getBytes(file.incidents[0]!.key))!));
    expect(bundle.get('serial.log')).toMatch(/sysrq triggered crash/);
    const manifest = JSON.parse(bundle.get('manifest.json')!) as { members: { name: string; absent?: string }[] };
    expect(manifest.members.find((m) => m.name === 'dmesg.txt')?.absent).toMatch(/the guest kernel died under/);
    // Both clones are gone: no qemu runs on an image under this test's clone root, and no clone file is left.
    expect(qemuUnder(cloneRoot)).toEqual([]);
    expect(existsSync(cloneRoot) ? readdirSync(cloneRoot) : []).toEqual([]);
  }, 3_600_000);

  it("collects an incident bundle from a live clone over SSH: the guest's dmesg, zpool events, kstats and stacks", async () => {
    const log = createLogger('crash-vm', process.env.ZFSLAB_LOG_LEVEL ?? 'warn');
    await debian13Golden(log);
    const cloneRoot = join(scratch, 'bundle-clones');
    const provider = new VmTargetProvider({ catalog: loadCatalog(), maxVms: 1, cloneRoot, log });
    const opened = await provider.open({
      target: 'debian13',
      flavorId: 'debian13',
      runId: `bundle-${Date.now()}`,
      marker: { name: 'ZFSLAB_TEST_MARKER', value: 'bundle' },
      signal: new AbortController().signal,
    });
    const path = join(scratch, 'incident.tar.gz');
    try {
      await writeIncidentBundle({ outPath: path, target: opened.incidentTarget!, serialLog: opened.kernelConsole!(), results: { failed: [] } });
    } finally {
      await opened.close();
    }
    const bundle = await untar(gunzipSync(readFileSync(path)));
    const manifest = JSON.parse(bundle.get('manifest.json')!) as { host: string; kernel: string; members: { name: string; absent?: string }[] };
    expect(manifest.host).toMatch(/^guest c-[0-9a-f]+ of debian13-ztest-/);
    expect(manifest.kernel).toMatch(/\+deb13-amd64$/);
    expect(bundle.get('dmesg.txt')).toMatch(/Linux version/);
    expect(bundle.get('zpool-events.txt')).toBeDefined();
    expect(bundle.get('kstat/arcstats.txt')).toMatch(/^hits\s+\d+\s+\d+/m);
    expect(bundle.get('serial.log')).toMatch(/Linux version/);
    expect(qemuUnder(cloneRoot)).toEqual([]);
  }, 3_600_000);

  it('reports a recipe that panics the guest as CRASH with its console, once, and leaves no qemu', async () => {
    const log = createLogger('crash-vm', process.env.ZFSLAB_LOG_LEVEL ?? 'warn');
    const { golden } = await debian13Golden(log);
    const cloneRoot = join(scratch, 'recipe-clones');
    const artifacts = testArtifacts(world);
    const vm = createVmActivities({ maxVms: 1, cloneRoot, artifacts });
    const started = Date.now();
    const out: RecipeInCloneResult = await new MockActivityEnvironment().run(vm.runRecipeInClone, {
      runId: `crash-recipe-${Date.now()}`,
      flavorId: 'debian13',
      goldenDir: golden.dir,
      recipe: { name: 'panic.sh', script: 'echo c > /proc/sysrq-trigger\n', timeoutMs: 600_000 },
    });
    process.stderr.write(`crash-vm recipe: ${Math.round((Date.now() - started) / 1000)} s, boot ${out.clone.bootSeconds} s\n`);
    expect(out.outcome).toBe('CRASH');
    expect(out.crash).toMatchObject({ kind: 'panic', headline: 'Kernel panic - not syncing: sysrq triggered crash' });
    // The console excerpt and the output are in S3; the result carries their keys.
    expect(await artifacts.getText(out.crash!.consoleKey)).toMatch(/sysrq_handle_crash/);
    expect(await artifacts.getText(out.outputKey)).toContain('# stdout');
    expect(out.golden).toMatchObject({ name: golden.name, openzfsVersion: expect.stringMatching(/^2\.3\./) });
    // The same bug as on another boot, months apart: the sysrq panic of the captured console (after its hung task) has this signature too.
    const captured = readFileSync(join(projectRoot, 'test/fixtures/crash/debian13/boot1-serial.log'), 'utf8').split('\n').slice(1026).join('\n');
    expect(out.crash!.signature).toBe(findFirstCrash(captured)!.signature);
    expect(qemuUnder(cloneRoot)).toEqual([]);
  }, 3_600_000);
});
