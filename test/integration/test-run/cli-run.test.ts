import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { XMLParser } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../lib/store/open.js';
import { PlanJsonSchema, TestRunJsonSchema } from '../../../apps/cli/commands/test-run/json.js';
import { ChunkResultsFileSchema } from '../../../core/test-run/chunk-results.js';
import { storeFlavorId } from '../../../core/test-run/ids.js';
import { runKeys } from '../../../core/test-run/keys.js';
import { storeUrlOf } from '../../../lib/config.js';
import { invocations, makeCounterSuite } from '../../support/counter-suite.js';
import { untar } from '../../support/untar.js';
import { connectTestClient, runCli, testArtifacts, useWorld } from '../../support/stack.js';

// `zfslab test native …` end to end: the real CLI, real coordinator and host workers, the real
// Temporal server and MinIO, the real test-runner.py (Debian's, unpacked in .tools) on real scripts.
describe('zfslab test native', () => {
  const setup = useWorld('cli-run');
  const scratch = mkdtempSync(join(tmpdir(), 'zfslab-cli-run-'));

  afterAll(async () => {
    rmSync(scratch, { recursive: true, force: true });
  });

  it('passes: exit 0, --json validates, results in the store, artifacts in MinIO, JUnit written', async () => {
    const suite = makeCounterSuite(join(scratch, 'pass'), { groups: 2, perGroup: 3, sleepSeconds: 0 });
    const junit = join(scratch, 'pass.xml');
    const markdown = join(scratch, 'pass.md');
    const html = join(scratch, 'pass.html');
    const run = await runCli(
      ['test', 'native', '--runfile', suite.runfile, '--json', '--junit', junit, '--markdown', markdown, '--html', html],
      setup.world.env,
    );
    expect(run.code, run.stderr).toBe(0);
    const json = TestRunJsonSchema.parse(JSON.parse(run.stdout));
    const flavorId = storeFlavorId('native', setup.world.hostId);
    expect(json.outcome).toBe('passed');
    expect(json.totals).toEqual({
      tests: 6,
      counts: { PASS: 6, FAIL: 0, SKIP: 0, KILLED: 0, CRASH: 0 },
      unexpected: 0,
      classes: { regression: 0, flaky: 0, known: 0, crash: 0, infra: 0 },
    });
    expect(json.targets).toEqual([
      expect.objectContaining({ target: 'native', flavorId, outcome: 'passed', tests: 6, openzfsVersion: expect.stringMatching(/^\d+\.\d+\.\d+$/) }),
    ]);
    expect(json.files).toEqual([junit, markdown, html]);
    // The HTML report beside them, from the store: the run and its matrix.
    const report = readFileSync(html, 'utf8');
    expect(report).toContain(`zfslab run ${json.runId}`);
    expect(report).toContain('id="matrix"');

    // Every script ran exactly once.
    expect([...invocations(suite).values()].every((n) => n === 1)).toBe(true);
    expect(invocations(suite).size).toBe(6 + 2 * 2);

    // The store holds one row per script, classified.
    const store = await openStore(storeUrlOf(setup.world.loaded));
    try {
      const results = await store.getResults(json.runId);
      expect(
        results
          .filter((r) => r.kind === 'test')
          .map((r) => r.testId)
          .sort(),
      ).toEqual([...suite.testIds].sort());
      expect(results.every((r) => r.classification === 'pass' && r.flavorId === flavorId)).toBe(true);
      expect((await store.getRun(json.runId))?.status).toBe('passed');
    } finally {
      await store.close();
    }

    // MinIO holds the shard runfile, the chunk's parsed results, the runner's tree and results.json.
    const artifacts = testArtifacts(setup.world);
    try {
      const keys = (await artifacts.list(`runs/${json.runId}/${flavorId}/1/`)).map((o) => o.key);
      expect(keys).toContain(runKeys.shardRunfile(json.runId, flavorId, 1));
      expect(keys).toContain(runKeys.shardResults(json.runId, flavorId, 1));
      expect(keys.some((k) => /\/results\/chunk-000\/attempt-1\/\d{8}T\d{6}\/log$/.test(k))).toBe(true);
      expect(keys.some((k) => k.endsWith('/attempt-1/chunk.run'))).toBe(true);
      const chunk = ChunkResultsFileSchema.parse(JSON.parse((await artifacts.getText(runKeys.chunkResults(json.runId, flavorId, 1, 0)))!));
      expect(chunk.results.filter((r) => r.kind === 'test')).toHaveLength(6);
    } finally {
      artifacts.destroy();
    }

    // The Temporal UI can find the run by its search attributes.
    const client = await connectTestClient();
    try {
      const found: string[] = [];
      const query = `ZfslabKind = 'zts-run' AND ZfslabOutcome = 'passed' AND ZfslabSuite = 'runfile' AND ZfslabHost = '${setup.world.hostId}' AND ZfslabFlavor = 'native'`;
      for (let i = 0; i < 50 && found.length === 0; i++) {
        for await (const wf of client.workflow.list({ query })) found.push(wf.workflowId);
        if (found.length === 0) await new Promise((r) => setTimeout(r, 200));
      }
      expect(found).toEqual([json.workflowId]);
      const target = client.workflow.list({
        query: `ZfslabKind = 'zts-target' AND ZfslabOpenzfsVersion = '${json.targets[0]!.openzfsVersion}' AND ZfslabHost = '${setup.world.hostId}'`,
      });
      const targets: string[] = [];
      for await (const wf of target) targets.push(wf.workflowId);
      expect(targets).toContain(`${json.workflowId}-native`);
    } finally {
      await client.connection.close();
    }

    const xml = new XMLParser({ ignoreAttributes: false }).parse(readFileSync(junit, 'utf8'));
    expect(xml.testsuites.testsuite['@_tests']).toBe('10');
    expect(readFileSync(markdown, 'utf8')).toMatch(/passed/);
  }, 180_000);

  it('an unexpected failure: exit 1, the failing test in the matrix and in JUnit', async () => {
    const suite = makeCounterSuite(join(scratch, 'fail'), { groups: 1, perGroup: 3, sleepSeconds: 0, failing: ['a02_pos'] });
    const junit = join(scratch, 'fail.xml');
    const run = await runCli(['test', 'native', '--runfile', suite.runfile, '--junit', junit], setup.world.env);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/functional\/counter_a\/a02_pos\s+FAIL/);
    expect(run.stdout).not.toMatch(/a01_pos/); // passing rows are hidden by default
    expect(run.stdout).toMatch(/failed — 3 tests: 2 pass, 1 fail/);
    expect(readFileSync(junit, 'utf8')).toMatch(/<testcase[^>]*name="a02_pos"[^>]*>\s*<failure/);
    // The failure's incident bundle is linked from the run and holds what the machine said.
    const [latest] = JSON.parse((await runCli(['runs', '--limit', '1', '--json'], setup.world.env)).stdout) as { id: string }[];
    const shown = JSON.parse((await runCli(['show', latest!.id, '--json'], setup.world.env)).stdout) as {
      artifacts: { name: string; s3Key: string; uri: string }[];
    };
    const incident = shown.artifacts.find((a) => a.name.startsWith('incident-'));
    expect(incident?.s3Key, JSON.stringify(shown.artifacts)).toMatch(/chunks\/\d{3}\/incident-attempt-\d+\.tar\.gz$/);
    const artifacts = testArtifacts(setup.world);
    try {
      const members = await untar(gunzipSync((await artifacts.getBytes(incident!.s3Key))!));
      const manifest = JSON.parse(members.get('manifest.json')!) as { members: { name: string; absent?: string }[] };
      expect(manifest.members.map((m) => m.name)).toEqual(
        expect.arrayContaining(['dmesg.txt', 'stacks.txt', 'zpool-status.txt', 'zpool-events.txt', 'results.json']),
      );
      expect(JSON.parse(members.get('results.json')!).failed.map((r: { testId: string }) => r.testId)).toEqual(['functional/counter_a/a02_pos']);
      expect(members.get('dmesg.txt') ?? manifest.members.find((m) => m.name === 'dmesg.txt')?.absent).toBeTruthy();
    } finally {
      artifacts.destroy();
    }
  }, 180_000);

  it('a test that fails once and passes on its re-run is flaky: exit 0, said so; one failing every time is a regression: exit 1', async () => {
    const suite = makeCounterSuite(join(scratch, 'flaky'), { groups: 1, perGroup: 3, sleepSeconds: 0, flaky: ['a01_pos'] });
    const flaky = await runCli(['test', 'native', '--runfile', suite.runfile], setup.world.env);
    expect(flaky.code, flaky.stderr).toBe(0);
    expect(flaky.stdout).toMatch(/passed — 3 tests: 2 pass, 1 fail.*; 0 unexpected \(1 flaky \(passed on a re-run\)\)/);
    expect(flaky.stdout).toMatch(/but 1 test\(s\) flaky/);
    // The re-run ran the failed test alone (its group's setup and cleanup around it), once.
    expect(invocations(suite).get('counter_a/a01_pos')).toBe(2);
    expect(invocations(suite).get('counter_a/a02_pos')).toBe(1);

    const both = makeCounterSuite(join(scratch, 'flaky-and-broken'), { groups: 1, perGroup: 3, sleepSeconds: 0, flaky: ['a01_pos'], failing: ['a03_pos'] });
    const run = await runCli(['test', 'native', '--runfile', both.runfile, '--json'], setup.world.env);
    expect(run.code, run.stderr).toBe(1);
    const json = TestRunJsonSchema.parse(JSON.parse(run.stdout));
    expect(json.totals.classes).toMatchObject({ regression: 1, flaky: 1 });
    expect(json.totals.unexpected).toBe(1);
    expect(invocations(both).get('counter_a/a03_pos')).toBe(2);

    const off = makeCounterSuite(join(scratch, 'no-reruns'), { groups: 1, perGroup: 2, sleepSeconds: 0, flaky: ['a01_pos'] });
    const once = await runCli(['test', 'native', '--runfile', off.runfile, '--reruns', '0'], setup.world.env);
    expect(once.code, once.stderr).toBe(1);
    expect(invocations(off).get('counter_a/a01_pos')).toBe(1);
  }, 240_000);

  it('zero results is an infrastructure error: exit 3', async () => {
    const dir = join(scratch, 'empty');
    makeCounterSuite(dir, { groups: 1, perGroup: 1 });
    const runfile = join(dir, 'missing.run');
    writeFileSync(runfile, "[DEFAULT]\nuser = root\ntimeout = 10\noutputdir = /var/tmp/x\n\n[tests/functional/counter_a]\ntests = ['no_such_test']\n");
    const run = await runCli(['test', 'native', '--runfile', runfile, '--json'], setup.world.env);
    expect(run.code, run.stderr).toBe(3);
    const json = TestRunJsonSchema.parse(JSON.parse(run.stdout));
    expect(json.outcome).toBe('infra-error');
    expect(json.totals.tests).toBe(0);
    expect(json.targets[0]?.infraErrors.join('\n')).toMatch(/no result|no test to run/);
  }, 180_000);

  it('an unknown test is a usage error naming the nearest, resolved against the native suite: exit 2', async () => {
    const run = await runCli(['test', 'native', '--run', 'zpool_create_001_poss'], setup.world.env);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/unknown test "zpool_create_001_poss".*nearest: cli_root\/zpool_create\/zpool_create_001_pos/);
  }, 120_000);

  for (const suiteName of ['quick', 'linux', 'fault'] as const) {
    it(`--dry-run --suite ${suiteName}: the resolved selection, shards and makespan`, async () => {
      const json = await runCli(['test', 'native', '--suite', suiteName, '--shards', '3', '--dry-run', '--json'], setup.world.env);
      expect(json.code, json.stderr).toBe(0);
      const plan = PlanJsonSchema.parse(JSON.parse(json.stdout));
      const target = plan.targets[0]!;
      expect(target.plan!.selectedTests).toBeGreaterThan(suiteName === 'fault' ? 30 : 500);
      expect(target.plan!.shards.reduce((n, s) => n + s.tests, 0)).toBe(target.plan!.selectedTests);
      expect(target.plan!.makespan).toBeGreaterThanOrEqual(target.plan!.lowerBound);
      expect(target.plan!.parallel).toBe(false);
      const human = await runCli(['test', 'native', '--suite', suiteName, '--shards', '3', '--dry-run'], setup.world.env);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toMatch(new RegExp(`selection  ${target.plan!.selectedTests} tests in \\d+ groups`));
      expect(human.stdout).toMatch(/makespan {3}\S+ \(lower bound \S+, \d\.\d{3}×/);
    }, 120_000);
  }
});
