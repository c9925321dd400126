import { Command } from 'commander';
import { z } from 'zod';
import { openStore } from '../../../lib/store/open.js';
import type { ResultsStore } from '../../../lib/store/store.js';
import { ProbeStore, type StoredProbe } from '../../../lib/store/probes.js';
import { RunStatusSchema } from '../../../lib/store/types.js';
import { loadRunView } from '../../../activities/test-runs/run-view.js';
import { renderTerminalMatrix } from '../../../core/report/index.js';
import { storeUrlOf } from '../../../lib/config.js';
import { UsageError } from '../../../lib/errors.js';
import { temporalUiUrl } from '../../../lib/temporal.js';
import { contextFrom, type CliContext } from '../context.js';
import { table } from '../output.js';
import { runMatrix, writeReports } from './test-run/matrix-view.js';

/**
 * What the results store knows, from the command line: `runs`, `show`, `matrix`, `history`, `flaky`
 * and `diff`, each with `--json`.
 */
export function resultsCommands(): Command[] {
  return [runsCommand(), showCommand(), matrixCommand(), historyCommand(), flakyCommand(), diffCommand()];
}

export function flagsOf<S extends z.ZodType>(schema: S, raw: unknown, command: string): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`${command}: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

export async function withStore<T>(ctx: CliContext, work: (store: ResultsStore) => Promise<T>): Promise<T> {
  const store = await openStore(storeUrlOf(ctx.loaded()), { logger: ctx.log() });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** A test named as in the runfiles (`zpool_create/zpool_create_001_pos`), by its full id, or a recipe (`recipe/dedup`). */
export function testIdOf(name: string): string {
  return /^(functional|perf|stress|recipe)\//.test(name) || name.startsWith('/') ? name : `functional/${name}`;
}

function runsCommand(): Command {
  const Flags = z.strictObject({
    limit: z.coerce.number().int().min(1).max(10_000).default(20),
    target: z.string().optional(),
    status: RunStatusSchema.optional(),
  });
  return new Command('runs')
    .description('recent runs, newest first')
    .option('--limit <n>', 'how many', '20')
    .option('--target <target>', 'only runs of this target (native, a flavor id, …)')
    .option('--status <status>', 'running, passed, failed, infra-error or cancelled')
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextFrom(command);
      const flags = flagsOf(Flags, raw, 'runs');
      const runs = await withStore(ctx, (store) => store.listRuns(flags));
      if (ctx.out.json) return ctx.out.data(runs);
      if (runs.length === 0) return ctx.out.line('no runs yet');
      ctx.out.line(
        table(
          runs.map((r) => [r.id, r.startedAt, r.status, r.target, r.selection]),
          ['RUN', 'STARTED', 'STATUS', 'TARGET', 'SELECTION'],
        ),
      );
    });
}

function showCommand(): Command {
  return new Command('show')
    .description('one run: its targets, what they ran on, totals and artifacts')
    .argument('<run>', 'run id')
    .option('--probes', 'also what the in-guest probes saw per script: zio latency per type, txg sync time per pool, ARC hit ratio')
    .action(async (runId: string, raw: { probes?: boolean }, command: Command) => {
      const ctx = contextFrom(command);
      const [view, probes] = await withStore(ctx, async (store) => [await loadRunView(store, runId), await new ProbeStore(store.db).forRun(runId)] as const);
      if (!view) throw new UsageError(`no run ${runId} in the results store`);
      const ui = view.run.workflowId ? temporalUiUrl(ctx.loaded().config, view.run.workflowId) : undefined;
      const flavors = view.flavors.map((f) => {
        const by = (c: string) => f.results.filter((r) => r.kind !== 'failsafe' && r.classification === c).length;
        return {
          ...f.meta,
          hostId: f.hostId,
          golden: f.golden ?? null,
          shards: f.shardCount,
          tests: f.results.filter((r) => r.kind === 'test').length,
          scripts: f.results.filter((r) => r.kind !== 'failsafe').length,
          pass: by('pass'),
          skip: by('skip'),
          expectedFail: by('expected-fail'),
          flaky: by('flaky'),
          unexpectedFail: by('unexpected-fail'),
          infraErrors: f.results.filter((r) => r.infraError !== undefined).length,
        };
      });
      const artifacts = view.artifacts.map((a) => ({ ...a, uri: `s3://${ctx.loaded().config.s3.bucket}/${a.s3Key}` }));
      if (ctx.out.json) return ctx.out.data({ run: view.run, flavors, artifacts, temporalUi: ui ?? null, ...(raw.probes ? { probes } : {}) });
      const r = view.run;
      ctx.out.line(`run ${r.id}: ${r.status}, ${r.selection} on ${r.target}; started ${r.startedAt}${r.endedAt ? `, ended ${r.endedAt}` : ''}`);
      ctx.out.line(
        table(
          flavors.map((f) => [
            f.id,
            f.hostId ?? '-',
            `${f.os} ${f.release}`,
            f.kernel,
            f.openzfsVersion,
            String(f.tests),
            String(f.scripts),
            String(f.pass),
            String(f.unexpectedFail),
            String(f.expectedFail),
            String(f.flaky),
            String(f.skip),
          ]),
          ['FLAVOR', 'HOST', 'OS', 'KERNEL', 'OPENZFS', 'TESTS', 'SCRIPTS', 'PASS', 'UNEXPECTED', 'EXPECTED', 'FLAKY', 'SKIP'],
        ),
      );
      for (const f of flavors) if (f.golden) ctx.out.line(`  ${f.id} ran on golden ${f.golden}`);
      for (const a of artifacts) ctx.out.line(`  ${a.flavorId} shard ${a.shard} ${a.name}: ${a.uri}`);
      const probed = new Set(probes.map((p) => `${p.flavorId}\t${p.testId}`)).size;
      if (probes.length > 0 && !raw.probes) ctx.out.line(`  probes recorded for ${probed} script(s): zfslab show ${r.id} --probes`);
      if (raw.probes)
        ctx.out.line(
          probes.length === 0
            ? 'no probes were recorded for this run'
            : table(probeRows(probes), ['FLAVOR', 'SCRIPT', 'PROBE', 'SERIES', 'COUNT', 'P50', 'P99', 'MAX/RATIO']),
        );
      if (ui) ctx.out.line(`Temporal UI  ${ui}`);
    });
}

