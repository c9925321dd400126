import { setTimeout as sleep } from 'node:timers/promises';
import { fingerprintKeys } from '../../core/fingerprint/keys.js';
import type { ChunkFingerprint } from '../../core/test-run/types.js';
import type { Logger } from '../../lib/log.js';
import type { ArtifactStore } from '../../lib/s3.js';
import { captureRunFingerprint, type FingerprintArtifactStore } from '../fingerprint/runs.js';
import type { CaptureShell } from '../fingerprint/shell.js';

/** How a target lets a chunk capture its runner: a root shell there, and the path the runner is exec'd as. */
export interface ChunkCaptureTarget {
  shell: CaptureShell;
  /** The capture follows the first exec of this absolute path after the tracer attached. */
  followExec: string;
  /** How long bpftrace may take to attach there (default 3 min; more in an emulated guest). */
  attachTimeoutMs?: number;
}

export interface ChunkCaptureRequest {
  runId: string;
  flavorId: string;
  shard: number;
  chunk: number;
  workload: string;
}

export interface ChunkCaptureDeps {
  store: FingerprintArtifactStore;
  signal: AbortSignal;
  log: Logger;
  /** How long to wait for the tracer to attach before the runner starts without it. */
  attachTimeoutMs?: number;
  /** After the runner ended: how long the capture may take to end, print its maps and be stored. */
  finishTimeoutMs?: number;
}

export interface RunningChunkCapture {
  /** Resolves once the tracer is attached (start the runner then), or once the capture gave up. */
  ready: Promise<void>;
  /** Waits for the capture to end, then reports it (stored and compared, or why not). Never throws. */
  finish(): Promise<ChunkFingerprint>;
}

/**
 * `zfslab test … --fingerprint`: while a chunk's runner runs, capture its process tree on the target
 * (follow mode: bpftrace attaches first, then the runner starts and becomes the traced root), store the
 * fingerprint and its raw events beside the chunk's results, and compare it with the flavor's baseline.
 * The tests run whatever happens to the capture; a capture that cannot be made is reported as such.
 */
export function startChunkCapture(target: ChunkCaptureTarget | undefined, request: ChunkCaptureRequest, deps: ChunkCaptureDeps): RunningChunkCapture {
  const base = { shard: request.shard, chunk: request.chunk, workload: request.workload };
  if (!target) {
    const report: ChunkFingerprint = { ...base, status: 'not-captured', reason: 'this target offers no capture shell' };
    return { ready: Promise.resolve(), finish: async () => report };
  }
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  deps.signal.addEventListener('abort', onAbort, { once: true });
  let attached!: () => void;
  const attachedP = new Promise<void>((resolve) => (attached = resolve));
  let giveUpReason: string | undefined;

  const captured: Promise<ChunkFingerprint> = captureRunFingerprint(
    target.shell,
    {
      runId: request.runId,
      flavor: request.flavorId,
      shard: request.shard,
      chunk: request.chunk,
      workload: request.workload,
      followExec: target.followExec,
      signal: stop.signal,
      onReady: attached,
    },
    deps.store,
  ).then(
    (result): ChunkFingerprint => {
      const fingerprintKey = fingerprintKeys.run(request.runId, request.flavorId, request.shard, request.chunk);
      const c = result.comparison;
      return c.status === 'missing'
        ? { ...base, status: 'no-baseline', fingerprintKey, baselineKey: c.baselineKey }
        : { ...base, status: 'compared', fingerprintKey, baselineKey: c.baselineKey, deviations: c.deviations, bySeverity: c.bySeverity };
    },
    (err: unknown): ChunkFingerprint => {
      const reason = giveUpReason ?? (err instanceof Error ? err.message : String(err));
      deps.log.warn({ err, target: target.shell.name }, 'fingerprint capture failed; the tests ran without it');
      return { ...base, status: 'not-captured', reason };
    },
  );
  // A capture that ends before attaching (no bpftrace, not root) must not hold the runner back.
  void captured.finally(attached);

  const attachTimeoutMs = deps.attachTimeoutMs ?? target.attachTimeoutMs ?? 180_000;
  const ready = Promise.race([
    attachedP,
    sleep(attachTimeoutMs, undefined, { ref: false }).then(() => {
      giveUpReason = `the tracer did not attach within ${attachTimeoutMs / 1000} s`;
      stop.abort();
    }),
  ]);

  return {
    ready,
    async finish() {
      const finishTimeoutMs = deps.finishTimeoutMs ?? 180_000;
      const timer = setTimeout(() => {
        giveUpReason ??= `the capture did not end within ${finishTimeoutMs / 1000} s of the runner`;
        stop.abort();
      }, finishTimeoutMs);
      try {
        return await captured;
      } finally {
        clearTimeout(timer);
        deps.signal.removeEventListener('abort', onAbort);
      }
    },
  };
}

/** The worker's artifact store as the fingerprint code sees it. */
export function fingerprintStoreOf(artifacts: ArtifactStore): FingerprintArtifactStore {
  return {
    upload: async (key, body, contentType) => (await artifacts.putBytes(key, body, contentType)).uri,
    download: async (key) => {
      const text = await artifacts.getText(key);
      return text === undefined ? undefined : Buffer.from(text, 'utf8');
    },
  };
}
