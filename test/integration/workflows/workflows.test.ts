import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, TemporalFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../../core/catalog/index.js';
import { hostTaskQueue } from '../../../core/queues.js';
import { emptyCounts } from '../../../core/test-run/chunk-results.js';
import type { MatrixRunInput } from '../../../core/test-run/input.js';
import type { MatrixRunResult } from '../../../core/test-run/types.js';
import type { RecipeMatrixOutput, RecipeRunOutput } from '../../../workflows/recipe-run.js';
import { distDir } from '../../../lib/paths.js';
import { testStack } from '../../support/stack.js';

/**
 * The workflows on TestWorkflowEnvironment with mocked activities: how each run ends when its input
 * is bad, its golden is missing, its host never polls, its chunks keep failing, or it is cancelled.
 * The environment is the suite's real Temporal dev server (createFromExistingServer): the
 * time-skipping test server is a download this machine cannot make, and bounds of a few seconds
 * make skipping unnecessary. The workflows are the built bundle the coordinator runs.
 */

type Activities = Record<string, (...args: never[]) => Promise<unknown>>;

let env: TestWorkflowEnvironment;
const suffix = `${process.pid}-${Math.floor(Math.random() * 1e6)}`;
const coordinatorQueue = `wf-test-${suffix}`;
let sequence = 0;
const nextId = (what: string) => `wf-${what}-${suffix}-${++sequence}`;
const hostIdOf = (what: string) => `h-${what}-${suffix}`.slice(0, 60);
const debian13 = loadCatalog().get('debian13');

beforeAll(async () => {
  const stack = testStack();
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: stack.temporalAddress, namespace: stack.namespace });
});

afterAll(async () => {
  await env?.teardown();
});

/** Runs `body` while a coordinator worker (the workflows + `coordinator` activities) and, if given, a host worker poll. */
async function withWorkers<T>(
  activities: { coordinator?: Activities; host?: { hostId: string; activities: Activities }; moreHosts?: { hostId: string; activities: Activities }[] },
  body: (host: Worker | undefined, more: Worker[]) => Promise<T>,
): Promise<T> {
  const coordinator = await Worker.create({
    connection: env.nativeConnection,
    namespace: testStack().namespace,
    taskQueue: coordinatorQueue,
    workflowBundle: { codePath: join(distDir, 'workflows.bundle.js') },
    activities: activities.coordinator ?? {},
  });
  const host = activities.host
    ? await Worker.create({
        connection: env.nativeConnection,
        namespace: testStack().namespace,
        taskQueue: hostTaskQueue(activities.host.hostId),
        activities: activities.host.activities,
      })
    : undefined;
  const more = await Promise.all(
    (activities.moreHosts ?? []).map((h) =>
      Worker.create({ connection: env.nativeConnection, namespace: testStack().namespace, taskQueue: hostTaskQueue(h.hostId), activities: h.activities }),
    ),
  );
  // The host workers run beside the body rather than around it: a test may shut one down mid-run.
  const runs = [host, ...more].map((w) => w?.run());
  try {
    return await coordinator.runUntil(body(host, more));
  } finally {
    for (const w of [host, ...more]) if (w?.getState() === 'RUNNING') w.shutdown();
    await Promise.all(runs);
  }
}

/** The ApplicationFailure a workflow failed with (type and message), or what else it failed with. */
async function failureOf(result: Promise<unknown>): Promise<{ type: string | undefined; message: string; nonRetryable?: boolean | null | undefined }> {
  try {
    await result;
  } catch (err) {
    expect(err).toBeInstanceOf(WorkflowFailedError);
    let e: unknown = (err as WorkflowFailedError).cause;
    while (e instanceof TemporalFailure && !(e instanceof ApplicationFailure) && e.cause) e = e.cause;
    if (e instanceof ApplicationFailure) return { type: e.type ?? undefined, message: e.message, nonRetryable: e.nonRetryable };
    return { type: e instanceof Error ? e.name : undefined, message: String((e as Error)?.message ?? e) };
  }
  throw new Error('the workflow succeeded; a failure was expected');
}

function start<T>(workflow: string, args: unknown[]): Promise<T> {
  return env.client.workflow.execute(workflow, {
    taskQueue: coordinatorQueue,
    workflowId: nextId(workflow),
    args,
    workflowExecutionTimeout: '2m',
  }) as Promise<T>;
}

