import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { RerunsSchema } from '../../../../core/results/result-class.js';
import type { Catalog } from '../../../../core/catalog/index.js';
import { RunfileSyntaxError } from '../../../../core/runfile/errors.js';
import { parseRunfile } from '../../../../core/runfile/parse.js';
import { listTests } from '../../../../core/runfile/select.js';
import { SuiteSchema } from '../../../../core/runfile/suites.js';
import { workloadSlug } from '../../../../core/fingerprint/keys.js';
import { parseProbesFlag } from '../../../../core/probes/plan.js';
import { HostLossPolicySchema } from '../../../../core/test-run/host-loss.js';
import { DispatchHostSchema, DispatchModeSchema, type DispatchHost } from '../../../../core/test-run/dynamic-dispatch.js';
import { HostIdSchema, NATIVE_TARGET, RunRequestSchema, describeRequest } from '../../../../core/test-run/input.js';
import type { MatrixRunInput, RunRequest } from '../../../../core/test-run/input.js';
import { UsageError } from '../../../../lib/errors.js';

/** `host:slots`, e.g. `lab-a:2`. */
const SlotSpecSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}:\d{1,2}$/, 'host:slots, e.g. lab-a:2')
  .transform((s) => ({ hostId: s.slice(0, s.lastIndexOf(':')), slots: Number(s.slice(s.lastIndexOf(':') + 1)) }))
  .pipe(DispatchHostSchema);

const list = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string()).min(1, 'give at least one name'));

/** `zfslab test` flags as commander hands them over (strings), validated and typed. */
export const TestFlagsSchema = z
  .strictObject({
    run: z.string().trim().min(1).optional(),
    group: list.optional(),
    suite: SuiteSchema.optional(),
    tags: list.optional(),
    runfile: z.string().min(1).optional(),
    testDir: z.string().min(1).optional(),
    shards: z.coerce.number().int().min(1).max(64).default(1),
    chunkSize: z.coerce.number().int().min(1).max(100_000).default(50),
    host: HostIdSchema.optional(),
    /** Hosts that take over when the run's host is lost (default: the registry's other good hosts that can run the targets). */
    standby: list.pipe(z.array(HostIdSchema)).optional(),
    onHostLoss: HostLossPolicySchema.default('replace'),
    /** `dynamic`: chunks go longest first to the next free slot of any dispatch host. */
    dispatch: DispatchModeSchema.default('static'),
    /** `--slots a:2,b:1`: the dispatch hosts and their slots (default: the run's host and its standby hosts, with their registry VM slots). */
    slots: list.pipe(z.array(SlotSpecSchema)).optional(),
    /** Capabilities the run's host must have proven (`kvm`) or carry as tags: `--require kvm,multipath`. */
    require: list.optional(),
    baseline: z
      .string()
      .regex(/^\d+\.\d+(\.\d+)?$/, 'an OpenZFS version like 2.3 or 2.3.2')
      .optional(),
    dryRun: z.boolean().default(false),
    wait: z.boolean().default(true),
    all: z.boolean().default(false),
    junit: z.string().min(1).optional(),
    markdown: z.string().min(1).optional(),
    html: z.string().min(1).optional(),
    heartbeatTimeout: z.coerce.number().int().min(2).max(3600).default(10),
    /** Re-runs of an unexpected FAIL/KILLED (default: the config's `run.reruns`). */
    reruns: z.coerce.number().pipe(RerunsSchema).optional(),
    timeout: z.coerce.number().int().positive().optional(),
    /** `--fingerprint` (workload named after the selection) or `--fingerprint <workload>`. */
    fingerprint: z.union([z.literal(true), z.string().trim().min(1).max(120)]).optional(),
    /** `--probes all|none|zio,kstat` (default all): in-guest probes beside each chunk's runner. */
    probes: z
      .string()
      .default('all')
      .transform((text, ctx) => {
        try {
          return parseProbesFlag(text);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return z.NEVER;
        }
      }),
  })
  .refine((f) => !(f.runfile && (f.run || f.group || f.suite || f.tags)), {
    message: '--runfile runs a runfile as it is: do not combine it with --run, --group, --suite or --tags',
  })
  .refine((f) => f.runfile || f.run || f.group || f.suite || f.tags, {
    message: 'nothing selected: give --suite, --run, --group, --tags or --runfile',
  })
  .refine((f) => [f.run, f.group, f.tags].filter((v) => v !== undefined).length <= 1, {
    message: 'give at most one of --run, --group and --tags',
  })
  .refine((f) => !f.testDir || f.runfile, { message: '--test-dir goes with --runfile' })
  .refine((f) => !f.slots || f.dispatch === 'dynamic', { message: '--slots goes with --dispatch dynamic' });
export type TestFlags = z.output<typeof TestFlagsSchema>;

/** The baseline name a run's fingerprint is compared under: given, or `zts-<selection>`. */
export function fingerprintWorkload(flags: TestFlags, request: RunRequest): string | undefined {
  if (flags.fingerprint === undefined) return undefined;
  return workloadSlug(flags.fingerprint === true ? `zts-${describeRequest(request)}` : flags.fingerprint);
}

export function parseTestFlags(raw: unknown): TestFlags {
  const parsed = TestFlagsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new UsageError(`test: ${parsed.error.issues.map((i) => (i.path.length ? `--${String(i.path[0])}: ${i.message}` : i.message)).join('; ')}`);
  }
  return parsed.data;
}

