import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readGuestSuite, readSidecar, suiteFilesDir, writeSidecar, writeSuiteFiles } from '../../../activities/golden/golden-suite.js';
import { resolveTarget, type GoldenSuites } from '../../../activities/zts/resolve.js';
import { loadCatalog } from '../../../core/catalog/index.js';
import { parseRunfile } from '../../../core/runfile/parse.js';
import { listTests } from '../../../core/runfile/select.js';
import { UnknownSelectionError } from '../../../core/runfile/select.js';
import type { ExecResult } from '../../../lib/exec/executor.js';
import { createLogger } from '../../../lib/log.js';
import { projectRoot } from '../../../lib/paths.js';

// Upstream's runfiles at zfs-2.2.0 (test/fixtures/runfiles/README.md) stand in for what a guest holds.
const fixtures = join(projectRoot, 'test/fixtures/runfiles/zfs-2.2.0');
const scratch = mkdtempSync(join(tmpdir(), 'zfslab-golden-suite-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const log = createLogger('golden-suite', 'silent');

const ok = (stdout = ''): ExecResult => ({ exitCode: 0, exitSignal: undefined, stdout, stderr: '', timedOut: false, cancelled: false, durationMs: 5 });
const failed = (stderr: string): ExecResult => ({ ...ok(), exitCode: 1, stderr });

/** A guest whose /usr/share/zfs/runfiles are the fixture's files, minus `missing`. */
function guest(options: { missing?: string; noRunner?: boolean } = {}) {
  const commands: string[] = [];
  return {
    commands,
    exec: async (command: string | readonly string[]): Promise<ExecResult> => {
      const line = typeof command === 'string' ? command : command.join(' ');
      commands.push(line);
      if (line.startsWith('test -f')) return options.noRunner ? failed('') : ok();
      const m = /^cat \/usr\/share\/zfs\/runfiles\/(\w+)\.run$/.exec(line);
      if (!m) return failed(`unexpected command ${line}`);
      if (m[1] === options.missing) return failed(`cat: /usr/share/zfs/runfiles/${m[1]}.run: No such file or directory`);
      return ok(readFileSync(join(fixtures, `${m[1]}.run`), 'utf8'));
    },
  };
}

describe("a golden's suite", () => {
  it("is read from the guest's own runfiles, kept beside the golden, and checked against the recorded hashes", async () => {
    const { suite, files } = await readGuestSuite(guest(), '2.2.0', 'build');
    const count = (name: string) => listTests(parseRunfile(readFileSync(join(fixtures, name), 'utf8'))).length;
    expect(suite).toMatchObject({
      openzfsVersion: '2.2.0',
      runnerPath: '/usr/share/zfs/test-runner/bin/test-runner.py',
      testDir: '/usr/share/zfs/zfs-tests',
      readFrom: 'build',
    });
    expect(suite.tests).toBe(count('common.run') + count('linux.run'));
    expect(suite.tests).toBeGreaterThan(1000);
    const dir = join(scratch, 'golden');
    writeSuiteFiles(dir, files);
    expect(suiteFilesDir(dir, suite)).toEqual({ dir: join(dir, 'suite') });
    writeFileSync(join(dir, 'suite', 'common.run'), files.common + '\n# edited\n');
    expect(suiteFilesDir(dir, suite)).toEqual({ problem: `${join(dir, 'suite', 'common.run')} is not the runfile the golden recorded` });

    const sidecar = join(scratch, '.suites', 'g');
    writeSidecar(sidecar, { ...suite, readFrom: 'clone' }, files);
    expect(readSidecar(sidecar)).toMatchObject({ readFrom: 'clone', runfiles: suite.runfiles });
  });

  it('names what a golden without a suite lacks', async () => {
    await expect(readGuestSuite(guest({ missing: 'linux' }), '2.2.0', 'build')).rejects.toThrow(
      'the golden has no /usr/share/zfs/runfiles/linux.run (exit 1): cat:',
    );
    await expect(readGuestSuite(guest({ noRunner: true }), '2.2.0', 'build')).rejects.toThrow(/the golden has no ZTS: .*test-runner.py/);
  });

  it('plans a flavor from the runfiles and version its golden holds, not from the package a fresh download would bring', async () => {
    const { suite, files } = await readGuestSuite(guest(), '2.2.0', 'build');
    const dir = join(scratch, 'golden-2');
    writeSuiteFiles(dir, files);
    const asked: string[] = [];
    const goldens: GoldenSuites = {
      goldenSuite: async (flavor) => {
        asked.push(flavor.id);
        return { golden: 'debian13-ztest-0123456789abcdef', suite, runfilesDir: join(dir, 'suite') };
      },
    };
    const deps = { toolsDir: join(scratch, 'tools'), catalog: loadCatalog(), log, goldens };
    const resolved = await resolveTarget(
      { target: 'debian13', hostId: 'lab', request: { kind: 'selection', selection: { suite: 'linux', groups: ['functional/cli_root/zpool_create'] } } },
      deps,
    );
    expect(asked).toEqual(['debian13']);
    // debian13's catalog entry expects 2.3; its golden here holds 2.2.0's suite, and that is what is planned and baselined.
    expect(resolved).toMatchObject({ golden: 'debian13-ztest-0123456789abcdef', flavor: { openzfsVersion: '2.2.0' }, testDir: '/usr/share/zfs/zfs-tests' });
    expect(resolved.runfileSource).toBe('golden debian13-ztest-0123456789abcdef (OpenZFS 2.2.0; runfiles read from the image at its build)');
    expect(resolved.selectedTests).toBeGreaterThan(10);
    // A group that exists only in later runfiles (2.3's `zpool ... -j` JSON tests) is not in this golden: the plan says so.
    await expect(
      resolveTarget(
        { target: 'debian13', hostId: 'lab', request: { kind: 'selection', selection: { suite: 'linux', groups: ['functional/cli_root/json'] } } },
        deps,
      ),
    ).rejects.toThrow(UnknownSelectionError);
  });
});