// ---- mocked ZTS activities: a native target whose plan and chunk outcomes each test chooses ----

interface ChunkCall {
  shard: number;
  chunk: number;
}

/** What a host's runZtsChunk was called with, and on which host. */
interface ChunkRun extends ChunkCall {
  host: string;
  testIds: string[];
  resume?: { testId: string }[];
}

function ztsMocks(options: {
  hostId: string;
  shards: number[];
  parallel?: boolean;
  /** Tests per chunk (default 1) and each chunk's cost (default 1). */
  testsPerChunk?: number;
  cost?: (shard: number, chunk: number) => number;
  runChunk: (call: ChunkCall, run: ChunkRun) => Promise<void>;
  /** The tests the store would say are still regressions, per shard and re-run round (default: none). */
  rerunCandidates?: (shard: number, round: number) => string[];
}) {
  const recorded: ChunkCall[] = [];
  const ran: ChunkRun[] = [];
  const reruns: { resultsKey: string; testIds: string[] }[] = [];
  const closed: string[] = [];
  const health: { hostId: string; event: { kind: string; why: string } }[] = [];
  const perChunk = options.testsPerChunk ?? 1;
  const tests = options.shards.reduce((n, c) => n + c, 0) * perChunk;
  const flavorId = `native-${options.hostId}`;
  const hostFor = (label: string): Activities => ({
    async resolveZtsTarget() {
      return {
        target: 'native',
        flavorId,
        hostId: options.hostId,
        flavor: { id: flavorId, os: 'debian', release: '13', kernel: '6.12.48', openzfsVersion: '2.3.2' },
        runfileText: '[DEFAULT]\n',
        testDir: '/nonexistent',
        runfileSource: 'mocked',
        selectedTests: tests,
      };
    },
    async runZtsChunk(input: ChunkCall & { testIds: string[]; resume?: { testId: string }[] }) {
      const run: ChunkRun = { host: label, shard: input.shard, chunk: input.chunk, testIds: input.testIds, ...(input.resume ? { resume: input.resume } : {}) };
      ran.push(run);
      await options.runChunk({ shard: input.shard, chunk: input.chunk }, run);
      return {
        resultsKey: `k/${input.shard}/${input.chunk}`,
        counts: { ...emptyCounts(), PASS: input.testIds.length },
        testsLeft: 0,
        runnerSeconds: 1,
        attempt: 1,
      };
    },
  });
  const host = hostFor(options.hostId);
  const coordinator: Activities = {
    async openZtsRun() {},
    async planZtsTarget() {
      return {
        basis: 'test-count',
        historySource: 'mocked',
        shardCount: options.shards.length,
        parallel: options.parallel ?? false,
        makespan: tests,
        lowerBound: tests,
        total: tests,
        unknownTests: 0,
        selectedTests: tests,
        selectedSections: options.shards.length,
        planSeconds: tests,
        perShardSeconds: options.shards.map((c) => c),
        shards: options.shards.map((chunks, index) => ({
          index,
          sections: [`s${index}`],
          tests: chunks,
          cost: chunks,
          runfileKey: `runfile/${index}`,
          chunks: Array.from({ length: chunks }, (_, c) => ({
            index: c,
            testIds: perChunk === 1 ? [`functional/s${index}/t${c}`] : Array.from({ length: perChunk }, (_, t) => `functional/s${index}/c${c}t${t}`),
            cost: options.cost?.(index, c) ?? 1,
          })),
        })),
      };
    },
    async recordZtsChunk(input: { shard: number; resultsKey: string }) {
      const chunk = Number(input.resultsKey.match(/(\d+)\D*$/)?.[1] ?? -1);
      recorded.push({ shard: input.shard, chunk });
      return { tests: 1, counts: { ...emptyCounts(), PASS: 1 }, unexpected: 0, byClassification: {}, found: true };
    },
    async ztsRerunCandidates(input: { shard: number; round: number }) {
      return options.rerunCandidates?.(input.shard, input.round) ?? [];
    },
    async recordZtsRerun(input: { resultsKey: string; testIds: string[] }) {
      reruns.push({ resultsKey: input.resultsKey, testIds: input.testIds });
      return { rerun: input.testIds.length, passed: 0 };
    },
    async finishZtsTarget() {
      return { tests: recorded.length, counts: { ...emptyCounts(), PASS: recorded.length }, unexpected: 0 };
    },
    async closeZtsRun(input: { outcome: string }) {
      closed.push(input.outcome);
    },
    async applyHostHealth(input: { hostId: string; event: { kind: string; why: string } }) {
      health.push(input);
      return { record: {} };
    },
  };
  return { host, hostFor, coordinator, recorded, ran, closed, health, reruns };
}

