import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseTestFlags, requestFrom, runTemplateFrom, targetsFrom } from '../../../apps/cli/commands/test-run/flags.js';
import { progressLine } from '../../../apps/cli/commands/test-run/follow.js';
import { PlanJsonSchema } from '../../../apps/cli/commands/test-run/json.js';
import { formatDuration, planJson, printPlan } from '../../../apps/cli/commands/test-run/plan-view.js';
import type { Output } from '../../../apps/cli/output.js';
import { loadCatalog } from '../../../core/catalog/index.js';
import { selectRunfile } from '../../../core/runfile/select.js';
import { historyFromRows, parseDurationTable } from '../../../core/shard/durations.js';
import { emptyCounts } from '../../../core/test-run/chunk-results.js';
import { planTarget } from '../../../core/test-run/plan.js';
import type { TargetProgress } from '../../../core/test-run/progress.js';
import { plannedTarget, summarizePlan } from '../../../core/test-run/types.js';
import { UsageError } from '../../../lib/errors.js';
import { catalogOf, durationTableText } from '../zts/fixtures.js';

const scratch = mkdtempSync(join(tmpdir(), 'zfslab-test-flags-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('zfslab test flags', () => {
  it('takes one way of selecting, and a runfile alone', () => {
    expect(parseTestFlags({ suite: 'quick', shards: '4' })).toMatchObject({ suite: 'quick', shards: 4, chunkSize: 50, wait: true, dryRun: false });
    expect(parseTestFlags({ group: 'zpool_create, atime' }).group).toEqual(['zpool_create', 'atime']);
    const refuse = (raw: object, message: RegExp) => {
      expect(() => parseTestFlags(raw)).toThrow(UsageError);
      expect(() => parseTestFlags(raw)).toThrow(message);
    };
    refuse({}, /nothing selected/);
    refuse({ runfile: 'x.run', suite: 'quick' }, /--runfile runs a runfile as it is/);
    refuse({ run: 'a', group: 'b' }, /at most one of --run, --group and --tags/);
    refuse({ suite: 'full' }, /--suite/);
    refuse({ suite: 'quick', shards: '0' }, /--shards/);
    refuse({ suite: 'quick', testDir: '/x' }, /--test-dir goes with --runfile/);
  });

  it('dispatches dynamically over the run host and its standby hosts with their VM slots, or the slots given', () => {
    const flags = parseTestFlags({ suite: 'quick', shards: '3', dispatch: 'dynamic' });
    expect(runTemplateFrom(flags, ['debian13'], 'lab-a', ['lab-b', 'lab-c'], { 'lab-b': 2 })).toMatchObject({
      dispatch: 'dynamic',
      dispatchHosts: [
        { hostId: 'lab-a', slots: 3 },
        { hostId: 'lab-b', slots: 2 },
        { hostId: 'lab-c', slots: 1 },
      ],
    });
    const given = parseTestFlags({ suite: 'quick', dispatch: 'dynamic', slots: 'lab-a:1, lab-b:4' });
    expect(runTemplateFrom(given, ['debian13'], 'lab-a').dispatchHosts).toEqual([
      { hostId: 'lab-a', slots: 1 },
      { hostId: 'lab-b', slots: 4 },
    ]);
    expect(runTemplateFrom(parseTestFlags({ suite: 'quick' }), ['debian13'], 'lab-a')).not.toHaveProperty('dispatch');
    expect(() => parseTestFlags({ suite: 'quick', slots: 'lab-a:2' })).toThrow('--slots goes with --dispatch dynamic');
    expect(() => parseTestFlags({ suite: 'quick', dispatch: 'dynamic', slots: 'lab-a' })).toThrow('host:slots, e.g. lab-a:2');
    expect(() => parseTestFlags({ suite: 'quick', dispatch: 'fast' })).toThrow(/dispatch/);
  });

  it('reads a runfile, checks it, and runs its relative sections from its own directory', () => {
    const good = join(scratch, 'mine.run');
    writeFileSync(good, "[tests/functional/x]\ntests = ['a']\n");
    expect(requestFrom(parseTestFlags({ runfile: good }))).toEqual({
      kind: 'runfile',
      runfileText: "[tests/functional/x]\ntests = ['a']\n",
      name: 'mine.run',
      testDir: scratch,
    });
    const bad = join(scratch, 'bad.run');
    writeFileSync(bad, "[tests/functional/x]\ntests = ['a'\n");
    expect(() => requestFrom(parseTestFlags({ runfile: bad }))).toThrow(/--runfile: .*bad\.run/);
    expect(() => requestFrom(parseTestFlags({ runfile: join(scratch, 'none.run') }))).toThrow(/ENOENT/);
    const empty = join(scratch, 'empty.run');
    writeFileSync(empty, '[DEFAULT]\ntimeout = 5\n');
    expect(() => requestFrom(parseTestFlags({ runfile: empty }))).toThrow(/names no test/);
    expect(requestFrom(parseTestFlags({ suite: 'fault', tags: 'zinject' }))).toEqual({ kind: 'selection', selection: { suite: 'fault', tags: ['zinject'] } });
  });

  it('targets native, one flavor, or every flavor', () => {
    const catalog = loadCatalog();
    expect(targetsFrom('native', catalog)).toEqual(['native']);
    expect(targetsFrom('debian13', catalog)).toEqual(['debian13']);
    expect(targetsFrom('all', catalog)).toEqual(catalog.flavors.map((f) => f.id));
    expect(() => targetsFrom('debian99', catalog)).toThrow(/unknown target "debian99".*debian13/);
    expect(targetsFrom('debian12,debian12-bpo,debian13', catalog)).toEqual(['debian12', 'debian12-bpo', 'debian13']);
    expect(() => targetsFrom('debian12,debian99', catalog)).toThrow(/unknown target "debian99"/);
    expect(() => targetsFrom('debian13,debian13', catalog)).toThrow(/"debian13" is named twice/);
    expect(() => targetsFrom('debian13,', catalog)).toThrow(/unknown target ""/);
  });
});

