import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTestRunner, type ChunkHeartbeat, type TestRunnerInput } from '../../../activities/zts/run-chunk.js';
import { LocalRunnerTarget } from '../../../activities/zts/local-target.js';
import { parseResultLines } from '../../../core/results/result-line.js';
import { mapResultsDir } from '../../../core/results/results-dir.js';
import { ensureZtsRunner, type ZtsRunner } from '../../../activities/zts/zts-runner.js';
import { createLogger } from '../../../lib/log.js';
import { projectRoot } from '../../../lib/paths.js';

// These tests run the REAL test-runner.py (Debian's zfs-test, unpacked by activities/zts/zts-runner.ts into
// the project's tools dir) over the fixture scripts. They need python3, sudo and root, as the runfile
// says `user = root`.
const fixtures = join(projectRoot, 'test/fixtures/zts-runner');
const demoRunfile = readFileSync(join(fixtures, 'demo.run.in'), 'utf8');
const log = createLogger('test-run-chunk', 'warn');
const work = mkdtempSync(join(tmpdir(), 'zfslab-run-chunk-'));
const runners: Record<string, ZtsRunner> = {};

beforeAll(async () => {
  const toolsDir = join(projectRoot, '.tools');
  runners['2.1.11'] = await ensureZtsRunner({ toolsDir, suite: 'bookworm', version: '2.1.11', log });
  runners['2.3.2'] = await ensureZtsRunner({ toolsDir, suite: 'bookworm-backports', version: '2.3.2', log });
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

let attemptNo = 0;
function input(version: string, runfileText: string, extra: Partial<TestRunnerInput> = {}): TestRunnerInput {
  attemptNo += 1;
  const tmp = join(work, `tmp-${attemptNo}`);
  return {
    runfileText,
    runnerPath: runners[version]!.runnerPath,
    testDir: fixtures,
    outputBase: join(work, `attempt-${attemptNo}`),
    tmpDir: tmp,
    ...extra,
  };
}

function deps(signal = new AbortController().signal): { beats: ChunkHeartbeat[]; deps: Parameters<typeof runTestRunner>[1] } {
  const beats: ChunkHeartbeat[] = [];
  return { beats, deps: { heartbeat: (d) => beats.push(structuredClone(d)), signal, log, target: new LocalRunnerTarget({ killGraceMs: 2_000 }) } };
}

describe('runTestRunner with the real test-runner.py', () => {
  for (const version of ['2.1.11', '2.3.2']) {
    it(`runs the demo runfile on ${version}, heartbeating after every result line`, async () => {
      const { beats, deps: d } = deps();
      const i = input(version, demoRunfile);
      mkdirSync(i.tmpDir!, { recursive: true });
      const out = await runTestRunner(i, d);

      expect(out.cancelled).toBe(false);
      expect(out.infraError).toBeUndefined();
      expect(out.verdict).toEqual({ status: 'completed', reasons: [], runnerExit: 'failures' });
      expect(out.exitCode).toBe(1);
      expect(out.summary?.counts).toEqual({ PASS: 8, FAIL: 2, SKIP: 3, KILLED: 1, RERAN: 0 });
      expect(out.results).toHaveLength(13);
      expect(out.results).toEqual(parseResultLines(readFileSync(join(out.resultsDir!, 'results'), 'utf8')));
      expect(out.results.map((r) => `${r.testId} ${r.outcome}`)).toEqual([
        'functional/demo/setup PASS',
        'functional/demo/pass_001_pos PASS',
        'functional/demo/fail_001_neg FAIL',
        'functional/demo/skip_001_pos SKIP',
        'functional/demo/cleanup PASS',
        'functional/hang/setup PASS',
        'functional/hang/hang_001_pos KILLED',
        'functional/hang/cleanup PASS',
        'functional/linuxonly/linux_001_pos PASS',
        'functional/setupfail/setup FAIL',
        'functional/setupfail/never_001_pos SKIP',
        'functional/setupfail/never_002_pos SKIP',
        'functional/setupfail/cleanup PASS',
      ]);

      // One heartbeat at the start, then one per result line, each with everything finished so far.
      expect(beats).toHaveLength(14);
      beats.forEach((beat, n) => expect(beat.finished).toEqual(out.results.slice(0, n)));
      expect(beats[0]?.current).toBe('functional/demo/setup');
      expect(beats[6]?.current).toBe('functional/hang/hang_001_pos');
      expect(beats[13]?.current).toBeUndefined();

      // The runner's result directory, with our `results` file beside its `log`.
      expect(out.resultsDir).toBe(out.summary?.logDirectory);
      const runDir = out.resultsDir!;
      expect(readFileSync(join(runDir, 'results'), 'utf8')).toMatch(/^Test: [^]*\nResults Summary\n[^]*Log directory:\t.*\n$/);
      const files = listFiles(runDir);
      const map = mapResultsDir(
        files,
        out.results.map((r) => r.testId),
      );
      expect(map.log).toBe('log');
      expect(map.results).toBe('results');
      expect(map.unmatched).toEqual([]);
      expect(map.byTest['functional/demo/fail_001_neg']?.merged).toBeDefined();
    });
  }

  it('heartbeats earlier attempts results first and keeps them in the result', async () => {
    const earlier = parseResultLines(readFileSync(join(projectRoot, 'test/fixtures/zts-output/2.1.11/demo/stdout'), 'utf8')).slice(0, 5);
    const remaining = demoRunfile.replace(/\[tests\/functional\/demo\][^[]*/, '');
    const { beats, deps: d } = deps();
    const out = await runTestRunner(input('2.1.11', remaining, { previous: earlier, tmpDir: work }), d);
    const attempt = out.results.slice(out.previousCount);
    expect(out.previousCount).toBe(5);
    expect(attempt.map((r) => r.testId)).not.toContain('functional/demo/pass_001_pos');
    expect(attempt).toHaveLength(8);
    expect(out.results.slice(0, 5)).toEqual(earlier);
    expect(beats[0]?.finished).toEqual(earlier);
    expect(beats.at(-1)?.finished).toEqual(out.results);
  });

  it('on cancel, stops the runner and the test it runs via sudo, and returns the partial results', async () => {
    const marker = join(work, `cancel-tmp-${process.pid}`);
    mkdirSync(marker, { recursive: true });
    const longHang = demoRunfile.replace('timeout = 2', 'timeout = 600');
    const controller = new AbortController();
    const { beats, deps: d } = deps(controller.signal);
    const running = runTestRunner(input('2.1.11', longHang, { tmpDir: marker }), d);

    // Wait for the hanging test to be running (its setup reported, its sleep started).
    await until(() => beats.at(-1)?.current === 'functional/hang/hang_001_pos' && processesWithEnv(`TMPDIR=${marker}`).some((p) => p.cmd.startsWith('sleep')));
    const before = processesWithEnv(`TMPDIR=${marker}`);
    expect(before.map((p) => p.cmd.split(' ')[0])).toEqual(expect.arrayContaining(['sleep']));

    const started = Date.now();
    controller.abort();
    const out = await running;
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(out.cancelled).toBe(true);
    expect(out.infraError).toBeUndefined();
    expect(out.summary).toBeUndefined();
    expect(out.results.map((r) => r.testId)).toEqual([
      'functional/demo/setup',
      'functional/demo/pass_001_pos',
      'functional/demo/fail_001_neg',
      'functional/demo/skip_001_pos',
      'functional/demo/cleanup',
      'functional/hang/setup',
    ]);
    // Nothing the runner started is left: not python, not sudo, not the test's sleep.
    expect(processesWithEnv(`TMPDIR=${marker}`)).toEqual([]);
    expect(before.every((p) => !existsSync(`/proc/${p.pid}`) || readFileSync(`/proc/${p.pid}/stat`, 'utf8').includes(') Z '))).toBe(true);
    // The partial result directory is still found and kept.
    expect(out.resultsDir).toMatch(/\/\d{8}T\d{6}$/);
    expect(readFileSync(join(out.resultsDir!, 'log'), 'utf8')).toContain('functional/hang/setup');
  });

  it('when the target is gone after the runner stops (a dead guest takes its SSH with it), still returns the results so far', async () => {
    const marker = join(work, `gone-tmp-${process.pid}`);
    mkdirSync(marker, { recursive: true });
    const longHang = demoRunfile.replace('timeout = 2', 'timeout = 600');
    const controller = new AbortController();
    const { beats, deps: d } = deps(controller.signal);
    const local = d.target as LocalRunnerTarget;
    // What SshRunnerTarget does once the guest died: every further call fails with "Not connected".
    let gone = false;
    const dying = {
      spawnRunner: local.spawnRunner.bind(local),
      writeFile: (path: string, text: string) => (gone ? Promise.reject(new Error('Not connected')) : local.writeFile(path, text)),
      listDir: (path: string) => (gone ? Promise.reject(new Error('Not connected')) : local.listDir(path)),
    };
    const running = runTestRunner(input('2.1.11', longHang, { tmpDir: marker }), { ...d, target: dying });
    await until(() => beats.at(-1)?.current === 'functional/hang/hang_001_pos');
    gone = true;
    controller.abort();
    const out = await running;
    expect(out.cancelled).toBe(true);
    expect(out.resultsDir).toBeUndefined();
    expect(out.results.map((r) => r.testId).at(-1)).toBe('functional/hang/setup');
  });

  it('on cancel, also kills a test that ignores TERM and HUP and left the process group', async () => {
    const marker = join(work, `stubborn-tmp-${process.pid}`);
    mkdirSync(marker, { recursive: true });
    const controller = new AbortController();
    const { deps: d } = deps(controller.signal);
    const stubborn = readFileSync(join(fixtures, 'stubborn.run.in'), 'utf8');
    const running = runTestRunner(input('2.1.11', stubborn, { tmpDir: marker }), d);
    await until(() => processesWithEnv(`TMPDIR=${marker}`).some((p) => p.cmd.startsWith('sleep')));
    controller.abort();
    const out = await running;
    expect(out.cancelled).toBe(true);
    expect(out.results).toEqual([]);
    expect(processesWithEnv(`TMPDIR=${marker}`)).toEqual([]);
  });

  it('calls a run that ran nothing an infrastructure error, whatever the exit code', async () => {
    const empty = readFileSync(join(fixtures, 'empty.run.in'), 'utf8');
    const { deps: d } = deps();
    const out = await runTestRunner(input('2.1.11', empty, { tmpDir: work }), d);
    expect(out.exitCode).toBe(2);
    expect(out.results).toEqual([]);
    expect(out.infraError).toMatch(/no result line/);
    expect(out.stderrTail).toContain('failed verification');
  });

  it('calls a runner that cannot start an infrastructure error', async () => {
    const { deps: d } = deps();
    const out = await runTestRunner(input('2.1.11', demoRunfile, { tmpDir: work, runnerPath: join(work, 'no-such-runner.py') }), d);
    expect(out.verdict.status).toBe('infra-error');
    expect(out.infraError).toMatch(/no result line.*no Results Summary/);
    expect(out.stderrTail).toMatch(/can't open file|No such file/);
    // The error carries the runner's own last words, so the CLI can say why.
    expect(out.infraError).toMatch(/the runner's last output: .*(can't open file|No such file)/);
  });
});

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** Live processes whose environment holds `entry` (our unique TMPDIR, inherited through sudo -E). */
function processesWithEnv(entry: string): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/stat`, 'utf8').includes(') Z ')) continue;
      const env = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
      if (!env.includes(entry)) continue;
      found.push({ pid: Number(name), cmd: readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim() });
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

async function until(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