function matrixInput(hostId: string, extra: Partial<MatrixRunInput> = {}): MatrixRunInput {
  return {
    runId: nextId('run'),
    hostId,
    targets: ['native'],
    request: { kind: 'selection', selection: { suite: 'quick' } },
    heartbeatTimeoutSeconds: 2,
    ...extra,
  };
}

describe('workflows end, with a reason, instead of retrying their task forever', () => {
  it('a recipe whose flavor has no golden fails as MissingGolden, naming the flavor and how to build it', async () => {
    const hostId = hostIdOf('nogolden');
    const failure = await withWorkers({ host: { hostId, activities: { findGolden: async () => undefined } } }, () =>
      failureOf(start('recipeRun', [{ runId: nextId('recipe'), hostId, flavor: debian13, recipe: { name: 'r.sh', script: 'true', timeoutSeconds: 60 } }])),
    );
    expect(failure.type).toBe('MissingGolden');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`no ztest golden of debian13 on host ${hostId}`);
    expect(failure.message).toContain('zfslab golden-ztest debian13');
  });

  it('invalid input to each workflow fails it as InvalidInput, naming the field', async () => {
    const failures = await withWorkers({}, () =>
      Promise.all([
        failureOf(start('matrixRun', [{ ...matrixInput('ok-host'), targets: [] }])),
        failureOf(start('targetRun', [{ ...matrixInput('Not A Host'), targets: undefined, target: 'native' }])),
        failureOf(start('recipeRun', [{ runId: 'r1', hostId: 'lab', flavor: debian13, recipe: { name: 'r.sh', script: '', timeoutSeconds: 60 } }])),
        failureOf(start('goldenBuild', [{ hostId: 'lab', flavor: { id: 'debian13' } }])),
        failureOf(start('hostProbe', [{ hostId: 'lab', diskBenchmarkSeconds: -1 }])),
      ]),
    );
    for (const f of failures) {
      expect(f.type).toBe('InvalidInput');
      expect(f.nonRetryable).toBe(true);
      expect(f.message).toMatch(/^invalid workflow input: /);
    }
    expect(failures.map((f) => f.message.split(': ')[1])).toEqual(['targets', 'hostId', 'recipe.script', 'flavor.name', 'diskBenchmarkSeconds']);
  });
});

