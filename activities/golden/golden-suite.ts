import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunfile } from '../../core/runfile/parse.js';
import { listTests } from '../../core/runfile/select.js';
import { GUEST_SUITE, GoldenSuiteSchema, SUITE_RUNFILES, type GoldenSuite, type SuiteRunfile } from '../../core/vm/golden-suite.js';
import type { Executor } from '../../lib/exec/executor.js';

/** The folder, beside a golden's manifest, holding its runfiles. */
export const SUITE_DIR = 'suite';

export type SuiteFiles = Record<SuiteRunfile, string>;

/** Reads the suite a booted golden has: its runfiles (and that the runner and tests are there). */
export async function readGuestSuite(
  ssh: Pick<Executor, 'exec'>,
  openzfsVersion: string,
  readFrom: GoldenSuite['readFrom'],
): Promise<{ suite: GoldenSuite; files: SuiteFiles }> {
  const check = await ssh.exec(`test -f ${GUEST_SUITE.runnerPath} && test -d ${GUEST_SUITE.testDir}`, { timeoutMs: 60_000 });
  if (check.exitCode !== 0) throw new Error(`the golden has no ZTS: ${GUEST_SUITE.runnerPath} or ${GUEST_SUITE.testDir} is missing (is zfs-test installed?)`);
  const files = {} as SuiteFiles;
  const tests: Record<SuiteRunfile, number> = { sanity: 0, common: 0, linux: 0 };
  for (const name of SUITE_RUNFILES) {
    const path = `${GUEST_SUITE.runfilesDir}/${name}.run`;
    const r = await ssh.exec(['cat', path], { timeoutMs: 60_000 });
    if (r.exitCode !== 0) throw new Error(`the golden has no ${path} (exit ${r.exitCode}): ${r.stderr.trim().slice(-300)}`);
    // Parsed here so a golden whose runfiles we cannot read fails at its build, not at a run's plan.
    tests[name] = listTests(parseRunfile(r.stdout, `${name}.run`)).length;
    files[name] = r.stdout;
  }
  const suite = GoldenSuiteSchema.parse({
    openzfsVersion,
    runnerPath: GUEST_SUITE.runnerPath,
    testDir: GUEST_SUITE.testDir,
    runfiles: Object.fromEntries(SUITE_RUNFILES.map((n) => [n, sha256(files[n])])),
    tests: tests.common + tests.linux,
    readAt: new Date().toISOString(),
    readFrom,
  });
  return { suite, files };
}

/** Writes the runfiles into `<dir>/suite/` (whole or not at all). */
export function writeSuiteFiles(dir: string, files: SuiteFiles): void {
  const target = join(dir, SUITE_DIR);
  const partial = `${target}.partial`;
  rmSync(partial, { recursive: true, force: true });
  mkdirSync(partial, { recursive: true });
  for (const name of SUITE_RUNFILES) writeFileSync(join(partial, `${name}.run`), files[name]);
  rmSync(target, { recursive: true, force: true });
  renameSync(partial, target);
}

/**
 * `<dir>/suite/`, when its runfiles are the ones `suite` records (by sha256); else undefined, with
 * why, so a golden whose copies were damaged is read again rather than trusted.
 */
export function suiteFilesDir(dir: string, suite: GoldenSuite): { dir: string } | { problem: string } {
  const target = join(dir, SUITE_DIR);
  for (const name of SUITE_RUNFILES) {
    const file = join(target, `${name}.run`);
    if (!existsSync(file)) return { problem: `${file} is missing` };
    if (sha256(readFileSync(file, 'utf8')) !== suite.runfiles[name]) return { problem: `${file} is not the runfile the golden recorded` };
  }
  return { dir: target };
}

/** A suite read from a clone of a golden that predates suite recording: kept in a sidecar, as goldens are read-only. */
export function suiteSidecarDir(cacheDir: string, goldenName: string): string {
  return join(cacheDir, '.suites', goldenName);
}

export function writeSidecar(dir: string, suite: GoldenSuite, files: SuiteFiles): void {
  mkdirSync(dir, { recursive: true });
  writeSuiteFiles(dir, files);
  writeFileSync(join(dir, 'suite.json.partial'), JSON.stringify(suite, null, 2) + '\n');
  renameSync(join(dir, 'suite.json.partial'), join(dir, 'suite.json'));
}

export function readSidecar(dir: string): GoldenSuite | undefined {
  const file = join(dir, 'suite.json');
  if (!existsSync(file)) return undefined;
  const parsed = GoldenSuiteSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  return parsed.success ? parsed.data : undefined;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