function probeRows(probes: readonly StoredProbe[]): string[][] {
  const ms = (s: number | undefined): string => (s === undefined ? '-' : s < 1e-3 ? `${(s * 1e6).toFixed(0)} µs` : `${(s * 1e3).toFixed(1)} ms`);
  return probes
    .filter((p) => p.probe !== 'spl')
    .map((p) => {
      const ratio = p.probe === 'arc' ? (p.detail as { hitRatio?: number }).hitRatio : undefined;
      const last = p.probe === 'arc' ? (ratio === undefined ? '-' : `${(ratio * 100).toFixed(1)} % hits`) : ms(p.maxSeconds);
      return [p.flavorId, p.testId.slice(p.testId.lastIndexOf('/') + 1), p.probe, p.series || '-', String(p.count), ms(p.p50Seconds), ms(p.p99Seconds), last];
    });
}

function matrixCommand(): Command {
  const Flags = z.strictObject({ all: z.boolean().default(false), junit: z.string().optional(), markdown: z.string().optional() });
  return new Command('matrix')
    .description('the flavor × test matrix of a run, with the diagnosis')
    .argument('<run>', 'run id')
    .option('--all', 'every row, not only those where something did not pass')
    .option('--junit <file>', 'also write JUnit XML')
    .option('--markdown <file>', 'also write a Markdown summary')
    .action(async (runId: string, raw: unknown, command: Command) => {
      const ctx = contextFrom(command);
      const flags = flagsOf(Flags, raw, 'matrix');
      const view = await withStore(ctx, (store) => loadRunView(store, runId));
      if (!view) throw new UsageError(`no run ${runId} in the results store`);
      const links = view.run.workflowId ? [{ label: 'Temporal UI', url: temporalUiUrl(ctx.loaded().config, view.run.workflowId) }] : [];
      const matrix = runMatrix(view, links);
      const files = writeReports(view, matrix, flags);
      if (ctx.out.json) return ctx.out.data({ ...matrix.report, diagnosisDetails: matrix.diagnoses, files });
      ctx.out.line(renderTerminalMatrix(matrix.report, { all: flags.all }));
      for (const file of files) ctx.out.line(`wrote ${file}`);
    });
}

