import { mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { findFirstCrash, unresponsiveCrash } from '../../core/crash/console.js';
import { parseRunfile } from '../../core/runfile/parse.js';
import { renderRunfile } from '../../core/runfile/render.js';
import { listTests } from '../../core/runfile/select.js';
import type { TestResult } from '../../core/results/types.js';
import { parseHeartbeat, resumePoint } from '../../core/test-run/checkpoint.js';
import type { ChunkHeartbeatDetails } from '../../core/test-run/checkpoint.js';
import { chunkRunfile, testsLeft } from '../../core/test-run/chunk-runfile.js';
import { countTests } from '../../core/test-run/chunk-results.js';
import { crashResult, testInFlight } from '../../core/test-run/crash-result.js';
import { runKeys } from '../../core/test-run/keys.js';
import type { ChunkActivityInput, ChunkActivityResult, ChunkFingerprint } from '../../core/test-run/types.js';
import { InfraError } from '../../lib/errors.js';
import type { Logger } from '../../lib/log.js';
import type { ArtifactStore } from '../../lib/s3.js';
import { fingerprintStoreOf, startChunkCapture } from './chunk-fingerprint.js';
import { startChunkProbes, type ProbeListener } from './chunk-probes.js';
import { mergeChunkProbes, spansFromEnds, type ChunkProbes } from '../../core/probes/summary.js';
import { ChunkJournal } from './journal.js';
import { killMarked } from './leftovers.js';
import { watchLiveness } from './liveness.js';
import { runTestRunner } from './run-chunk.js';
import type { OpenedTarget, TargetProvider } from './targets.js';
import { writeIncidentBundle } from '../fingerprint/bundle.js';
import { uploadChunk } from './upload.js';

export const ATTEMPT_MARKER = 'ZFSLAB_ZTS_ATTEMPT';

export interface ExecuteChunkDeps {
  /** 1 for the first attempt; Temporal's attempt number. */
  attempt: number;
  /** The last heartbeat details of earlier attempts, as the server kept them. */
  heartbeatDetails: unknown;
  heartbeat(details: ChunkHeartbeatDetails): void;
  signal: AbortSignal;
  artifacts: ArtifactStore;
  provider: TargetProvider;
  /** This host's directory for run work (`<stateDir>/zts-runs`). */
  workRoot: string;
  log: Logger;
  /** Re-send the last heartbeat this often while a test runs (liveness, and how a cancel gets in). */
  keepAliveMs: number;
  /** How often the target's kernel console is read for a crash while the runner runs. */
  crashPollMs?: number;
  /**
   * How often a target that can say so (a guest, over SSH) is asked whether it still answers, and how
   * many answers in a row may be missing before it counts as wedged: default every 30 s, 4 misses, so a
   * silent guest is given up after about 2 min (a TCG guest under load can stall for tens of seconds).
   */
  liveness?: { intervalMs: number; misses: number };
  /** Where the probes' records go as they arrive (the host worker's exporter), per flavor. */
  probeListener?: (flavorId: string) => ProbeListener;
  /** How long the runner waits for bpftrace to attach (default in chunk-probes.ts). */
  probeAttachTimeoutMs?: number;
}

const CRASH_POLL_MS = 2_000;
const LIVENESS = { intervalMs: 30_000, misses: 4 };

/** The chunk was cancelled; its partial results are uploaded under `resultsKey`. */
export class ChunkCancelled extends Error {
  override name = 'ChunkCancelled';
  constructor(readonly resultsKey: string) {
    super(`chunk cancelled; partial results in ${resultsKey}`);
  }
}

/** The runner could not be judged (died, failed, ran nothing); partial results are uploaded. */
export class ChunkRunnerFailed extends InfraError {
  override name = 'ChunkRunnerFailed';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly resultsKey: string,
  ) {
    super(message);
  }
}

export function chunkDirOf(workRoot: string, input: Pick<ChunkActivityInput, 'runId' | 'flavorId' | 'shard' | 'chunk'>): string {
  return join(workRoot, input.runId, input.flavorId, `shard-${input.shard}`, `chunk-${String(input.chunk).padStart(3, '0')}`);
}

/**
 * One attempt at one chunk: resume from the checkpoint (heartbeat or journal, whichever is further),
 * run only what is left, upload every attempt's results tree and the chunk's results file, then
 * report. Earlier attempts' leftover processes on this host are killed first.
 */
