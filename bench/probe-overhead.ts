/**
 * What the in-guest probes cost a test: the same ZTS test run again and again in one clone of the
 * debian13 golden, with the probes off and on (all: bpftrace zio + kstat sampler) in alternating
 * order, side by side in one invocation. Reported: the runner's own duration of the test (what a
 * timeout sees) and the wall time of the whole chunk (setup, test, cleanup), medians per mode.
 *
 *   npx tsc -p . && node dist/bench/probe-overhead.js [--test functional/scrub_mirror/scrub_mirror_001_pos] [--rounds 3]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { VmTargetProvider } from '../activities/vm/vm-target-provider.js';
import { startChunkProbes } from '../activities/zts/chunk-probes.js';
import { runTestRunner } from '../activities/zts/run-chunk.js';
import { loadCatalog } from '../core/catalog/index.js';
import { ALL_PROBES, type ProbeKind } from '../core/probes/plan.js';
import { spansFromEnds } from '../core/probes/summary.js';
import { parseRunfile } from '../core/runfile/parse.js';
import { renderRunfile } from '../core/runfile/render.js';
import { chunkRunfile } from '../core/test-run/chunk-runfile.js';
import { createLogger } from '../lib/log.js';
import { median } from '../core/stats/median.js';

const { values } = parseArgs({
  options: {
    test: { type: 'string', default: 'functional/scrub_mirror/scrub_mirror_001_pos' },
    rounds: { type: 'string', default: '3' },
  },
});
const testId = values.test!;
const rounds = Number(values.rounds);
const log = createLogger('bench-probes', 'warn');
const catalog = loadCatalog();
const scratch = mkdtempSync(join(tmpdir(), 'zfslab-bench-probes-'));
const provider = new VmTargetProvider({ catalog, maxVms: 1, cloneRoot: join(scratch, 'clones'), log });
const signal = new AbortController().signal;

/** The median of a mode's samples (each mode has at least one). */
const medianOf = (xs: number[]): number => median(xs)!;

try {
  const suite = await provider.goldenSuite(catalog.get('debian13'), signal);
  if (!suite) throw new Error('no debian13 ztest golden on this machine: zfslab golden-ztest debian13');
  const common = parseRunfile(readFileSync(join(suite.runfilesDir, 'common.run'), 'utf8'), 'common.run');
  const runfileText = renderRunfile(chunkRunfile(common, [testId]));
  const bootStarted = Date.now();
  const opened = await provider.open({
    target: 'debian13',
    flavorId: 'debian13',
    runId: 'bench-probes',
    marker: { name: 'ZFSLAB_BENCH', value: '/var/tmp/bench' },
    signal,
  });
  const bootSeconds = (Date.now() - bootStarted) / 1000;
  const samples: Record<'off' | 'on', { test: number[]; wall: number[]; zios: number[] }> = {
    off: { test: [], wall: [], zios: [] },
    on: { test: [], wall: [], zios: [] },
  };
  try {
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first: a warm ARC or a cold one must not favour one mode.
      for (const mode of round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        const wanted: ProbeKind[] = mode === 'on' ? [...ALL_PROBES] : [];
        const probes = startChunkProbes(opened.capture?.shell, wanted, { log, keepRaw: async (s) => s });
        await probes.ready;
        const ends: { testId: string; atMs: number }[] = [];
        const started = Date.now();
        const out = await runTestRunner(
          {
            runfileText,
            runnerPath: opened.runnerPath,
            testDir: opened.testDir ?? suite.suite.testDir,
            outputBase: `/var/tmp/bench-${round}-${mode}`,
            python: opened.python,
            env: opened.env,
          },
          {
            heartbeat: (d) => {
              for (const r of d.finished.slice(ends.length)) ends.push({ testId: r.testId, atMs: Date.now() });
            },
            signal,
            log,
            target: opened.runner,
          },
        );
        const wall = (Date.now() - started) / 1000;
        const report = await probes.finish(spansFromEnds(started, ends));
        const test = out.results.find((r) => r.testId === testId && r.kind === 'test');
        if (!test || test.outcome !== 'PASS') throw new Error(`round ${round} ${mode}: ${testId} ${test?.outcome ?? 'did not run'}`);
        const zios = report.scripts.reduce((n, s) => n + Object.values(s.zio).reduce((m, z) => m + z.count, 0), 0);
        samples[mode].test.push(test.durationSeconds);
        samples[mode].wall.push(wall);
        samples[mode].zios.push(zios);
        process.stderr.write(`round ${round + 1} probes ${mode}: test ${test.durationSeconds} s, chunk ${wall.toFixed(1)} s, zios seen ${zios}\n`);
      }
    }
  } finally {
    await opened.close();
  }
  const line = (mode: 'off' | 'on') =>
    `| ${mode} | ${samples[mode].test.join(', ')} | ${medianOf(samples[mode].test)} | ${samples[mode].wall.map((w) => w.toFixed(1)).join(', ')} | ${medianOf(samples[mode].wall).toFixed(1)} | ${medianOf(samples[mode].zios)} |`;
  const ratio = medianOf(samples.on.wall) / medianOf(samples.off.wall);
  process.stdout.write(
    [
      `probe overhead: ${testId}, ${rounds} rounds per mode in one clone of the debian13 golden (booted in ${bootSeconds.toFixed(0)} s)`,
      '',
      '| probes | test (runner) s | median | chunk wall s | median | zios seen (median) |',
      '|---|---|---|---|---|---|',
      line('off'),
      line('on'),
      '',
      `chunk wall, probes on / off: ${ratio.toFixed(3)} (${((ratio - 1) * 100).toFixed(1)} %); test time on / off: ${(medianOf(samples.on.test) / medianOf(samples.off.test)).toFixed(3)}`,
      '',
    ].join('\n'),
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