describe('recipes', () => {
  const crash = { kind: 'panic', headline: 'Kernel panic - not syncing: sysrq triggered crash', signature: 'ffa0d05bddd04652' };
  const golden = { name: 'g-1', kernelRelease: '6.12.48+deb13-amd64', openzfsVersion: '2.3.9' };
  /** Host and coordinator activities for recipe runs; `outcomes` says what each flavor's recipe does. */
  function recipeMocks(outcomes: Record<string, 'PASS' | 'FAIL' | 'CRASH' | 'no-golden'>) {
    const runs: string[] = [];
    const recorded: Record<string, unknown>[] = [];
    const opened: Record<string, unknown>[] = [];
    const closed: string[] = [];
    const host: Activities = {
      findGolden: async ({ flavor }: { flavor: { id: string } }) => (outcomes[flavor.id] === 'no-golden' ? null : { name: `g-${flavor.id}`, goldenDir: '/g' }),
      runRecipeInClone: async ({ flavorId }: { flavorId: string }) => {
        runs.push(flavorId);
        const outcome = outcomes[flavorId];
        return {
          outcome,
          exitCode: outcome === 'PASS' ? 0 : outcome === 'FAIL' ? 1 : null,
          durationSeconds: 3,
          ...(outcome === 'CRASH' ? { crash: { ...crash, consoleKey: `runs/r/${flavorId}/recipe/console.log` } } : {}),
          outputKey: `runs/r/${flavorId}/recipe/output.log`,
          outputBytes: 10,
          outputTail: '# stdout\nsomething went wrong\n',
          clone: { cloneId: 'c-1', bootSeconds: 60, bootAttempts: 1, accel: 'tcg' },
          golden,
        };
      },
    };
    const coordinator: Activities = {
      openZtsRun: async (input: Record<string, unknown>) => void opened.push(input),
      closeZtsRun: async (input: { outcome: string }) => void closed.push(input.outcome),
      recordRecipeResult: async (input: Record<string, unknown> & { flavor: { id: string }; crash?: unknown }) => {
        recorded.push(input);
        return {
          testId: 'recipe/panic',
          outputUri: `s3://b/${input.flavor.id}/output.log`,
          resultUri: `s3://b/${input.flavor.id}/result.json`,
          ...(input.crash ? { consoleUri: `s3://b/${input.flavor.id}/console.log` } : {}),
        };
      },
    };
    return { host, coordinator, runs, recorded, opened, closed };
  }

  it('a recipe that crashes the guest is a CRASH with its console, run once: the crash is the result, not a reason to retry', async () => {
    const hostId = hostIdOf('rcrash');
    const mocks = recipeMocks({ debian13: 'CRASH' });
    const out = await withWorkers({ coordinator: mocks.coordinator, host: { hostId, activities: mocks.host } }, () =>
      start<RecipeRunOutput>('recipeRun', [
        { runId: nextId('recipe'), hostId, flavor: debian13, recipe: { name: 'panic.sh', script: 'echo c > /proc/sysrq-trigger', timeoutSeconds: 60 } },
      ]),
    );
    expect(mocks.runs).toEqual(['debian13']);
    expect(out).toMatchObject({ outcome: 'CRASH', crash, consoleUri: 's3://b/debian13/console.log', testId: 'recipe/panic', golden: 'g-1' });
    // The output went to S3 from the host: only its key and tail crossed the workflow.
    expect(mocks.recorded[0]).toMatchObject({
      outcome: 'CRASH',
      crash: { ...crash, consoleKey: 'runs/r/debian13/recipe/console.log' },
      outputKey: 'runs/r/debian13/recipe/output.log',
      golden,
    });
    expect(JSON.stringify(mocks.recorded[0])).not.toContain('something went wrong');
  });

  it('one recipe on several flavors is one run: each flavor its verdict, no golden an error for that flavor, the run closed by the worst', async () => {
    const hostId = hostIdOf('rmatrix');
    const catalog = loadCatalog();
    const mocks = recipeMocks({ debian12: 'PASS', debian13: 'FAIL', 'debian12-bpo': 'no-golden' });
    const runId = nextId('recipes');
    const out = await withWorkers({ coordinator: mocks.coordinator, host: { hostId, activities: mocks.host } }, () =>
      start<RecipeMatrixOutput>('recipeMatrix', [
        {
          runId,
          hostId,
          target: 'all',
          flavors: ['debian12', 'debian13', 'debian12-bpo'].map((id) => catalog.get(id)),
          recipe: { name: 'dedup.sh', script: 'true', timeoutSeconds: 60 },
          skipped: [{ flavorId: 'ubuntu24', reason: 'no golden' }],
        },
      ]),
    );
    expect(out.results.map((r) => [r.flavor, r.outcome]).sort()).toEqual([
      ['debian12', 'PASS'],
      ['debian13', 'FAIL'],
    ]);
    expect(out.errors).toEqual([{ flavor: 'debian12-bpo', error: expect.stringContaining('no ztest golden') }]);
    expect(out.outcome).toBe('failed');
    expect(mocks.opened).toEqual([
      expect.objectContaining({ runId, selection: 'recipe:dedup', target: 'all', skipped: [{ flavorId: 'ubuntu24', reason: 'no golden' }] }),
    ]);
    expect(mocks.closed).toEqual(['failed']);
  });
});

