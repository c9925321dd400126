import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { executeChunk } from '../../../activities/zts/chunk.js';
import { NativeTargetProvider, type OpenedTarget, type OpenTargetRequest, type TargetProvider } from '../../../activities/zts/targets.js';
import { findFirstCrash, UNRESPONSIVE_HEADLINE } from '../../../core/crash/console.js';
import { ChunkResultsFileSchema } from '../../../core/test-run/chunk-results.js';
import { runKeys } from '../../../core/test-run/keys.js';
import { createLogger } from '../../../lib/log.js';
import { invocations, makeCounterSuite } from '../../support/counter-suite.js';
import { createWorld, testArtifacts, testStack } from '../../support/stack.js';

/**
 * The chunk's crash policy with the real runner and real S3: the host's own runner stands in for
 * the guest's, and a "console" file stands in for the clone's serial log. The test that crashes
 * appends a real guest panic (a sysrq crash captured from the debian13 golden) to that console and
 * then hangs, as a guest whose kernel died would leave it. The real-VM version is in the slow tier.
 */
const PANIC_CONSOLE = (() => {
  const boot = readFileSync(join(import.meta.dirname, '../../fixtures/crash/debian13/boot1-serial.log'), 'utf8');
  return boot.slice(boot.indexOf('sysrq: Trigger a crash'));
})();

class ConsoleWatchedProvider implements TargetProvider {
  readonly opened: string[] = [];
  constructor(
    private readonly inner: TargetProvider,
    private readonly consoleFile: string,
  ) {}
  async open(request: OpenTargetRequest): Promise<OpenedTarget> {
    // Each open is a fresh "clone": its console starts empty.
    writeFileSync(this.consoleFile, 'Linux version 6.12.117+deb13-amd64\n');
    this.opened.push(request.runId);
    const target = await this.inner.open(request);
    return { ...target, kernelConsole: () => readFileSync(this.consoleFile, 'utf8') };
  }
}

/** A target that stops answering liveness probes once `wedgedFile` exists, its console silent. */
class SilentWedgeProvider implements TargetProvider {
  readonly opened: string[] = [];
  constructor(
    private readonly inner: TargetProvider,
    private readonly wedgedFile: string,
  ) {}
  async open(request: OpenTargetRequest): Promise<OpenedTarget> {
    rmSync(this.wedgedFile, { force: true });
    this.opened.push(request.runId);
    const target = await this.inner.open(request);
    return { ...target, kernelConsole: () => 'Linux version 6.12.117+deb13-amd64\nzfs: module loaded\n', alive: async () => !existsSync(this.wedgedFile) };
  }
}

