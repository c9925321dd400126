import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { z } from 'zod';
import { captureFingerprint, type CaptureResult } from '../../../activities/fingerprint/capture.js';
import { readFingerprintFile, readTolerancesFile, summariseEventFile, writeJsonFile } from '../../../activities/fingerprint/files.js';
import { writeIncidentBundle } from '../../../activities/fingerprint/bundle.js';
import { localCaptureShell } from '../../../activities/fingerprint/shell.js';
import { AlertRuleError, latencyAlertRules, latencyAlertRuleTests, ruleFileYaml } from '../../../core/fingerprint/alert-rules.js';
import { detectDeviations, type DetectionReport } from '../../../core/fingerprint/detect.js';
import { fingerprintKeys } from '../../../core/fingerprint/keys.js';
import { SECTION_NAMES, type Fingerprint } from '../../../core/fingerprint/schema.js';
import { destinationKey, verifyStability, type StabilityReport } from '../../../core/fingerprint/stability.js';
import { allowListPolicy, noShellPolicy, PolicyError, policyYaml } from '../../../core/fingerprint/tetragon-policy.js';
import { DEFAULT_TOLERANCES } from '../../../core/fingerprint/tolerances.js';
import { artifactKeys } from '../../../core/artifact-keys.js';
import type { LoadedConfig } from '../../../lib/config.js';
import { UsageError } from '../../../lib/errors.js';
import { contextFrom } from '../context.js';
import { EXIT, ExitError } from '../exit.js';
import { paint, table, type Output } from '../output.js';

/**
 * `zfslab fingerprint …`: capture a workload's kernel-visible behaviour, summarise saved event streams,
 * check two captures agree, compare a capture with a baseline, and turn a baseline into Tetragon
 * policies, Prometheus alert rules and incident bundles. Exit codes: 0 nothing found, 1 deviations (or
 * an unstable pair), 2 bad input.
 */
export interface FingerprintCommandContext {
  loadConfig: () => LoadedConfig;
  /** The CLI's S3 uploader; returns the object's URI. Without it, `bundle` and `baseline set` only write locally. */
  uploadArtifact?: (key: string, body: Buffer | string, contentType: string) => Promise<string>;
}