describe('a host that never polls', () => {
  it('fails a probe, a recipe and a golden build as HostUnavailable after run.hostWaitSeconds, naming the host', async () => {
    const hostId = hostIdOf('gone');
    const startedAt = Date.now();
    const failures = await withWorkers({}, () =>
      Promise.all([
        failureOf(start('hostProbe', [{ hostId, hostWaitSeconds: 2 }])),
        failureOf(
          start('recipeRun', [
            { runId: nextId('recipe'), hostId, flavor: debian13, recipe: { name: 'r.sh', script: 'true', timeoutSeconds: 60 }, hostWaitSeconds: 2 },
          ]),
        ),
        failureOf(start('goldenBuild', [{ hostId, flavor: debian13, hostWaitSeconds: 2 }])),
      ]),
    );
    for (const f of failures) {
      expect(f.type).toBe('HostUnavailable');
      expect(f.nonRetryable).toBe(true);
      expect(f.message).toContain(`host ${hostId} is unavailable: no worker picked up`);
      expect(f.message).toContain(`on ${hostTaskQueue(hostId)} within 2 s`);
    }
    expect(failures.map((f) => f.message.match(/picked up (\w+)/)?.[1])).toEqual(['probeHost', 'findGolden', 'planGoldenBuild']);
    expect(Date.now() - startedAt).toBeLessThan(30_000);
  });

  it('ends a ZTS run as an infrastructure error naming the host', async () => {
    const hostId = hostIdOf('zgone');
    const mocks = ztsMocks({ hostId, shards: [2], runChunk: async () => undefined });
    const result = await withWorkers({ coordinator: mocks.coordinator }, () =>
      start<MatrixRunResult>('matrixRun', [matrixInput(hostId, { hostWaitSeconds: 2 })]),
    );
    expect(result.outcome).toBe('infra-error');
    expect(result.targets[0]!.error).toContain(`host ${hostId} is unavailable`);
    expect(mocks.closed).toEqual(['infra-error']);
  });

  it('whose worker goes away mid-run: the chunk that finished is kept, every shard stops, the run closes as an infrastructure error', async () => {
    const hostId = hostIdOf('vanish');
    let hostWorker: Worker | undefined;
    const mocks = ztsMocks({
      hostId,
      shards: [3, 2],
      runChunk: async ({ shard, chunk }) => {
        // The host stops polling while its first chunk finishes: nothing after it is ever picked up.
        if (shard === 0 && chunk === 0) hostWorker?.shutdown();
      },
    });
    const startedAt = Date.now();
    const result = await withWorkers({ coordinator: mocks.coordinator, host: { hostId, activities: mocks.host } }, async (host) => {
      hostWorker = host;
      return start<MatrixRunResult>('matrixRun', [matrixInput(hostId, { hostWaitSeconds: 3 })]);
    });
    expect(result.outcome).toBe('infra-error');
    expect(mocks.ran.map(({ shard, chunk }) => ({ shard, chunk }))).toEqual([{ shard: 0, chunk: 0 }]);
    // Recorded: the chunk that ran, and the one the host never picked up (it left no results).
    expect(mocks.recorded).toEqual([
      { shard: 0, chunk: 0 },
      { shard: 0, chunk: 1 },
    ]);
    const errors = result.targets[0]!.totals.infraErrors;
    expect(errors[0]).toMatch(new RegExp(`^shard 0 chunk 1: host ${hostId} is unavailable`));
    expect(errors).toContain('shard 0: stopped, 1 chunk(s) not run');
    // The second shard is stopped without waiting out the host bound again.
    expect(errors).toContain('shard 1: stopped, 2 chunk(s) not run');
    expect(Date.now() - startedAt).toBeLessThan(3 * 2 * 1000 + 15_000);
    expect(mocks.closed).toEqual(['infra-error']);
    // The host goes `unknown` in the registry, once, with why.
    expect(mocks.health.map((h) => [h.hostId, h.event.kind])).toEqual([[hostId, 'infra-failure']]);
  });
});