describe('live progress line', () => {
  const progress: TargetProgress = {
    target: 'native',
    flavorId: 'native-lab1',
    hostId: 'lab1',
    phase: 'running',
    openzfsVersion: '2.1.11',
    totalTests: 40,
    doneTests: 15,
    counts: { ...emptyCounts(), PASS: 14, FAIL: 1 },
    unexpected: 1,
    infraErrors: [],
    chunks: { total: 3, done: 1 },
    running: [{ shard: 1, chunk: 1, tests: 15 }],
    plannedSeconds: 100,
    etaSeconds: 75,
    execution: 1,
  };

  it('adds the running chunk heartbeat: tests done inside it, the current test, a resumed attempt', () => {
    expect(progressLine({ target: 'native', progress, inFlightDone: 4, current: 'functional/c/t20', attempt: 2 })).toBe(
      'native-lab1: 19/40 tests, 1 failed (1 unexpected), now functional/c/t20, attempt 2, resumed, ETA 1m15s',
    );
    expect(progressLine({ target: 'native', progress: undefined, inFlightDone: 0, current: undefined, attempt: 1 })).toBe('native: waiting');
    expect(progressLine({ target: 'native', progress: { ...progress, phase: 'planning' }, inFlightDone: 0, current: undefined, attempt: 1 })).toBe(
      'native-lab1: planning',
    );
  });
});

describe('--dry-run output', () => {
  const history = historyFromRows(parseDurationTable(durationTableText()));
  const plan = planTarget(selectRunfile(catalogOf('zfs-2.1.11'), { suite: 'linux' }), history, { shardCount: 3, chunkSize: 50, parallel: false });
  const planned = plannedTarget(plan, { historySource: 'upstream CI 2023-03 (KVM)', parallel: false, runfileKey: () => undefined });
  const json = planJson(
    {
      runId: 'r1',
      outcome: 'passed',
      dryRun: true,
      targets: [
        {
          target: 'native',
          flavorId: 'native-lab1',
          hostId: 'lab1',
          flavor: { id: 'native-lab1', os: 'debian', release: '12', kernel: '6.1.0', openzfsVersion: '2.1.11' },
          outcome: 'passed',
          dryRun: true,
          plan: summarizePlan(planned),
          totals: { tests: 0, counts: emptyCounts(), unexpected: 0, infraErrors: [] },
          artifactsPrefix: undefined,
          runfileSource: 'Debian zfs-test 2.1.11-1+deb12u1 (bookworm)',
        },
      ],
    },
    'zts-plan-r1',
  );

  it('is valid JSON by its schema and adds up', () => {
    const parsed = PlanJsonSchema.parse(json);
    const target = parsed.targets[0]!.plan!;
    expect(target.shards.reduce((n, s) => n + s.tests, 0)).toBe(target.selectedTests);
    expect(target.shards.map((s) => s.estimatedSeconds)).toEqual(plan.eta.perShardSeconds);
    expect(target.planSeconds).toBeCloseTo(
      target.shards.reduce((n, s) => n + s.estimatedSeconds, 0),
      6,
    );
  });

  it('prints the selection, each shard, the makespan against its lower bound and the estimate', () => {
    const lines: string[] = [];
    const out: Output = { json: false, color: false, line: (t = '') => void lines.push(...t.split('\n')), data: () => undefined, warn: () => undefined };
    printPlan(out, json, { all: false });
    expect(lines[0]).toBe('native-lab1 (OpenZFS 2.1.11)');
    expect(lines).toContain(`  selection  ${plan.selectedTests} tests in ${plan.selectedSections} groups`);
    expect(lines.filter((l) => /^ {2}[123] +\d+ +\d+ +\S+ +\d+$/.test(l))).toHaveLength(3);
    expect(lines.find((l) => l.startsWith('  makespan'))).toMatch(/^ {2}makespan {3}\S+ \(lower bound \S+, 1\.0\d\d×; in seconds of history\)$/);
    expect(lines.find((l) => l.startsWith('  estimate'))).toMatch(/one after the other/);
    expect(formatDuration(3725)).toBe('1h02m');
    expect(formatDuration(75)).toBe('1m15s');
  });
});