export async function executeChunk(input: ChunkActivityInput, deps: ExecuteChunkDeps): Promise<ChunkActivityResult> {
  const { log } = deps;
  const chunkDir = chunkDirOf(deps.workRoot, input);
  mkdirSync(chunkDir, { recursive: true });
  const leftovers = await killMarked(ATTEMPT_MARKER, `${chunkDir}/`);
  if (leftovers > 0) log.warn({ chunkDir, leftovers }, 'killed processes an earlier attempt left behind');

  const journal = new ChunkJournal(join(chunkDir, 'journal.ndjson'));
  // The server's checkpoint: this activity's own heartbeat, else what the workflow carried over from
  // an attempt on another host (this host's journal knows nothing of it).
  const previous = resumePoint(parseHeartbeat(deps.heartbeatDetails)?.finished ?? input.resume, journal.read());
  journal.reset(previous);
  let last: ChunkHeartbeatDetails = { finished: previous };
  let finishedAt = { count: previous.length, at: Date.now() };
  // When each script's result line arrived (host clock): the probes' records are attributed by it.
  const ends: { testId: string; atMs: number }[] = [];
  const beat = (details: ChunkHeartbeatDetails): void => {
    if (details.finished.length !== finishedAt.count) {
      const now = Date.now();
      for (const r of details.finished.slice(finishedAt.count)) ends.push({ testId: r.testId, atMs: now });
      finishedAt = { count: details.finished.length, at: now };
    }
    journal.sync(details.finished);
    last = details;
    deps.heartbeat(details);
  };
  beat(last);
  const keepAlive = setInterval(() => deps.heartbeat(last), deps.keepAliveMs);

  try {
    const shard = parseRunfile(await shardRunfile(deps.artifacts, input.runfileKey, chunkDir), 'shard.run');
    const todo = chunkRunfile(shard, input.testIds, previous);
    let results: TestResult[] = previous;
    let cancelled = deps.signal.aborted;
    let infraError: string | undefined;
    let retryable = true;
    let fingerprint: ChunkFingerprint | undefined;
    const incidents: { key: string; testIds: string[] }[] = [];
    let probed: ChunkProbes | undefined;
    // A guest whose kernel dies costs the test in flight: it is recorded as CRASH and the rest of the
    // chunk goes on in a fresh clone. Each pass either ends the chunk or settles one more test.
    let todoNow = todo;
    while (listTests(todoNow).length > 0 && !cancelled) {
      log.info({ ...input, testIds: input.testIds.length, previous: results.length, attempt: deps.attempt }, 'running chunk');
      const marker = {
        name: ATTEMPT_MARKER,
        value: `${chunkDir}/attempt-${deps.attempt}${results.length > previous.length ? `-after-crash-${results.length}` : ''}`,
      };
      const opened = await deps.provider.open({ target: input.target, flavorId: input.flavorId, runId: input.runId, marker, signal: deps.signal });
      const capture = input.fingerprint
        ? startChunkCapture(
            opened.capture,
            { runId: input.runId, flavorId: input.flavorId, shard: input.shard, chunk: input.chunk, workload: input.fingerprint.workload },
            { store: fingerprintStoreOf(deps.artifacts), signal: deps.signal, log },
          )
        : undefined;
      const pass = basename(marker.value);
      const probes = startChunkProbes(opened.capture?.shell, input.probes ?? [], {
        log,
        ...(deps.probeListener ? { listener: deps.probeListener(input.flavorId) } : {}),
        ...(deps.probeAttachTimeoutMs !== undefined ? { attachTimeoutMs: deps.probeAttachTimeoutMs } : {}),
        keepRaw: async (stream, body) => {
          const key = runKeys.chunkProbes(input.runId, input.flavorId, input.shard, input.chunk, pass, stream);
          await deps.artifacts.putBytes(key, body, 'application/gzip');
          return key;
        },
      });
      let passStart = Date.now();
      let crashed: TestResult | undefined;
      // Watch the kernel console while the runner runs: a panic ends the guest (and the runner with it),
      // but a hung task or soft lockup leaves it wedged until the test's timeout; either way stop now.
      const crashStop = new AbortController();
      const watch = opened.kernelConsole
        ? setInterval(() => {
            if (!crashStop.signal.aborted && findFirstCrash(opened.kernelConsole!())) crashStop.abort();
          }, deps.crashPollMs ?? CRASH_POLL_MS)
        : undefined;
      // A guest can wedge without a word on its console (no watchdog fired): it still stops answering.
      let silent = false;
      const liveness = deps.liveness ?? LIVENESS;
      const pulse = opened.alive
        ? watchLiveness(opened.alive.bind(opened), { ...liveness, probeTimeoutMs: liveness.intervalMs, log }, () => {
            silent = true;
            crashStop.abort();
          })
        : undefined;
      try {
        await Promise.all([capture?.ready, probes.ready]);
        passStart = Date.now();
        const out = await runTestRunner(
          {
            runfileText: renderRunfile(todoNow),
            runnerPath: opened.runnerPath,
            testDir: opened.testDir ?? input.testDir,
            outputBase: marker.value,
            previous: results,
            python: opened.python,
            env: opened.env,
          },
          { heartbeat: beat, signal: AbortSignal.any([deps.signal, crashStop.signal]), log, target: opened.runner },
        );
        if (watch) clearInterval(watch);
        pulse?.stop();
        results = out.results;
        cancelled = deps.signal.aborted;
        infraError = out.infraError;
        // A runner that found nothing to run will find nothing again; one that died may do better.
        retryable = out.verdict.runnerExit !== 'no-tests';
        // Read before close: the console goes with the clone.
        if (!cancelled && (opened.kernelConsole || silent))
          crashed = await crashOfTestInFlight(opened.kernelConsole?.() ?? '', input, results, {
            ...deps,
            silent,
            current: () => last.current,
            since: () => finishedAt.at,
          });
        // Before close: the evidence of a failure is in the clone that close() destroys.
        const failed = out.results.slice(out.previousCount).filter((r) => r.kind === 'test' && (r.outcome === 'FAIL' || r.outcome === 'KILLED'));
        if (!cancelled && (failed.length > 0 || crashed)) {
          const incident = await collectIncident(opened, { input, chunkDir, attempt: marker.value, failed, crashed, probesTail: probes.tail() }, deps);
          if (incident) incidents.push(incident);
        }
      } finally {
        if (watch) clearInterval(watch);
        pulse?.stop();
        // Before close: in a VM the capture and the probes run in the clone that close() destroys.
        if (capture) fingerprint = await capture.finish();
        probed = mergeChunkProbes(
          probed,
          await probes.finish(
            spansFromEnds(
              passStart,
              ends.filter((e) => e.atMs >= passStart),
            ),
          ),
        );
        await opened.close();
      }
      if (!crashed) break;
      results = [...results, crashed];
      infraError = undefined;
      beat({ finished: results });
      todoNow = chunkRunfile(shard, input.testIds, results);
    }
    const left = testsLeft(input.testIds, results);
    if (!cancelled && infraError === undefined && left.length > 0) {
      infraError = `${left.length} test(s) of the chunk printed no result (missing or not executable on the target?): ${left.slice(0, 5).join(', ')}`;
      retryable = false;
    }
    const { resultsKey } = await uploadChunk(
      deps.artifacts,
      { runId: input.runId, flavorId: input.flavorId, shard: input.shard, chunk: input.chunk, chunkDir },
      {
        schema: 'zfslab.zts-chunk/v1',
        runId: input.runId,
        flavorId: input.flavorId,
        shard: input.shard,
        chunk: input.chunk,
        attempt: deps.attempt,
        results,
        testsLeft: left,
        cancelled,
        incidents,
        ...(probed && (input.probes ?? []).length > 0 ? { probes: probed } : {}),
        ...(infraError !== undefined ? { infraError } : {}),
      },
    );
    if (cancelled) throw new ChunkCancelled(resultsKey);
    if (infraError !== undefined) throw new ChunkRunnerFailed(infraError, retryable, resultsKey);
    return {
      resultsKey,
      counts: countTests(results),
      testsLeft: left.length,
      runnerSeconds: results.reduce((s, r) => s + r.durationSeconds, 0),
      attempt: deps.attempt,
      ...(fingerprint ? { fingerprint } : {}),
    };
  } finally {
    clearInterval(keepAlive);
  }
}