describe('the chunk failure policy', () => {
  const broken = () => ApplicationFailure.nonRetryable('the runner died', 'ZtsRunnerBroken');

  it('two chunk failures in a row stop the shard; the chunks after them are not run', async () => {
    const hostId = hostIdOf('twofail');
    const mocks = ztsMocks({
      hostId,
      shards: [5],
      runChunk: async ({ chunk }) => {
        if (chunk === 1 || chunk === 2) throw broken();
      },
    });
    const result = await withWorkers({ coordinator: mocks.coordinator, host: { hostId, activities: mocks.host } }, () =>
      start<MatrixRunResult>('matrixRun', [matrixInput(hostId)]),
    );
    expect(mocks.ran.map((c) => c.chunk)).toEqual([0, 1, 2]);
    expect(result.targets[0]!.totals.infraErrors).toEqual([
      'shard 0 chunk 1: the runner died',
      'shard 0 chunk 2: the runner died',
      'shard 0: stopped, 2 chunk(s) not run',
    ]);
    expect(result.outcome).toBe('infra-error');
  });

  it('failures that are not consecutive do not stop it', async () => {
    const hostId = hostIdOf('alternate');
    const mocks = ztsMocks({
      hostId,
      shards: [4],
      runChunk: async ({ chunk }) => {
        if (chunk % 2 === 0) throw broken();
      },
    });
    const result = await withWorkers({ coordinator: mocks.coordinator, host: { hostId, activities: mocks.host } }, () =>
      start<MatrixRunResult>('matrixRun', [matrixInput(hostId)]),
    );
    expect(mocks.ran.map((c) => c.chunk)).toEqual([0, 1, 2, 3]);
    expect(result.targets[0]!.totals.infraErrors).toEqual(['shard 0 chunk 0: the runner died', 'shard 0 chunk 2: the runner died']);
  });
});

describe('re-runs of unexpected failures', () => {
  it('the tests still failing at the end of a shard run again as one more chunk, round by round, then the target closes', async () => {
    const hostId = hostIdOf('rerun');
    const rounds: number[] = [];
    const mocks = ztsMocks({
      hostId,
      shards: [3],
      runChunk: async () => {},
      rerunCandidates: (_shard, round) => {
        rounds.push(round);
        return round === 1 ? ['functional/s0/t0', 'functional/s0/t2'] : round === 2 ? ['functional/s0/t2'] : [];
      },
    });
    await withWorkers({ coordinator: mocks.coordinator, host: { hostId, activities: mocks.host } }, () =>
      start<MatrixRunResult>('matrixRun', [matrixInput(hostId, { reruns: 2 })]),
    );
    // Chunks 0–2 are the plan's; 3 and 4 the two rounds, each with the tests still failing.
    expect(mocks.ran.map((c) => [c.chunk, c.testIds])).toEqual([
      [0, ['functional/s0/t0']],
      [1, ['functional/s0/t1']],
      [2, ['functional/s0/t2']],
      [3, ['functional/s0/t0', 'functional/s0/t2']],
      [4, ['functional/s0/t2']],
    ]);
    expect(mocks.reruns.map((r) => r.testIds.length)).toEqual([2, 1]);
    expect(mocks.reruns[0]!.resultsKey).toMatch(/\/chunks\/0*3\/results\.json$/);
    expect(rounds).toEqual([1, 2]);
  });

  it('reruns 0 asks for no candidate and runs only the plan', async () => {
    const hostId = hostIdOf('norerun');
    let asked = 0;
    const mocks = ztsMocks({
      hostId,
      shards: [2],
      runChunk: async () => {},
      rerunCandidates: () => {
        asked++;
        return ['functional/s0/t0'];
      },
    });
    await withWorkers({ coordinator: mocks.coordinator, host: { hostId, activities: mocks.host } }, () =>
      start<MatrixRunResult>('matrixRun', [matrixInput(hostId, { reruns: 0 })]),
    );
    expect(mocks.ran.map((c) => c.chunk)).toEqual([0, 1]);
    expect(asked).toBe(0);
  });
});