function flags<T extends z.ZodType>(schema: T, raw: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`fingerprint ${what}: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

const seconds = z.coerce.number().nonnegative();
const ratio = z.coerce.number().min(0).max(100);

export function fingerprintCommand(ctx: FingerprintCommandContext): Command {
  const fingerprint = new Command('fingerprint').description('workload fingerprints: capture, summarise, verify, detect, trigger');

  fingerprint
    .command('capture')
    .description('run a command on this host under bpftrace (and Tetragon when an agent answers) and fingerprint its process tree')
    .argument('<command...>', 'the workload, after --')
    .option('--duration <seconds>', 'stop the workload after this long (default: run to the end)')
    .option('--out <file>', 'write the fingerprint here')
    .option('--raw <file>', 'also keep the raw event stream here (replay with `fingerprint summarise`)')
    .option('--workload <name>', 'name of the workload in the fingerprint (default: the command line)')
    .option('--zfs-version <version>', 'OpenZFS numbering for ioctl names when no ZFS module is loaded (2.1 … 2.4)')
    .option('--kfunc <names>', 'kernel functions to time when kprobes work, comma-separated')
    .option('--no-tetragon', 'ignore a Tetragon agent')
    .action(async (command: string[], raw: unknown, cmd: Command) => {
      const out = contextFrom(cmd).out;
      const f = flags(
        z.object({
          duration: seconds.optional(),
          out: z.string().optional(),
          raw: z.string().optional(),
          workload: z.string().min(1).optional(),
          zfsVersion: z.string().optional(),
          kfunc: z.string().optional(),
          tetragon: z.boolean().default(true),
        }),
        raw,
        'capture',
      );
      const result = await captureFingerprint(localCaptureShell(), {
        command,
        cwd: process.cwd(),
        ...(f.duration ? { durationSeconds: f.duration } : {}),
        ...(f.raw ? { rawOutputPath: resolve(f.raw) } : {}),
        ...(f.workload ? { workload: f.workload } : {}),
        ...(f.zfsVersion ? { zfsVersion: f.zfsVersion } : {}),
        ...(f.kfunc
          ? {
              kfuncs: f.kfunc
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
            }
          : {}),
        tetragon: f.tetragon ? 'auto' : 'off',
      });
      if (f.out) await writeJsonFile(resolve(f.out), result.fingerprint);
      if (out.json) return out.data(f.out ? { written: resolve(f.out), fingerprint: result.fingerprint } : result.fingerprint);
      printCapture(out, result, f.out, f.raw);
    });

  fingerprint
    .command('summarise')
    .alias('summarize')
    .description('fingerprint a saved event stream: a raw capture (--raw) or a Tetragon JSON log (tetra getevents -o json)')
    .argument('<events>', 'the events file (one JSON object per line)')
    .option('--workload <name>', "name of the workload (default: the raw capture's own, or the file name)", '')
    .option('--root-pid <pid>', 'Tetragon logs: keep only the process tree under this pid')
    .option('--zfs-version <version>', 'OpenZFS numbering for ioctl names')
    .option('--out <file>', 'write the fingerprint here')
    .action(async (events: string, raw: unknown, cmd: Command) => {
      const out = contextFrom(cmd).out;
      const f = flags(
        z.object({
          workload: z.string(),
          rootPid: z.coerce.number().int().positive().optional(),
          zfsVersion: z.string().optional(),
          out: z.string().optional(),
        }),
        raw,
        'summarise',
      );
      const fp = await summariseEventFile(events, {
        workload: f.workload,
        ...(f.rootPid ? { rootPid: f.rootPid } : {}),
        ...(f.zfsVersion ? { zfsVersion: f.zfsVersion } : {}),
      });
      if (f.out) await writeJsonFile(resolve(f.out), fp);
      if (out.json) return out.data(fp);
      printFingerprint(out, fp);
      if (f.out) out.line(`\nfingerprint  ${resolve(f.out)}`);
    });

  fingerprint
    .command('verify')
    .description('check that captures of the same workload agree; derive the tolerances the detector should use')
    .argument('[fingerprints...]', 'two or more fingerprints of the same workload (or use --capture)')
    .option('--capture <n>', 'capture the command after -- this many times instead of reading files')
    .option('--tolerances <file>', 'write the derived tolerances here (for detect --tolerances)')
    .option('--keep <dir>', "with --capture: write each capture's fingerprint into this directory")
    .action(async (args: string[], raw: unknown, cmd: Command) => {
      const out = contextFrom(cmd).out;
      const f = flags(
        z.object({ capture: z.coerce.number().int().min(2).max(20).optional(), tolerances: z.string().optional(), keep: z.string().optional() }),
        raw,
        'verify',
      );
      let fingerprints: Fingerprint[];
      if (f.capture) {
        if (args.length === 0) throw new UsageError('fingerprint verify --capture N -- <command…>: no command given');
        fingerprints = [];
        for (let i = 0; i < f.capture; i++) {
          const { fingerprint: fp } = await captureFingerprint(localCaptureShell(), { command: args, cwd: process.cwd() });
          fingerprints.push(fp);
          if (f.keep) {
            await mkdir(f.keep, { recursive: true });
            await writeJsonFile(join(f.keep, `capture-${i + 1}.json`), fp);
          }
        }
      } else {
        if (args.length < 2) throw new UsageError('fingerprint verify: give two or more fingerprint files, or --capture N -- <command…>');
        fingerprints = await Promise.all(args.map((path) => readFingerprintFile(path)));
      }
      const report = verifyStability(fingerprints);
      if (f.tolerances) await writeJsonFile(resolve(f.tolerances), report.tolerances);
      if (out.json) out.data(report);
      else printStability(out, report, f.tolerances);
      if (!report.stable) throw new ExitError(EXIT.failed);
    });

  fingerprint
    .command('detect')
    .description('compare a capture with a baseline: schema, rate and latency drift, each with a severity (exit 1 when any)')
    .argument('<baseline>', 'baseline fingerprint')
    .argument('<current>', 'fingerprint to check')
    .option(
      '--tolerances <file>',
      'tolerances from `fingerprint verify` (default: counts 5%, p99 10%; per second when a capture was cut by --duration, per run otherwise)',
    )
    .action(async (baselinePath: string, currentPath: string, raw: unknown, cmd: Command) => {
      const out = contextFrom(cmd).out;
      const f = flags(z.object({ tolerances: z.string().optional() }), raw, 'detect');
      const [baseline, current] = await Promise.all([readFingerprintFile(baselinePath), readFingerprintFile(currentPath)]);
      const tolerances = f.tolerances ? await readTolerancesFile(f.tolerances) : DEFAULT_TOLERANCES;
      const report = detectDeviations(baseline, current, tolerances);
      if (out.json) out.data(report);
      else printDetection(out, report);
      if (report.deviations.length > 0) throw new ExitError(EXIT.failed);
    });

  fingerprint
    .command('policy')
    .description('generate Tetragon TracingPolicies from a baseline: kill a shell the workload never ran, allow only its binaries')
    .argument('<baseline>', 'baseline fingerprint')
    .option('--kind <kind>', 'no-shell, allow-list or all', 'all')
    .option('--workload-binary <path...>', "binaries whose process trees the policy covers (default: the workload's root binaries)")
    .option('--out-dir <dir>', 'write <name>.yaml files here (default: print them)')
    .action(async (baselinePath: string, raw: unknown, cmd: Command) => {
      const out = contextFrom(cmd).out;
      const f = flags(
        z.object({ kind: z.enum(['no-shell', 'allow-list', 'all']), workloadBinary: z.array(z.string()).optional(), outDir: z.string().optional() }),
        raw,
        'policy',
      );
      const baseline = await readFingerprintFile(baselinePath);
      const options = f.workloadBinary ? { workloadBinaries: f.workloadBinary } : {};
      let policies;
      try {
        policies = [
          ...(f.kind !== 'allow-list' ? [noShellPolicy(baseline, options)] : []),
          ...(f.kind !== 'no-shell' ? [allowListPolicy(baseline, options)] : []),
        ];
      } catch (err) {
        if (err instanceof PolicyError) throw new UsageError(err.message);
        throw err;
      }
      const written: string[] = [];
      if (f.outDir) {
        await mkdir(f.outDir, { recursive: true });
        for (const policy of policies) {
          const path = resolve(f.outDir, `${policy.metadata.name}.yaml`);
          await writeFile(path, policyYaml(policy));
          written.push(path);
        }
      }
      if (out.json) return out.data({ policies, written });
      if (written.length > 0) for (const path of written) out.line(`wrote ${path}`);
      else out.line(policies.map((p) => policyYaml(p)).join('---\n'));
    });

  fingerprint
    .command('alert-rules')
    .description('generate Prometheus alert rules for kernel-function latency drift from a baseline (promtool-clean)')
    .argument('<baseline>', 'baseline fingerprint')
    .option('--tolerance <ratio>', 'p99 increase tolerated, e.g. 0.1 for 10%')
    .option('--tolerances <file>', 'take the latency tolerance from `fingerprint verify`')
    .option('--label <workload>', 'value of the workload label', 'zfslab')
    .option('--for <duration>', 'how long the p99 must stay above the threshold', '5m')
    .option('--out <file>', 'write the rule file here (default: print it)')
    .option('--tests <file>', 'also write a `promtool test rules` file exercising the rules')
    .action(async (baselinePath: string, raw: unknown, cmd: Command) => {
      const out = contextFrom(cmd).out;
      const f = flags(
        z.object({
          tolerance: ratio.optional(),
          tolerances: z.string().optional(),
          label: z.string().regex(/^[a-zA-Z0-9_.-]+$/, 'letters, digits, _ . -'),
          for: z.string().regex(/^\d+[smh]$/, 'a Prometheus duration like 5m'),
          out: z.string().optional(),
          tests: z.string().optional(),
        }),
        raw,
        'alert-rules',
      );
      const baseline = await readFingerprintFile(baselinePath);
      const tolerance = f.tolerance ?? (f.tolerances ? (await readTolerancesFile(f.tolerances)).latency : DEFAULT_TOLERANCES.latency);
      let rules;
      try {
        rules = latencyAlertRules(baseline, { tolerance, workload: f.label, for: f.for });
      } catch (err) {
        if (err instanceof AlertRuleError) throw new UsageError(err.message);
        throw err;
      }
      if (f.out) await writeFile(resolve(f.out), ruleFileYaml(rules));
      if (f.tests) {
        if (!f.out) throw new UsageError('fingerprint alert-rules --tests needs --out (the test file names the rule file)');
        await writeFile(resolve(f.tests), stringify(latencyAlertRuleTests(rules, resolve(f.out)), { lineWidth: 0 }));
      }
      if (out.json) return out.data(rules);
      if (f.out) out.line(`wrote ${resolve(f.out)}${f.tests ? ` and ${resolve(f.tests)}` : ''}`);
      else out.line(ruleFileYaml(rules));
    });

  fingerprint
    .command('bundle')
    .description('write an incident bundle (dmesg, kernel stacks, deviations, last events, ZFS state) as one .tar.gz and upload it')
    .option('--deviations <file>', 'the report of `fingerprint detect --json`')
    .option('--events <file>', 'a raw capture or Tetragon log; its last --last lines go in')
    .option('--last <n>', 'events to keep', '10000')
    .option('--pid <pids...>', 'processes whose kernel stacks to keep (default: every task in D state)')
    .option('--run-id <id>', 'the run this incident belongs to (S3 key incidents/<run>/…)')
    .option('--out <file>', 'where to write the tarball (default: ./incident-<stamp>.tar.gz)')
    .option('--no-upload', 'only write the local file')
    .action(async (raw: unknown, cmd: Command) => {
      const out = contextFrom(cmd).out;
      const f = flags(
        z.object({
          deviations: z.string().optional(),
          events: z.string().optional(),
          last: z.coerce.number().int().positive().max(10_000_000),
          pid: z.array(z.coerce.number().int().positive()).optional(),
          runId: z
            .string()
            .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'a run id')
            .optional(),
          out: z.string().optional(),
          upload: z.boolean().default(true),
        }),
        raw,
        'bundle',
      );
      let deviations: unknown;
      if (f.deviations) {
        try {
          deviations = JSON.parse(await readFile(f.deviations, 'utf8'));
        } catch (err) {
          throw new UsageError(`fingerprint bundle: cannot read ${f.deviations} as JSON: ${(err as Error).message}`);
        }
      }
      const now = new Date();
      const stamp = now
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z');
      const path = resolve(f.out ?? `incident-${stamp}.tar.gz`);
      const bundle = await writeIncidentBundle({
        outPath: path,
        now: () => now,
        lastEvents: f.last,
        ...(deviations === undefined ? {} : { deviations }),
        ...(f.events ? { eventsPath: f.events } : {}),
        ...(f.pid ? { pids: f.pid } : {}),
      });
      let uri: string | undefined;
      if (f.upload) {
        if (!ctx.uploadArtifact) throw new UsageError('fingerprint bundle: no S3 uploader in this CLI; use --no-upload');
        uri = await ctx.uploadArtifact(artifactKeys.incident(f.runId, stamp), await readFile(path), 'application/gzip');
      }
      if (out.json) return out.data({ ...bundle, uri });
      out.line(`bundle   ${path}`);
      for (const m of bundle.members) out.line(`  ${m.name.padEnd(28)} ${m.absent ? paint(out, 'dim', `absent: ${m.absent}`) : `${m.bytes} bytes`}`);
      if (uri) out.line(`uploaded ${uri}`);
    });

  const baseline = fingerprint.command('baseline').description('the per-flavor baselines test runs compare against');
  baseline
    .command('set')
    .description("store a fingerprint (and tolerances) as a flavor's baseline for a workload")
    .argument('<flavor>', 'flavor id')
    .argument('<workload>', 'workload name as runs use it, e.g. zts-sanity')
    .argument('<fingerprint>', 'fingerprint file')
    .option('--tolerances <file>', 'tolerances from `fingerprint verify`')
    .action(async (flavor: string, workload: string, fingerprintPath: string, raw: unknown, cmd: Command) => {
      const out = contextFrom(cmd).out;
      const f = flags(z.object({ tolerances: z.string().optional() }), raw, 'baseline set');
      if (!ctx.uploadArtifact) throw new UsageError('fingerprint baseline set: no S3 uploader in this CLI');
      const fp = await readFingerprintFile(fingerprintPath);
      const tolerances = f.tolerances ? await readTolerancesFile(f.tolerances) : undefined;
      const baselineUri = await ctx.uploadArtifact(fingerprintKeys.baseline(flavor, workload), JSON.stringify(fp, null, 2) + '\n', 'application/json');
      const tolerancesUri = tolerances
        ? await ctx.uploadArtifact(fingerprintKeys.baselineTolerances(flavor, workload), JSON.stringify(tolerances, null, 2) + '\n', 'application/json')
        : undefined;
      if (out.json) return out.data({ baselineUri, tolerancesUri });
      out.line(`baseline   ${baselineUri}`);
      if (tolerancesUri) out.line(`tolerances ${tolerancesUri}`);
    });

  return fingerprint;
}

function printCapture(out: Output, result: CaptureResult, outPath: string | undefined, rawPath: string | undefined): void {
  printFingerprint(out, result.fingerprint);
  for (const note of result.plan.notes) out.line(paint(out, 'dim', `note: ${note}`));
  if (result.workloadExitCode !== 0 && result.workloadExitCode !== null) {
    out.line(paint(out, 'yellow', `the workload exited with ${result.workloadExitCode}`));
  }
  if (outPath) out.line(`fingerprint  ${resolve(outPath)}`);
  if (rawPath) out.line(`raw events   ${resolve(rawPath)}`);
}

export function printFingerprint(out: Output, fp: Fingerprint): void {
  out.line(
    `${paint(out, 'bold', fp.workload)}  ${fp.captured_at}  ${fp.duration_s} s  (${fp.capture.backends.join(' + ')}, exit ${fp.capture.exit_code ?? '?'})`,
  );
  out.line(
    table(
      SECTION_NAMES.map((section) => {
        const c = fp.capture.sections[section];
        return [
          section,
          c.status === 'captured' ? paint(out, 'green', `captured (${c.source})`) : paint(out, 'yellow', 'not captured'),
          c.status === 'captured' ? (c.note ?? '') : c.reason,
        ];
      }),
      ['section', 'status', 'detail'],
    ),
  );
  if (fp.capture.lost_events > 0) out.line(paint(out, 'yellow', `${fp.capture.lost_events} events lost: printed-event counts are lower bounds`));
  const syscalls = Object.entries(fp.syscalls);
  out.line(`\nsyscalls (${syscalls.length} distinct, top 10)`);
  out.line(table(syscalls.slice(0, 10).map(([name, s]) => [name, String(s.count), `${s.rate_per_s}/s`])));
  out.line(`\nbinaries spawned (${fp.binaries_spawned.length})`);
  out.line(table(fp.binaries_spawned.map((b) => [b.path, String(b.count), b.parents.length > 0 ? `from ${b.parents.join(', ')}` : '(workload root)'])));
  const ioctls = Object.entries(fp.ioctl_codes);
  if (ioctls.length > 0) {
    out.line(`\nioctl requests (${ioctls.length})`);
    out.line(table(ioctls.map(([hex, s]) => [hex, s.name ?? '?', String(s.count)])));
  }
  if (Object.keys(fp.kfunc_latency_p99_us).length > 0) {
    out.line('\nkernel-function p99');
    out.line(table(Object.entries(fp.kfunc_latency_p99_us).map(([func, us]) => [func, `${us} µs`, `${fp.kfunc_calls[func] ?? 0} calls`])));
  }
  if (fp.network_destinations.length > 0) {
    out.line(`\nnetwork destinations (${fp.network_destinations.length})`);
    out.line(table(fp.network_destinations.map((d) => [d.family, destinationKey(d).replace(/^unix /, ''), String(d.count)])));
  }
  out.line(`\npaths modified (${fp.filesystem_paths_modified.length})`);
  for (const p of fp.filesystem_paths_modified.slice(0, 20)) out.line(`  ${p}`);
  out.line(`paths read: ${fp.filesystem_paths_read.length} patterns`);
}

function printStability(out: Output, report: StabilityReport, tolerancesPath: string | undefined): void {
  out.line(`${report.workload}: ${report.captures} captures, durations ${report.durations.join(' s, ')} s`);
  const pct = (v: number | undefined) => (v === undefined ? '' : `${(v * 100).toFixed(1)}%`);
  out.line(
    table(
      report.categories.map((c) => [
        c.category,
        c.compared ? String(c.keys) : '-',
        c.compared && c.countSpread ? `${pct(c.countSpread.max)}${c.countSpread.worstKey ? ` (${c.countSpread.worstKey})` : ''}` : '',
        c.compared && c.rateSpread ? pct(c.rateSpread.max) : '',
        c.unstableKeys.length > 0 ? c.unstableKeys.slice(0, 3).join(', ') + (c.unstableKeys.length > 3 ? ` +${c.unstableKeys.length - 3}` : '') : '',
        !c.compared ? paint(out, 'dim', `not compared: ${c.reason}`) : c.withinStableBounds ? paint(out, 'green', 'ok') : paint(out, 'yellow', 'varies'),
      ]),
      ['category', 'keys', 'max spread (count)', 'max spread (rate)', 'in some captures only', 'verdict'],
    ),
  );
  const t = report.tolerances;
  out.line(
    `\ntolerances: counts ${Object.entries(t.counts)
      .map(([k, v]) => `${k} ${pct(v)}`)
      .join(
        ', ',
      )}; p99 ${pct(t.latency)}; compare ${t.rate_basis === 'count' ? 'counts per run' : t.rate_basis === 'rate' ? 'rates per second' : 'per run, or per second for captures cut by --duration'}`,
  );
  if (tolerancesPath) out.line(`written to ${resolve(tolerancesPath)}`);
  out.line(
    report.stable
      ? paint(out, 'green', 'stable: the captures agree within 5% (counts) and 10% (p99 latency)')
      : paint(out, 'yellow', 'unstable: see the categories marked "varies"'),
  );
}

function printDetection(out: Output, report: DetectionReport): void {
  if (report.deviations.length === 0) {
    out.line(paint(out, 'green', `no deviations (${report.compared.length} sections compared)`));
  } else {
    const colour = { critical: 'red', high: 'red', medium: 'yellow', low: 'blue', info: 'dim' } as const;
    out.line(
      table(
        report.deviations.map((d) => [paint(out, colour[d.severity], d.severity), d.drift, d.category, d.message]),
        ['severity', 'drift', 'section', 'what'],
      ),
    );
    const counts = Object.entries(report.bySeverity)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ');
    out.line(`\n${report.deviations.length} deviations: ${counts}`);
  }
  for (const s of report.skipped) out.line(paint(out, 'dim', `not compared: ${s.section}: ${s.reason}`));
}
