import { Command } from 'commander';
import { z } from 'zod';
import { baselineFor, seriesOf } from '../../../core/baselines/index.js';
import { LearnedListSchema, suggestedList, type LearnedEntry, type LearnedStats } from '../../../core/baselines/learned.js';
import { loadCatalog } from '../../../core/catalog/index.js';
import { UsageError } from '../../../lib/errors.js';
import { LearnedBaselines, type BaselineScope, type TestHistory } from '../../../lib/store/learned-baselines.js';
import type { ResultsStore } from '../../../lib/store/store.js';
import { contextFrom, type CliContext } from '../context.js';
import { table } from '../output.js';
import { operator } from './host.js';
import { flagsOf, testIdOf, withStore } from './results.js';

/**
 * `zfslab baseline show|accept|expire`: the failures a lab has accepted per flavor and OpenZFS
 * series, on top of upstream's zts-report tables, with what history says about each (fail rate,
 * last pass, failing since) and the failures not yet accepted (the candidates).
 */
export function baselineCommand(): Command {
  return new Command('baseline')
    .description('known failures per flavor and OpenZFS series, learned from history on top of upstream zts-report')
    .addCommand(showCommand())
    .addCommand(acceptCommand())
    .addCommand(expireCommand());
}

const SeriesFlag = z
  .string()
  .regex(/^\d+\.\d+$/, 'an OpenZFS series such as 2.3')
  .optional();
const WindowFlag = z.coerce.number().int().min(1).max(10_000).default(50);

function showCommand(): Command {
  const Flags = z.strictObject({ series: SeriesFlag, last: WindowFlag, expired: z.boolean().default(false) });
  return new Command('show')
    .description("a flavor's accepted failures and the failures not yet accepted, with their history; every flavor's entries without one")
    .argument('[flavor]', 'flavor id (native for this host)')
    .option('--series <x.y>', 'OpenZFS series (default: the newest run of the flavor)')
    .option('--last <n>', 'history window: the newest n runs of the flavor under that series', '50')
    .option('--expired', 'also list entries that expired')
    .action(async (flavor: string | undefined, raw: unknown, command: Command) => {
      const ctx = contextFrom(command);
      const flags = flagsOf(Flags, raw, 'baseline show');
      await withStore(ctx, async (store) => {
        const learned = new LearnedBaselines(store.db);
        if (flavor === undefined) {
          const entries = await learned.list({ includeExpired: flags.expired, ...(flags.series ? { series: flags.series } : {}) });
          if (ctx.out.json) return ctx.out.data({ entries });
          if (entries.length === 0) return ctx.out.line('no accepted failures yet (zfslab baseline show <flavor> lists the candidates)');
          ctx.out.line(table(entries.map(entryRow), ['FLAVOR', 'SERIES', 'TEST', 'EXCUSES', 'LIST', 'ACCEPTED', 'BY', 'REASON', 'EXPIRED']));
          return;
        }
        const scope = await scopeOf(ctx, store, flavor, flags.series);
        const entries = await learned.list({ ...scope, includeExpired: flags.expired });
        const history = await learned.history(scope, { lastRuns: flags.last });
        const ofEntries = await learned.history(scope, { lastRuns: flags.last, testIds: entries.map((e) => e.testId) });
        const accepted = new Set(entries.filter((e) => e.expiredAt === undefined).map((e) => e.testId));
        const candidates = [...history.values()].filter((h) => h.unexcusedFailures > 0 && !accepted.has(h.testId)).sort(byFailRate);
        const seed = baselineFor(`${scope.series}.0`);
        const expireAfterRuns = ctx.loaded().config.baseline.expireAfterRuns;
        const view = {
          ...scope,
          seed: seed
            ? {
                tag: seed.origin.tag,
                known: seed.entries.filter((e) => e.list === 'known').length,
                maybe: seed.entries.filter((e) => e.list === 'maybe').length,
              }
            : null,
          expireAfterRuns,
          accepted: entries.map((e) => ({ ...e, history: statsView(ofEntries.get(e.testId)?.stats) })),
          candidates: candidates.map((c) => ({
            testId: c.testId,
            suggested: suggestedList(c.stats),
            outcome: c.stats.usualFailure,
            history: statsView(c.stats),
          })),
        };
        if (ctx.out.json) return ctx.out.data(view);
        ctx.out.line(
          `${scope.flavorId} under OpenZFS ${scope.series}: ` +
            (seed ? `upstream zts-report (${seed.origin.tag}): ${view.seed!.known} known, ${view.seed!.maybe} maybe` : 'no upstream baseline for this series') +
            `; ${accepted.size} accepted here (an entry expires after ${expireAfterRuns} runs in a row without the failure)`,
        );
        if (entries.length > 0) {
          ctx.out.line('');
          ctx.out.line(
            table(
              entries.map((e) => {
                const s = ofEntries.get(e.testId)?.stats;
                return [
                  e.testId,
                  e.list,
                  e.outcome,
                  rate(s),
                  s?.lastPass?.runId ?? '-',
                  s?.runsSinceLastFail !== undefined ? String(s.runsSinceLastFail) : '-',
                  e.reason,
                  e.expiredAt ? `expired ${e.expiredAt.slice(0, 10)}` : 'active',
                ];
              }),
              ['ACCEPTED', 'LIST', 'EXCUSES', 'FAILED', 'LAST PASS', 'RUNS CLEAN', 'REASON', 'STATE'],
            ),
          );
        }
        ctx.out.line('');
        if (candidates.length === 0) return ctx.out.line(`no unaccepted failures in the last ${flags.last} run(s)`);
        ctx.out.line(
          table(
            candidates.map((c) => [
              c.testId,
              rate(c.stats),
              c.stats.usualFailure,
              c.stats.lastPass?.runId ?? '-',
              c.stats.firstFail?.runId ?? '-',
              suggestedList(c.stats),
            ]),
            ['NOT ACCEPTED', 'FAILED', 'AS', 'LAST PASS', 'FAILING SINCE', 'WOULD BE'],
          ),
        );
        ctx.out.line(`accept one: zfslab baseline accept ${scope.flavorId} <test> --series ${scope.series} --reason "<issue URL or why>"`);
      });
    });
}