describe('a chunk whose target kernel crashes under one test', () => {
  const world = createWorld('chunk-crash');
  const scratch = mkdtempSync(join(tmpdir(), 'zfslab-chunk-crash-'));
  afterAll(() => {
    world.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('records that test as CRASH with its signature and console, and runs the rest of the chunk on a fresh target', async () => {
    const suite = makeCounterSuite(join(scratch, 'suite'), { groups: 1, perGroup: 4, sleepSeconds: 0.2, timeoutSeconds: 120 });
    const consoleFile = join(scratch, 'console.log');
    const crashing = suite.testIds[1]!; // functional/counter_a/a02_pos
    const script = join(suite.dir, 'tests', `${crashing}.sh`);
    writeFileSync(
      script,
      `#!/bin/sh\necho ${crashing.replace('functional/', '')} >> ${suite.invocationsLog}\ncat ${join(scratch, 'panic.txt')} >> ${consoleFile}\nsleep 300\n`,
    );
    chmodSync(script, 0o755);
    writeFileSync(join(scratch, 'panic.txt'), PANIC_CONSOLE);

    const artifacts = testArtifacts(world);
    const runId = `chunk-crash-${Date.now()}`;
    const runfileKey = runKeys.shardRunfile(runId, 'native-test', 1);
    await artifacts.putBytes(runfileKey, readFileSync(suite.runfile, 'utf8'));
    const log = createLogger('test', 'silent');
    const provider = new ConsoleWatchedProvider(new NativeTargetProvider({ toolsDir: testStack().toolsDir, log }), consoleFile);
    const started = Date.now();
    const result = await executeChunk(
      { runId, target: 'native', flavorId: 'native-test', shard: 1, chunk: 1, runfileKey, testIds: suite.testIds, testDir: suite.dir },
      {
        attempt: 1,
        heartbeatDetails: undefined,
        heartbeat: () => undefined,
        signal: new AbortController().signal,
        artifacts,
        provider,
        workRoot: join(scratch, 'work'),
        log,
        keepAliveMs: 1_000,
        crashPollMs: 200,
      },
    );
    // Seen at once, not at the test's 120 s timeout.
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(result.counts).toMatchObject({ PASS: 3, CRASH: 1, FAIL: 0, KILLED: 0 });
    expect(result.testsLeft).toBe(0);
    expect(provider.opened).toHaveLength(2);

    const file = ChunkResultsFileSchema.parse(JSON.parse((await artifacts.getText(result.resultsKey))!));
    const tests = file.results.filter((r) => r.kind === 'test');
    expect(tests.map((r) => [r.testId, r.outcome])).toEqual(suite.testIds.map((id) => [id, id === crashing ? 'CRASH' : 'PASS']));
    const crash = tests.find((r) => r.outcome === 'CRASH')!.crash!;
    expect(crash.kind).toBe('panic');
    expect(crash.signature).toBe(findFirstCrash(PANIC_CONSOLE)!.signature);
    const excerpt = await artifacts.getText(crash.consoleKey!);
    expect(excerpt).toContain('Kernel panic - not syncing: sysrq triggered crash');

    // The crashed test ran once and was not retried; the tests after it ran on the second target.
    const counts = invocations(suite);
    expect(counts.get(crashing.replace('functional/', ''))).toBe(1);
    for (const id of suite.testIds) expect(counts.get(id.replace('functional/', '')), id).toBe(1);
  }, 180_000);

  it('records a test whose target stops answering, with a silent console, as an unresponsive CRASH and goes on', async () => {
    const suite = makeCounterSuite(join(scratch, 'silent-suite'), { groups: 1, perGroup: 3, sleepSeconds: 0.2, timeoutSeconds: 120 });
    const wedged = join(scratch, 'wedged');
    const stuck = suite.testIds[0]!;
    const script = join(suite.dir, 'tests', `${stuck}.sh`);
    writeFileSync(script, `#!/bin/sh\necho ${stuck.replace('functional/', '')} >> ${suite.invocationsLog}\ntouch ${wedged}\nsleep 300\n`);
    chmodSync(script, 0o755);

    const artifacts = testArtifacts(world);
    const runId = `chunk-silent-${Date.now()}`;
    const runfileKey = runKeys.shardRunfile(runId, 'native-test', 1);
    await artifacts.putBytes(runfileKey, readFileSync(suite.runfile, 'utf8'));
    const log = createLogger('test', 'silent');
    const provider = new SilentWedgeProvider(new NativeTargetProvider({ toolsDir: testStack().toolsDir, log }), wedged);
    const started = Date.now();
    const result = await executeChunk(
      { runId, target: 'native', flavorId: 'native-test', shard: 1, chunk: 1, runfileKey, testIds: suite.testIds, testDir: suite.dir },
      {
        attempt: 1,
        heartbeatDetails: undefined,
        heartbeat: () => undefined,
        signal: new AbortController().signal,
        artifacts,
        provider,
        workRoot: join(scratch, 'silent-work'),
        log,
        keepAliveMs: 1_000,
        crashPollMs: 200,
        liveness: { intervalMs: 200, misses: 3 },
      },
    );
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(result.counts).toMatchObject({ PASS: 2, CRASH: 1, FAIL: 0, KILLED: 0 });
    expect(provider.opened).toHaveLength(2);
    const file = ChunkResultsFileSchema.parse(JSON.parse((await artifacts.getText(result.resultsKey))!));
    const crash = file.results.find((r) => r.outcome === 'CRASH')!;
    expect(crash.testId).toBe(stuck);
    expect(crash.crash).toMatchObject({ kind: 'unresponsive', headline: UNRESPONSIVE_HEADLINE });
    expect(await artifacts.getText(crash.crash!.consoleKey!)).toContain('zfs: module loaded');
    expect(invocations(suite).get(stuck.replace('functional/', ''))).toBe(1);
  }, 180_000);
});