describe('dynamic dispatch across hosts', () => {
  it('hands every chunk, longest first, to the next free slot of any host, each run and recorded once', async () => {
    const a = hostIdOf('dyna');
    const b = hostIdOf('dynb');
    const order: string[] = [];
    // Chunk costs the plan knows; the mocks take them as milliseconds ×20 so the slots really interleave.
    const cost = (shard: number, chunk: number) =>
      [
        [1, 9, 2],
        [7, 3, 5],
        [4, 8, 6],
      ][shard]![chunk]!;
    const mocks = ztsMocks({
      hostId: a,
      shards: [3, 3, 3],
      parallel: true,
      cost,
      runChunk: async (call) => {
        order.push(`${call.shard}/${call.chunk}`);
        await new Promise((resolve) => setTimeout(resolve, cost(call.shard, call.chunk) * 20));
      },
    });
    const result = await withWorkers(
      { coordinator: mocks.coordinator, host: { hostId: a, activities: mocks.host }, moreHosts: [{ hostId: b, activities: mocks.hostFor(b) }] },
      () =>
        start<MatrixRunResult>('matrixRun', [
          matrixInput(a, {
            dispatch: 'dynamic',
            dispatchHosts: [
              { hostId: a, slots: 2 },
              { hostId: b, slots: 2 },
            ],
          }),
        ]),
    );
    expect(result.outcome).toBe('passed');
    // Longest first: the four slots took the four costliest chunks at once.
    expect(new Set(order.slice(0, 4))).toEqual(new Set(['0/1', '2/1', '1/0', '2/2']));
    expect(mocks.ran.map((r) => `${r.shard}/${r.chunk}`).sort()).toEqual(['0/0', '0/1', '0/2', '1/0', '1/1', '1/2', '2/0', '2/1', '2/2']);
    expect(new Set(mocks.ran.map((r) => r.host))).toEqual(new Set([a, b]));
    expect(mocks.recorded.map((r) => `${r.shard}/${r.chunk}`).sort()).toEqual(['0/0', '0/1', '0/2', '1/0', '1/1', '1/2', '2/0', '2/1', '2/2']);
  });

  it('a host lost mid-chunk hands the chunk back; another host resumes it after the finished tests, and the lost host takes no more', async () => {
    const a = hostIdOf('dlosa');
    const b = hostIdOf('dlosb');
    let bTook = 0;
    const mocks = ztsMocks({
      hostId: a,
      shards: [2, 2],
      parallel: true,
      testsPerChunk: 3,
      runChunk: async (call, run) => {
        if (run.host !== b) {
          await new Promise((resolve) => setTimeout(resolve, 300));
          return;
        }
        bTook++;
        // b reports its first test finished, then goes silent (its machine died): past the heartbeat timeout the chunk moves.
        const context = Context.current();
        context.heartbeat({ finished: [passed(run.testIds[0]!)] });
        await Promise.race([
          new Promise((resolve) => setTimeout(resolve, 6_000)),
          new Promise((resolve) => context.cancellationSignal.addEventListener('abort', resolve)),
        ]);
      },
    });
    const result = await withWorkers(
      { coordinator: mocks.coordinator, host: { hostId: a, activities: mocks.host }, moreHosts: [{ hostId: b, activities: mocks.hostFor(b) }] },
      () =>
        start<MatrixRunResult>('matrixRun', [
          matrixInput(a, {
            dispatch: 'dynamic',
            heartbeatTimeoutSeconds: 2,
            dispatchHosts: [
              { hostId: a, slots: 1 },
              { hostId: b, slots: 1 },
            ],
          }),
        ]),
    );
    expect(result.outcome).toBe('passed');
    expect(bTook).toBe(1);
    const moved = result.targets[0]!.hostMoves!;
    expect(moved).toHaveLength(1);
    expect(moved[0]).toMatchObject({ from: b, to: a, resumedAfter: 1 });
    const resumed = mocks.ran.find((r) => r.host === a && r.shard === moved[0]!.shard && r.chunk === moved[0]!.chunk)!;
    expect(resumed.resume?.map((r) => r.testId)).toEqual([resumed.testIds[0]]);
    // Every chunk recorded once, the lost host's by its new holder.
    expect(mocks.recorded.map((r) => `${r.shard}/${r.chunk}`).sort()).toEqual(['0/0', '0/1', '1/0', '1/1']);
    expect(mocks.health.filter((h) => h.event.kind === 'infra-failure')).toEqual([
      expect.objectContaining({ hostId: b, event: expect.objectContaining({ kind: 'infra-failure' }) }),
    ]);
    // The host that ran the target counts a job; the lost one does not.
    expect(mocks.health.filter((h) => h.event.kind === 'job-done').map((h) => h.hostId)).toEqual([a]);
  });
});

function passed(testId: string) {
  return {
    testId,
    group: testId.slice(0, testId.lastIndexOf('/')),
    kind: 'test',
    outcome: 'PASS',
    reran: false,
    durationSeconds: 1,
    user: 'root',
    linuxSection: false,
  };
}