function historyCommand(): Command {
  const Flags = z.strictObject({ flavor: z.string().optional() });
  return new Command('history')
    .description('one test over time, per flavor: last pass, where the current failure began')
    .argument('<test>', 'test id (functional/… or the path after functional/)')
    .option('--flavor <id>', 'one flavor only')
    .action(async (test: string, raw: unknown, command: Command) => {
      const ctx = contextFrom(command);
      const flags = flagsOf(Flags, raw, 'history');
      const testId = testIdOf(test);
      const milestones = await withStore(ctx, (store) => store.testMilestones(testId, flags.flavor ? { flavorId: flags.flavor } : {}));
      if (ctx.out.json) return ctx.out.data({ testId, flavors: milestones });
      if (milestones.length === 0) return ctx.out.line(`no results for ${testId}`);
      ctx.out.line(testId);
      ctx.out.line(
        table(
          milestones.map((m) => [m.flavorId, String(m.runs), m.lastOutcome, m.lastRun.runId, m.lastPass?.runId ?? '-', m.firstFail?.runId ?? '-']),
          ['FLAVOR', 'RUNS', 'LAST', 'LAST RUN', 'LAST PASS', 'FAILING SINCE'],
        ),
      );
    });
}

function flakyCommand(): Command {
  const Flags = z.strictObject({
    flavor: z.string().optional(),
    last: z.coerce.number().int().min(2).default(20),
    minFlips: z.coerce.number().int().min(1).default(2),
  });
  return new Command('flaky')
    .description('tests whose verdict flips between runs of the same flavor, or that passed on a re-run')
    .option('--flavor <id>', 'one flavor only')
    .option('--last <n>', 'window: the newest n runs of each flavor', '20')
    .option('--min-flips <n>', 'report tests with at least this many flips', '2')
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextFrom(command);
      const flags = flagsOf(Flags, raw, 'flaky');
      const flaky = await withStore(ctx, (store) =>
        store.flakyTests({ lastRuns: flags.last, minFlips: flags.minFlips, ...(flags.flavor ? { flavorId: flags.flavor } : {}) }),
      );
      if (ctx.out.json) return ctx.out.data(flaky);
      if (flaky.length === 0) return ctx.out.line('no flaky tests in the window');
      ctx.out.line(
        table(
          flaky.map((f) => [
            f.flavorId,
            f.testId,
            `${f.failures}/${f.observedRuns}`,
            String(f.flips),
            f.flipRate.toFixed(2),
            String(f.passedOnRerun),
            f.lastOutcome,
          ]),
          ['FLAVOR', 'TEST', 'FAILED', 'FLIPS', 'FLIP RATE', 'PASSED ON RE-RUN', 'LAST'],
        ),
      );
    });
}

function diffCommand(): Command {
  const Flags = z.strictObject({ flavor: z.string().optional() });
  return new Command('diff')
    .description('two runs compared: newly failing, still failing, recovered')
    .argument('<base>', 'the older run')
    .argument('<head>', 'the newer run')
    .option('--flavor <id>', 'one flavor only')
    .action(async (base: string, head: string, raw: unknown, command: Command) => {
      const ctx = contextFrom(command);
      const flags = flagsOf(Flags, raw, 'diff');
      const diff = await withStore(ctx, (store) => store.diffRuns(base, head, flags.flavor ? { flavorId: flags.flavor } : {}));
      if (ctx.out.json) return ctx.out.data(diff);
      const section = (title: string, entries: typeof diff.newlyFailing) => {
        ctx.out.line(`${title} (${entries.length})`);
        for (const e of entries) ctx.out.line(`  ${e.flavorId}  ${e.testId}${e.kind === 'test' ? '' : ` (${e.kind})`}  ${e.base ?? '-'} → ${e.head ?? '-'}`);
      };
      section('newly failing', diff.newlyFailing);
      section('still failing', diff.stillFailing);
      section('recovered', diff.recovered);
      ctx.out.line(`new ${diff.new.length}, gone ${diff.gone.length}, unchanged ${diff.unchanged}`);
    });
}
