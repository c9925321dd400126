import { z } from 'zod';
import type { ReadyVm } from './lifecycle.js';
import { copyTreeFromGuest } from './guest-files.js';
import { shellQuote } from '../../core/text/shell-quote.js';
import { SshExecutor } from '../../lib/exec/ssh-executor.js';

/**
 * Runs zfs-tests.sh in a clone as the golden's test user (it refuses root and calls `sudo -E`
 * itself), on the clone's extra virtio disks (DISKS) or on file vdevs, and copies the results tree
 * (log, results, per-test output) back. Judging the run is the results parser's job: the exit
 * code of zfs-tests.sh is reported but means little (0 even when nothing ran).
 */
export const ZtsRunRequestSchema = z
  .strictObject({
    /** A runfile to upload and run (-r); must set `outputdir` to a writable dir. */
    runfile: z.string().min(1).optional(),
    /** One test (-t PATH|NAME). */
    test: z.string().min(1).optional(),
    /** Stock runfiles by name (-r sanity,…) with optional tags (-T). */
    runfiles: z.array(z.string().regex(/^[A-Za-z0-9._-]+$/)).optional(),
    tags: z.array(z.string().regex(/^[A-Za-z0-9_/-]+$/)).optional(),
    /** Use the clone's virtio disks as DISKS; false = zfs-tests.sh makes its own file vdevs (loop devices). */
    useDisks: z.boolean().default(true),
    timeoutMs: z.number().int().positive(),
    extraArgs: z.array(z.string().regex(/^-[A-Za-z]$|^[A-Za-z0-9._/=-]+$/)).default([]),
  })
  .refine((r) => [r.runfile, r.test, r.runfiles].filter(Boolean).length === 1, 'give exactly one of runfile, test, runfiles');
export type ZtsRunRequest = z.input<typeof ZtsRunRequestSchema>;

export interface ZtsRunOutcome {
  exitCode: number | null;
  timedOut: boolean;
  cancelled: boolean;
  /** zfs-tests.sh's console output (the result lines the parser reads). */
  console: string;
  stderr: string;
  /** The guest's results dir (from "Log directory: …"), when the runner got that far. */
  guestResultsDir: string | undefined;
  /** Where the results tree was copied on the host. */
  localResultsDir: string | undefined;
  durationSeconds: number;
}

export const ZTS_SCRIPT = '/usr/share/zfs/zfs-tests.sh';

export function ztsCommand(req: z.output<typeof ZtsRunRequestSchema>, disks: readonly string[], uploadedRunfile: string | undefined): string {
  const args = ['-v'];
  if (uploadedRunfile) args.push('-r', uploadedRunfile);
  if (req.test) args.push('-t', req.test);
  if (req.runfiles) args.push('-r', req.runfiles.join(','));
  if (req.tags?.length) args.push('-T', req.tags.join(','));
  args.push(...req.extraArgs);
  const env = req.useDisks && disks.length > 0 ? `DISKS=${shellQuote(disks.join(' '))} ` : '';
  return `sudo -n modprobe zfs && cd /var/tmp && ${env}${ZTS_SCRIPT} ${args.map(shellQuote).join(' ')}`;
}

export function logDirectoryOf(console: string): string | undefined {
  return /^Log directory:\s+(\S+)/m.exec(console)?.[1];
}

export async function runZtsInVm(
  vm: ReadyVm,
  request: ZtsRunRequest,
  options: { localResultsDir: string; signal?: AbortSignal; onOutput?: (chunk: string) => void },
): Promise<ZtsRunOutcome> {
  const req = ZtsRunRequestSchema.parse(request);
  let uploaded: string | undefined;
  if (req.runfile) {
    uploaded = SshExecutor.tempPath('.run');
    await vm.ssh.upload(req.runfile, uploaded);
  }
  const result = await vm.ssh.exec(ztsCommand(req, vm.disks, uploaded), {
    timeoutMs: req.timeoutMs,
    signal: options.signal,
    onStdout: options.onOutput,
    onStderr: options.onOutput,
  });
  const guestResultsDir = logDirectoryOf(result.stdout);
  let localResultsDir: string | undefined;
  if (guestResultsDir && !result.timedOut && !result.cancelled) {
    await copyTreeFromGuest(vm.ssh, guestResultsDir, options.localResultsDir);
    localResultsDir = options.localResultsDir;
  } else if (guestResultsDir) {
    // Best effort: a killed run's partial tree still tells which tests finished.
    await copyTreeFromGuest(vm.ssh, guestResultsDir, options.localResultsDir, 120_000).then(
      () => (localResultsDir = options.localResultsDir),
      () => undefined,
    );
  }
  return {
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    cancelled: result.cancelled,
    console: result.stdout,
    stderr: result.stderr,
    guestResultsDir,
    localResultsDir,
    durationSeconds: Math.round(result.durationMs / 100) / 10,
  };
}