/**
 * When the target's kernel console holds a crash report, or the target went silent (`silent`: it
 * stopped answering liveness probes), the CRASH result of the test it happened under, with the excerpt
 * kept as an artifact; undefined when neither (or the crash came after the chunk's last test).
 */
async function crashOfTestInFlight(
  console: string,
  input: ChunkActivityInput,
  results: readonly TestResult[],
  deps: ExecuteChunkDeps & { silent: boolean; current?: () => string | undefined; since?: () => number },
): Promise<TestResult | undefined> {
  const found = findFirstCrash(console) ?? (deps.silent ? unresponsiveCrash(console) : undefined);
  if (!found) return undefined;
  const testId = testInFlight(input.testIds, results, deps.current?.());
  if (!testId) {
    deps.log.warn({ kind: found.kind, headline: found.headline }, 'the guest crashed after the last test of the chunk');
    return undefined;
  }
  const consoleKey = runKeys.chunkCrashConsole(input.runId, input.flavorId, input.shard, input.chunk, testId.slice(testId.lastIndexOf('/') + 1));
  await deps.artifacts.putBytes(consoleKey, found.excerpt + '\n', 'text/plain; charset=utf-8');
  deps.log.error(
    { testId, kind: found.kind, signature: found.signature, headline: found.headline, consoleKey },
    'the guest kernel died under a test: CRASH, the chunk goes on in a fresh clone',
  );
  const seconds = deps.since ? (Date.now() - deps.since()) / 1000 : 0;
  return crashResult(testId, { kind: found.kind, signature: found.signature, headline: found.headline, consoleKey }, seconds);
}