function acceptCommand(): Command {
  const Flags = z.strictObject({
    series: SeriesFlag,
    reason: z.string().trim().min(1, 'say why (--reason "an issue URL, or why")'),
    list: LearnedListSchema.optional(),
    outcome: z.enum(['FAIL', 'KILLED']).optional(),
    by: z.string().min(1).optional(),
    last: WindowFlag,
  });
  return new Command('accept')
    .description('accept failures of a flavor under one OpenZFS series: they class as known until they stop failing')
    .argument('<flavor>', 'flavor id')
    .argument('<tests...>', 'test ids (functional/… or the path after functional/)')
    .requiredOption('--reason <text>', 'why (an issue URL, or why it is accepted)')
    .option('--series <x.y>', 'OpenZFS series (default: the newest run of the flavor)')
    .option('--list <list>', 'known (fails every time) or maybe (flaky here); default from its history')
    .option('--outcome <outcome>', 'FAIL or KILLED: what it excuses; default what it fails with most')
    .option('--by <who>', 'who accepts (default: operator:<login>)')
    .option('--last <n>', 'history window that must show the failure', '50')
    .action(async (flavor: string, tests: string[], raw: unknown, command: Command) => {
      const ctx = contextFrom(command);
      const flags = flagsOf(Flags, raw, 'baseline accept');
      await withStore(ctx, async (store) => {
        const scope = await scopeOf(ctx, store, flavor, flags.series);
        const learned = new LearnedBaselines(store.db);
        const testIds = [...new Set(tests.map(testIdOf))];
        const history = await learned.history(scope, { testIds, lastRuns: flags.last });
        // Accept only what history shows failing here: a typo or a test that never failed is not a baseline.
        const never = testIds.filter((t) => (history.get(t)?.stats.failures ?? 0) === 0);
        if (never.length > 0) {
          throw new UsageError(
            `baseline accept: ${never.join(', ')} did not fail on ${scope.flavorId} under OpenZFS ${scope.series} in the last ${flags.last} run(s); ` +
              `nothing to accept (zfslab baseline show ${scope.flavorId} lists what failed)`,
          );
        }
        const acceptedAt = new Date().toISOString();
        const acceptedBy = operator(flags.by);
        const entries: LearnedEntry[] = testIds.map((testId) => {
          const stats = history.get(testId)!.stats;
          return {
            ...scope,
            testId,
            outcome: flags.outcome ?? stats.usualFailure,
            list: flags.list ?? suggestedList(stats),
            reason: flags.reason,
            acceptedAt,
            acceptedBy,
          };
        });
        await learned.accept(entries);
        if (ctx.out.json) return ctx.out.data({ accepted: entries });
        for (const e of entries)
          ctx.out.line(
            `accepted ${e.testId} on ${e.flavorId} under OpenZFS ${e.series}: ${e.outcome} is ${e.list} (${rate(history.get(e.testId)?.stats)} failed)`,
          );
      });
    });
}