describe('the health cadence', () => {
  it('checks every probed host whose check is due, each in its own child, and leaves the others alone', async () => {
    const [due, fresh, away] = [hostIdOf('hdue'), hostIdOf('hfresh'), hostIdOf('haway')];
    const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * 3_600_000).toISOString();
    const record = (hostId: string, state: string, checkedHoursAgo: number) => ({
      hostId,
      state,
      last: { from: 'unknown', to: state, at: at(checkedHoursAgo), by: 'health-check', why: 'passed' },
      lastCheck: { at: at(checkedHoursAgo), passed: true },
      jobsSinceCheck: 0,
    });
    const facts = { hostname: 'h', cpus: 2, memoryBytes: 1, vmSlots: 1, goldens: [], tags: [] };
    const fleet = [
      { hostId: due, capabilities: [], facts, lastSeenAt: at(0), health: record(due, 'good', 30) },
      { hostId: fresh, capabilities: [], facts, lastSeenAt: at(0), health: record(fresh, 'good', 1) },
      { hostId: away, capabilities: [], facts, lastSeenAt: at(0), health: record(away, 'maintenance', 30) },
    ];
    const probed: string[] = [];
    const verdicts: { hostId: string; passed: boolean }[] = [];
    const hostActivities = (hostId: string): Activities => ({
      probeHost: async () => (probed.push(hostId), { hostId, sections: { system: { cpus: 2, kernel: '6.1' } } }),
      nativeSmokeTest: async () => ({ passed: true, steps: [{ name: 'pool', passed: true, detail: '' }] }),
    });
    const coordinator: Activities = {
      listFleet: async () => fleet,
      storeProbeReport: async () => ({ key: 'k', uri: 'u' }),
      registerHost: async () => ({}),
      applyHostHealth: async (input: { hostId: string; event: { passed: boolean } }) => {
        verdicts.push({ hostId: input.hostId, passed: input.event.passed });
        return { record: record(input.hostId, 'good', 0) };
      },
    };
    const result = await withWorkers(
      {
        coordinator,
        host: { hostId: due, activities: hostActivities(due) },
        moreHosts: [fresh, away].map((h) => ({ hostId: h, activities: hostActivities(h) })),
      },
      () => start<{ checked: { hostId: string; passed: boolean; state: string }[] }>('hostHealthSweep', [{ cadence: { everyHours: 24 }, hostWaitSeconds: 5 }]),
    );
    expect(result.checked).toEqual([{ hostId: due, passed: true, state: 'good' }]);
    expect(probed).toEqual([due]);
    expect(verdicts).toEqual([{ hostId: due, passed: true }]);
  });
});

describe('cancellation', () => {
  it('a cancelled run stops its chunk, records what it finished, closes as cancelled and ends cancelled', async () => {
    const hostId = hostIdOf('cancel');
    let chunkStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (chunkStarted = resolve));
    let sawCancel = false;
    const mocks = ztsMocks({
      hostId,
      shards: [2],
      runChunk: async () => {
        chunkStarted();
        const context = Context.current();
        try {
          for (;;) {
            context.heartbeat();
            await context.sleep(200);
          }
        } catch (err) {
          sawCancel = err instanceof CancelledFailure;
          throw err;
        }
      },
    });
    const outcome = await withWorkers({ coordinator: mocks.coordinator, host: { hostId, activities: mocks.host } }, async () => {
      const input = matrixInput(hostId);
      const handle = await env.client.workflow.start('matrixRun', {
        taskQueue: coordinatorQueue,
        workflowId: nextId('cancel'),
        args: [input],
        workflowExecutionTimeout: '2m',
      });
      await started;
      await handle.cancel();
      return failureOf(handle.result());
    });
    expect(outcome.type).toBe('CancelledFailure');
    expect(sawCancel).toBe(true);
    expect(mocks.ran.map(({ shard, chunk }) => ({ shard, chunk }))).toEqual([{ shard: 0, chunk: 0 }]);
    expect(mocks.recorded).toEqual([{ shard: 0, chunk: 0 }]);
    expect(mocks.closed).toEqual(['cancelled']);
  });
});