/**
 * An incident bundle of one attempt (activities/fingerprint/bundle.ts), collected on the target before
 * its clone goes: dmesg, `zpool status -v`, `zpool events -v`, kstats, the stacks of blocked tasks, the
 * serial console, the failing results; put in S3 beside the chunk. A guest whose kernel died is not
 * asked anything (its console says it all). A bundle that cannot be made costs the chunk nothing.
 */
async function collectIncident(
  opened: OpenedTarget,
  what: { input: ChunkActivityInput; chunkDir: string; attempt: string; failed: TestResult[]; crashed: TestResult | undefined; probesTail?: string },
  deps: ExecuteChunkDeps,
): Promise<{ key: string; testIds: string[] } | undefined> {
  const { input } = what;
  const name = basename(what.attempt);
  const testIds = [...what.failed, ...(what.crashed ? [what.crashed] : [])].map((r) => r.testId);
  try {
    const path = join(what.chunkDir, `incident-${name}.tar.gz`);
    const bundle = await writeIncidentBundle({
      outPath: path,
      ...(opened.incidentTarget ? { target: opened.incidentTarget } : {}),
      ...(what.crashed ? { unreachable: `the guest kernel died under ${what.crashed.testId}: see serial.log` } : {}),
      ...(opened.kernelConsole ? { serialLog: opened.kernelConsole() } : {}),
      ...(what.probesTail ? { probesTail: what.probesTail } : {}),
      results: {
        runId: input.runId,
        flavorId: input.flavorId,
        shard: input.shard,
        chunk: input.chunk,
        attempt: name,
        failed: what.failed,
        crashed: what.crashed ?? null,
      },
    });
    const key = runKeys.chunkIncident(input.runId, input.flavorId, input.shard, input.chunk, name);
    await deps.artifacts.putBytes(key, readFileSync(path), 'application/gzip');
    deps.log.info({ key, tests: testIds.length, members: bundle.members.filter((m) => !m.absent).length }, 'incident bundle kept');
    return { key, testIds };
  } catch (err) {
    deps.log.warn({ err, tests: testIds }, 'could not make the incident bundle');
    return undefined;
  }
}

/** The shard runfile, from S3 once per chunk (kept beside the journal for later attempts). */
async function shardRunfile(artifacts: ArtifactStore, key: string, chunkDir: string): Promise<string> {
  const local = join(chunkDir, 'shard.run');
  if (existsSync(local)) return readFileSync(local, 'utf8');
  const text = await artifacts.getText(key);
  if (text === undefined) throw new ChunkRunnerFailed(`the shard runfile ${key} is not in the artifact store`, false, '');
  writeFileSync(local, text);
  return text;
}