function expireCommand(): Command {
  const Flags = z.strictObject({ series: SeriesFlag, after: z.coerce.number().int().min(1).max(1000).optional(), why: z.string().min(1).optional() });
  return new Command('expire')
    .description('end accepted entries: the named tests, or every entry whose test has not failed in --after runs in a row')
    .argument('[flavor]', 'flavor id (default: every flavor with entries)')
    .argument('[tests...]', 'test ids to expire now')
    .option('--series <x.y>', 'OpenZFS series (default: the newest run of the flavor)')
    .option('--after <k>', 'runs in a row without the failure (default: baseline.expireAfterRuns)')
    .option('--why <text>', 'why, for named tests')
    .action(async (flavor: string | undefined, tests: string[], raw: unknown, command: Command) => {
      const ctx = contextFrom(command);
      const flags = flagsOf(Flags, raw, 'baseline expire');
      const now = new Date().toISOString();
      await withStore(ctx, async (store) => {
        const learned = new LearnedBaselines(store.db);
        let expired: LearnedEntry[];
        if (flavor !== undefined && tests.length > 0) {
          const scope = await scopeOf(ctx, store, flavor, flags.series);
          const active = new Map((await learned.list(scope)).map((e) => [e.testId, e]));
          const testIds = [...new Set(tests.map(testIdOf))];
          const unknown = testIds.filter((t) => !active.has(t));
          if (unknown.length > 0)
            throw new UsageError(`baseline expire: no active entry for ${unknown.join(', ')} on ${scope.flavorId} under OpenZFS ${scope.series}`);
          const why = flags.why ?? `expired by ${operator(undefined)}`;
          await learned.expire(
            testIds.map((testId) => ({ ...scope, testId })),
            now,
            why,
          );
          expired = testIds.map((t) => ({ ...active.get(t)!, expiredAt: now, expiredWhy: why }));
        } else {
          const after = flags.after ?? ctx.loaded().config.baseline.expireAfterRuns;
          const scopes =
            flavor !== undefined
              ? [await scopeOf(ctx, store, flavor, flags.series)]
              : scopesOf(await learned.list(flags.series ? { series: flags.series } : {}));
          expired = [];
          for (const scope of scopes) expired.push(...(await learned.expireDue(scope, after, now)));
        }
        if (ctx.out.json) return ctx.out.data({ expired });
        if (expired.length === 0) return ctx.out.line('nothing expired');
        for (const e of expired) ctx.out.line(`expired ${e.testId} on ${e.flavorId} under OpenZFS ${e.series}: ${e.expiredWhy}`);
      });
    });
}

/** The flavor and series a command works on; names what is wrong when either cannot be known. */
async function scopeOf(ctx: CliContext, store: ResultsStore, flavorId: string, series: string | undefined): Promise<BaselineScope> {
  const catalog = loadCatalog(ctx.loaded().config.flavors);
  const newest = await new LearnedBaselines(store.db).newestSeries(flavorId);
  if (!catalog.has(flavorId) && newest === undefined && flavorId !== 'native') catalog.get(flavorId);
  const chosen = series ?? newest ?? (catalog.has(flavorId) ? seriesOf(catalog.get(flavorId).expectedZfsVersion) : undefined);
  if (chosen === undefined) throw new UsageError(`baseline: no run of ${flavorId} recorded its OpenZFS version; say which series (--series 2.3)`);
  return { flavorId, series: chosen };
}

function scopesOf(entries: readonly LearnedEntry[]): BaselineScope[] {
  const seen = new Map<string, BaselineScope>();
  for (const e of entries) seen.set(`${e.flavorId}\u0000${e.series}`, { flavorId: e.flavorId, series: e.series });
  return [...seen.values()];
}

function entryRow(e: LearnedEntry): string[] {
  return [
    e.flavorId,
    e.series,
    e.testId,
    e.outcome,
    e.list,
    e.acceptedAt.slice(0, 10),
    e.acceptedBy,
    e.reason,
    e.expiredAt ? `${e.expiredAt.slice(0, 10)}: ${e.expiredWhy ?? ''}` : '-',
  ];
}

function statsView(stats: LearnedStats | undefined) {
  if (!stats) return null;
  return {
    observedRuns: stats.observedRuns,
    failures: stats.failures,
    failRate: stats.failRate,
    lastPass: stats.lastPass?.runId ?? null,
    failingSince: stats.firstFail?.runId ?? null,
    lastFail: stats.lastFail?.runId ?? null,
    runsSinceLastFail: stats.runsSinceLastFail,
  };
}

function rate(stats: LearnedStats | undefined): string {
  return stats ? `${stats.failures}/${stats.observedRuns}` : '-';
}

function byFailRate(a: TestHistory, b: TestHistory): number {
  return b.stats.failRate - a.stats.failRate || b.stats.failures - a.stats.failures || a.testId.localeCompare(b.testId);
}
