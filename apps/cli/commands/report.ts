import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { z } from 'zod';
import { loadRunView, type RunView } from '../../../activities/test-runs/run-view.js';
import { renderHtmlReport } from '../../../core/report/html.js';
import type { DurationPoint, HtmlReportInput } from '../../../core/report/html.js';
import { storeUrlOf, type Config } from '../../../lib/config.js';
import { UsageError } from '../../../lib/errors.js';
import { openStore } from '../../../lib/store/open.js';
import { ProbeStore } from '../../../lib/store/probes.js';
import type { ResultsStore } from '../../../lib/store/store.js';
import { busiestTest, zioHeatmap } from '../../../core/probes/heatmap.js';
import { temporalUiUrl } from '../../../lib/temporal.js';
import { contextFrom } from '../context.js';
import { runMatrix } from './test-run/matrix-view.js';

const Flags = z.strictObject({
  html: z.string().min(1, 'a file to write'),
  last: z.coerce.number().int().min(2).max(1000).default(30),
  artifactsUrl: z.url({ protocol: /^https?$/ }).optional(),
  heatmapTest: z.string().min(1).optional(),
});

/** The ECharts build the report inlines, so the file needs no network when opened. */
function chartLibrary(): string {
  return readFileSync(createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'), 'utf8');
}

/** The heatmap of the named test, else of the run's busiest; or why there is none. */
async function heatmapFor(store: ResultsStore, runId: string, testId: string | undefined): Promise<HtmlReportInput['heatmap']> {
  const rows = await new ProbeStore(store.db).forRun(runId, { probe: 'zio' });
  if (rows.length === 0)
    return { missing: 'No zio latency histograms were recorded for this run (run with --probes all on a target where bpftrace attaches).' };
  const pick = testId ? rows.find((r) => r.testId === testId || r.testId.endsWith(`/${testId}`)) : undefined;
  if (testId && !pick) return { missing: `No zio latency histograms were recorded for ${testId} in this run.` };
  const chosen = pick ? { testId: pick.testId, flavorId: pick.flavorId } : busiestTest(rows);
  const heatmap = chosen ? zioHeatmap(rows, chosen.testId, chosen.flavorId) : undefined;
  return heatmap ?? { missing: 'The zio latency histograms of this run hold no windows.' };
}

export interface HtmlReportOptions {
  /** Runs per flavor in the pass-rate trend (default 30). */
  last?: number;
  heatmapTest?: string;
  artifactsUrl?: string;
}

/**
 * Writes the run's HTML report to `file`, whole or not at all (a reader never sees half a report):
 * `zfslab report`, and `zfslab test --html` once its run ended (what CI attaches beside JUnit), each
 * with the run's view it loaded from the store.
 */
export async function writeRunHtmlReport(store: ResultsStore, config: Config, view: RunView, file: string, options: HtmlReportOptions = {}): Promise<void> {
  const last = options.last ?? 30;
  const runId = view.run.id;
  const links = view.run.workflowId ? [{ label: 'Temporal UI', url: temporalUiUrl(config, view.run.workflowId) }] : [];
  const flavorIds = new Set(view.flavors.map((f) => f.meta.id));
  const drift = await store.durationDrift({ runId, all: true, lastRuns: last, minBaselineSeconds: 0 });
  const trend = await store.passRateTrend({ lastRuns: last });
  const base = options.artifactsUrl ?? `${config.s3.endpoint.replace(/\/$/, '')}/${config.s3.bucket}`;
  const input: HtmlReportInput = {
    matrix: runMatrix(view, links).report,
    generatedAt: new Date().toISOString(),
    run: {
      id: view.run.id,
      status: view.run.status,
      startedAt: view.run.startedAt,
      selection: view.run.selection,
      ...(view.run.endedAt === undefined ? {} : { endedAt: view.run.endedAt }),
    },
    flavors: view.flavors.map((f) => ({
      id: f.meta.id,
      kernel: f.meta.kernel,
      openzfsVersion: f.meta.openzfsVersion,
      ...(f.hostId === undefined ? {} : { hostId: f.hostId }),
    })),
    durations: drift.map((d): DurationPoint => ({
      flavorId: d.flavorId,
      testId: d.subject,
      seconds: d.seconds,
      samples: d.samples,
      ...(d.medianSeconds === undefined ? {} : { medianSeconds: d.medianSeconds }),
    })),
    trend: [...flavorIds].map((flavorId) => ({
      flavorId,
      points: trend
        .filter((p) => p.flavorId === flavorId && p.passRate !== undefined)
        .map((p) => ({ runId: p.runId, startedAt: p.startedAt, passRate: p.passRate as number }))
        .reverse(),
    })),
    heatmap: await heatmapFor(store, runId, options.heatmapTest),
    artifacts: view.artifacts.map((a) => ({ flavorId: a.flavorId, shard: a.shard, name: a.name, url: `${base}/${a.s3Key}` })),
  };
  const partial = `${file}.partial`;
  writeFileSync(partial, renderHtmlReport(input, chartLibrary()));
  renameSync(partial, file);
}

/**
 * `zfslab report <run> --html FILE`: one self-contained HTML file for a run (a campaign over many
 * flavors is one run), with the pass-rate trend of each flavor's last `--last` runs.
 */
export function reportCommand(): Command {
  return new Command('report')
    .description('write one self-contained HTML report of a run: matrix, diagnosis, durations against history, trend, artifacts')
    .argument('<run>', 'run id')
    .requiredOption('--html <file>', 'the HTML file to write')
    .option('--last <n>', 'runs per flavor in the pass-rate trend', '30')
    .option('--heatmap-test <test>', 'the test whose zio latency heatmap is drawn (default: the one with the most zios)')
    .option('--artifacts-url <url>', 'base URL an artifact key is appended to (default: the S3 endpoint, path-style)')
    .action(async (runId: string, raw: unknown, command: Command) => {
      const ctx = contextFrom(command);
      const parsed = Flags.safeParse(raw);
      if (!parsed.success) throw new UsageError(`report: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const flags = parsed.data;
      const store = await openStore(storeUrlOf(ctx.loaded()), { logger: ctx.log() });
      try {
        const view = await loadRunView(store, runId);
        if (!view) throw new UsageError(`no run ${runId} in the results store`);
        await writeRunHtmlReport(store, ctx.loaded().config, view, flags.html, flags);
      } finally {
        await store.close();
      }
      if (ctx.out.json) return ctx.out.data({ run: runId, file: flags.html });
      ctx.out.line(`wrote ${flags.html}`);
    });
}
