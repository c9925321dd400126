import { gzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { parsePreflight, planProbes, preflightScript, type ProbeKind, type ProbePlan } from '../../core/probes/plan.js';
import { kstatSamplerScript, zioCommand, zioProgram } from '../../core/probes/scripts.js';
import { KstatStepper, type KstatStep } from '../../core/probes/steps.js';
import { KstatStreamParser, LineStamper, renderStamped, ZioStreamParser, type StampedLine, type ZioWindow } from '../../core/probes/stream.js';
import { summarizeProbes, uniqueNotCaptured, type ChunkProbes, type ScriptSpan } from '../../core/probes/summary.js';
import type { Logger } from '../../lib/log.js';
import type { CaptureShell, ShellExit } from '../fingerprint/shell.js';

/** Live consumers of the probes (the host worker's Prometheus exporter). */
export interface ProbeListener {
  kstat(step: KstatStep): void;
  zio(window: ZioWindow): void;
}

export interface ChunkProbesDeps {
  log: Logger;
  listener?: ProbeListener;
  /** How long the runner waits for bpftrace to attach before it starts without zio latencies (default 90 s: an emulated guest compiles slowly). */
  attachTimeoutMs?: number;
  /** Keeps the raw streams (gzip) and returns their keys. */
  keepRaw(stream: 'preflight' | 'kstat' | 'zio', gzipped: Uint8Array): Promise<string>;
}

export interface RunningProbes {
  /** Resolves when the probes look (or gave up): start the runner then. Never rejects. */
  ready: Promise<void>;
  /** The raw records of the last `seconds` (both streams, stamped), for an incident bundle. */
  tail(seconds?: number): string;
  /** Stops the probes and attributes what they saw to the scripts' spans. Bounded; never throws. */
  finish(spans: readonly ScriptSpan[]): Promise<ChunkProbes>;
}

const PREFLIGHT_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
/** An incident bundle keeps this much of the probes' last output. */
const TAIL_SECONDS = 30;

/**
 * The in-guest probes of one pass of a chunk (issue 15 §1): a preflight decides what can attach, then
 * the kstat sampler and the bpftrace zio program run as root on the target beside the runner, each
 * in a process group of its own that the stop kills whole. Records are stamped on arrival, sent to
 * the listener as they come, and attributed to the scripts at the end.
 */
export function startChunkProbes(shell: CaptureShell | undefined, wanted: readonly ProbeKind[], deps: ChunkProbesDeps): RunningProbes {
  const notCaptured: ChunkProbes['notCaptured'] = [];
  const empty = (): ChunkProbes => ({ captured: [], notCaptured, rawKeys: [], scripts: [] });
  if (wanted.length === 0) return { ready: Promise.resolve(), tail: () => '', finish: async () => empty() };
  if (!shell) {
    for (const probe of wanted) notCaptured.push({ probe, reason: 'this target offers no root shell' });
    return { ready: Promise.resolve(), tail: () => '', finish: async () => empty() };
  }
  const { log } = deps;
  const stop = new AbortController();
  const preflightLines = new LineStamper();
  const kstatLines = new LineStamper();
  const zioLines = new LineStamper();
  const kstatParser = new KstatStreamParser();
  const stepper = new KstatStepper();
  const steps: KstatStep[] = [];
  const zioParser = new ZioStreamParser();
  const windows: ZioWindow[] = [];
  const runs: Promise<ShellExit | undefined>[] = [];
  let plan: ProbePlan | undefined;
  let attached!: () => void;
  const attachedP = new Promise<void>((resolve) => (attached = resolve));

  const takeKstat = (line: StampedLine): void => {
    const sample = kstatParser.push(line);
    if (!sample) return;
    const step = stepper.next(sample);
    steps.push(step);
    deps.listener?.kstat(step);
  };
  const takeWindow = (window: ZioWindow | undefined): void => {
    if (!window) return;
    windows.push(window);
    deps.listener?.zio(window);
  };
  const takeZio = (line: StampedLine): void => {
    takeWindow(zioParser.push(line));
    if (zioParser.attached) attached();
  };
  const onKstat = (chunk: string): void => kstatLines.push(chunk, Date.now()).forEach(takeKstat);
  const onZio = (chunk: string): void => zioLines.push(chunk, Date.now()).forEach(takeZio);
  const watch = (name: string, run: Promise<ShellExit>): Promise<ShellExit | undefined> =>
    run.then(
      (exit) => {
        if (!stop.signal.aborted)
          log.warn({ probe: name, exitCode: exit.exitCode, ended: exit.ended, stderr: exit.stderr.slice(-600) }, 'a probe ended before the chunk did');
        return exit;
      },
      (err: unknown) => {
        log.warn({ err, probe: name }, 'a probe failed');
        return undefined;
      },
    );

  const started = (async (): Promise<void> => {
    const pre = await shell
      .run(preflightScript(), (c) => preflightLines.push(c, Date.now()), stop.signal, PREFLIGHT_TIMEOUT_MS)
      .catch((err: unknown) => {
        log.warn({ err }, 'probe preflight failed');
        return undefined;
      });
    if (!pre || pre.exitCode !== 0) {
      for (const probe of wanted)
        notCaptured.push({ probe, reason: `the probe preflight failed on ${shell.name}: ${pre?.ended ?? pre?.stderr.slice(-200) ?? 'no answer'}` });
      return;
    }
    preflightLines.end(Date.now());
    plan = planProbes(wanted, parsePreflight(preflightLines.lines.map((l) => l.text).join('\n')));
    notCaptured.push(...plan.notCaptured);
    if (plan.kstat) runs.push(watch('kstat', shell.run(kstatSamplerScript(), onKstat, stop.signal)));
    if (plan.zio) {
      runs.push(
        watch(
          'zio',
          shell.run(zioCommand(zioProgram(plan.zio)), onZio, stop.signal).then((exit) => {
            if (!zioParser.attached)
              notCaptured.push({ probe: 'zio', reason: `bpftrace did not attach: ${exit.stderr.trim().slice(-300) || exit.ended || `exit ${exit.exitCode}`}` });
            return exit;
          }),
        ),
      );
      const timeout = deps.attachTimeoutMs ?? 90_000;
      await Promise.race([
        attachedP,
        sleep(timeout, undefined, { ref: false }).then(() => {
          if (!zioParser.attached) log.warn({ timeoutMs: timeout }, 'bpftrace has not attached yet: the runner starts without waiting further');
        }),
        runs[runs.length - 1],
      ]);
    }
    log.info(
      { kstat: plan.kstat, zio: plan.zio?.constructors.map((c) => c.symbol), attached: zioParser.attached, notCaptured: plan.notCaptured },
      'probes running',
    );
  })();

  return {
    ready: started.catch(() => undefined),
    tail(seconds = TAIL_SECONDS) {
      const since = Date.now() - seconds * 1000;
      const recent = (lines: readonly StampedLine[]) => lines.filter((l) => l.atMs >= since);
      const [kstat, zio] = [recent(kstatLines.lines), recent(zioLines.lines)];
      return kstat.length + zio.length === 0 ? '' : `# kstat\n${renderStamped(kstat)}# zio\n${renderStamped(zio)}`;
    },
    async finish(spans) {
      await started.catch(() => undefined);
      stop.abort();
      await Promise.race([Promise.all(runs), sleep(STOP_TIMEOUT_MS, undefined, { ref: false })]);
      // A last line cut off by the stop is still a line; the window open at the stop is still a window.
      const now = Date.now();
      kstatLines.end(now).forEach(takeKstat);
      zioLines.end(now).forEach(takeZio);
      takeWindow(zioParser.end());
      const captured: ProbeKind[] = [];
      if (plan?.kstat && steps.length > 0) captured.push('kstat');
      else if (plan?.kstat) notCaptured.push({ probe: 'kstat', reason: 'the sampler printed no sample' });
      if (plan?.zio && zioParser.attached) captured.push('zio');
      const rawKeys: string[] = [];
      for (const [stream, lines] of [
        ['preflight', preflightLines.lines],
        ['kstat', kstatLines.lines],
        ['zio', zioLines.lines],
      ] as const) {
        if (lines.length === 0) continue;
        try {
          rawKeys.push(await deps.keepRaw(stream, gzipSync(renderStamped(lines))));
        } catch (err) {
          log.warn({ err, stream }, 'could not keep the raw probe output');
        }
      }
      return { captured, notCaptured: uniqueNotCaptured(notCaptured), rawKeys, scripts: summarizeProbes(spans, steps, windows) };
    },
  };
}