/** The run request: a selection, or the runfile's text (read here, checked here, run on the host). */
export function requestFrom(flags: TestFlags, cwd = process.cwd()): RunRequest {
  if (flags.runfile) {
    const path = resolve(cwd, flags.runfile);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new UsageError(`--runfile ${flags.runfile}: ${(err as Error).message}`);
    }
    let tests: number;
    try {
      // Resolving evaluates `tests`/`tags` as the runner would: a broken list fails here, not on the host.
      tests = listTests(parseRunfile(text, path)).length;
    } catch (err) {
      if (err instanceof RunfileSyntaxError) throw new UsageError(`--runfile: ${err.message}`);
      throw err;
    }
    if (tests === 0) throw new UsageError(`--runfile ${flags.runfile} names no test`);
    // Sections that are not absolute paths are found below the runfile's own directory (-i).
    return RunRequestSchema.parse({ kind: 'runfile', runfileText: text, name: basename(path), testDir: resolve(cwd, flags.testDir ?? dirname(path)) });
  }
  return RunRequestSchema.parse({
    kind: 'selection',
    selection: {
      ...(flags.suite ? { suite: flags.suite } : {}),
      ...(flags.run ? { run: flags.run } : {}),
      ...(flags.group ? { groups: flags.group } : {}),
      ...(flags.tags ? { tags: flags.tags } : {}),
    },
  });
}

/** `native`, a flavor id, or `all` (every flavor of the catalog). */
export function targetsFrom(target: string, catalog: Catalog): string[] {
  if (target === 'all') return catalog.flavors.map((f) => f.id);
  // `debian12,debian12-bpo,debian13`: one run, one matrix over several targets.
  const targets = target.split(',').map((t) => t.trim());
  for (const t of targets) {
    if (t !== NATIVE_TARGET && !catalog.has(t)) {
      throw new UsageError(`unknown target "${t}": give native, all, or flavors, comma-separated (${catalog.flavors.map((f) => f.id).join(', ')})`);
    }
  }
  const twice = targets.find((t, i) => targets.indexOf(t) !== i);
  if (twice) throw new UsageError(`target "${twice}" is named twice`);
  return targets;
}

/** The options that say what to run and where, shared by `zfslab test` and `zfslab schedule create`. */
export function addRunOptions(command: Command): Command {
  return command
    .option('--run <test>', 'one test')
    .option('--group <groups>', 'groups or tests, comma-separated')
    .option('--suite <suite>', 'quick (sanity.run), linux (common + linux.run) or fault (fault-tagged groups)')
    .option('--tags <tags>', 'runfile tags, comma-separated')
    .option('--runfile <file>', 'your own runfile in ZTS format, run by the upstream test-runner')
    .option('--test-dir <dir>', "with --runfile: where its relative sections are (default: the runfile's directory)")
    .option('--shards <n>', 'split over n shards, balanced by historical durations', '1')
    .option('--chunk-size <n>', 'tests per chunk (the unit of retry)', '50')
    .option('--host <id>', 'the lab host to run on (default: this machine)')
    .option('--require <caps>', 'capabilities the host must have proven (kvm, zfs-storage, …) or carry as tags, comma-separated')
    .option('--baseline <version>', 'classify against the known/flaky baseline of this OpenZFS version')
    .option('--heartbeat-timeout <seconds>', 'a chunk whose worker went silent this long moves to a standby host (or is retried)', '10')
    .option('--standby <hosts>', "hosts that take over a chunk when the run's host is lost, in order (default: the fleet's other good hosts that can run it)")
    .option('--on-host-loss <policy>', 'replace (move the chunk to a standby host) or wait (retry it on its host)', 'replace')
    .option(
      '--dispatch <mode>',
      'static (each shard its chunks in order on the run host) or dynamic (chunks longest first to the next free slot of any dispatch host)',
      'static',
    )
    .option('--slots <host:n,…>', 'with --dispatch dynamic: the hosts and their slots (default: the run host and its standby hosts, with their VM slots)')
    .option('--probes <kinds>', 'in-guest probes beside each chunk: all (zio latency and kstats), none, or a list of zio,kstat', 'all')
    .option('--reruns <n>', 're-run each unexpected FAIL/KILLED n times in a fresh clone at the end of its shard (0: off; default run.reruns, 1)');
}

/** A run as `zfslab test` starts it, without its run id (a schedule's firings each get their own). */
export function runTemplateFrom(
  flags: TestFlags,
  targets: string[],
  hostId: string,
  standbyHosts: string[] = [],
  vmSlots: Readonly<Record<string, number>> = {},
): Omit<MatrixRunInput, 'runId' | 'dryRun'> {
  const request = requestFrom(flags);
  const workload = fingerprintWorkload(flags, request);
  const standby = (flags.standby ?? standbyHosts).filter((h) => h !== hostId);
  // Dynamic dispatch uses every slot of the run host and its standby hosts, unless told which.
  const dispatchHosts: DispatchHost[] =
    flags.slots ?? [hostId, ...standby].map((h) => ({ hostId: h, slots: Math.max(1, vmSlots[h] ?? (h === hostId ? flags.shards : 1)) }));
  return {
    hostId,
    standbyHosts: standby,
    ...(flags.dispatch === 'dynamic' ? { dispatch: 'dynamic' as const, dispatchHosts } : {}),
    onHostLoss: flags.onHostLoss,
    targets,
    request,
    ...(workload ? { fingerprint: { workload } } : {}),
    ...(flags.probes.length > 0 ? { probes: flags.probes } : {}),
    shards: flags.shards,
    chunkSize: flags.chunkSize,
    heartbeatTimeoutSeconds: flags.heartbeatTimeout,
    ...(flags.reruns !== undefined ? { reruns: flags.reruns } : {}),
    ...(flags.baseline ? { baselineVersion: flags.baseline } : {}),
  };
}
