import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestOutcome } from '../../../core/results/types.js';
import { openStore } from '../../../lib/store/index.js';
import { silentLogger } from '../../support/dashboards/store-queries-suite.js';
import { createWorld, runCli, type TestWorld } from '../../support/stack.js';

const FLAVOR = 'debian12';

/** Runs of debian12 as the CLI's runs record them: the run, what it ran on, and its results. */
async function seed(storeUrl: string, runs: { id: string; startedAt: string; version: string; outcomes: Record<string, TestOutcome> }[]): Promise<void> {
  const store = await openStore(storeUrl, { logger: silentLogger });
  try {
    await store.upsertFlavor({ id: FLAVOR, os: 'debian', release: '12', kernel: '6.1.0-18-amd64', openzfsVersion: '2.1.11' }, '2026-05-01T00:00:00Z');
    for (const run of runs) {
      await store.recordRun({ id: run.id, workflowId: `wf-${run.id}`, selection: 'suite:quick', target: FLAVOR, startedAt: run.startedAt });
      await store.recordRunFlavor({ runId: run.id, flavorId: FLAVOR, kernel: '6.1.0-18-amd64', openzfsVersion: run.version, shardCount: 1 });
      await store.recordResults({
        runId: run.id,
        flavorId: FLAVOR,
        results: Object.entries(run.outcomes).map(([name, outcome]) => ({
          testId: `functional/cli_root/${name}`,
          group: 'functional/cli_root',
          kind: 'test' as const,
          outcome,
          reran: false,
          durationSeconds: 2,
          user: 'root',
          linuxSection: false,
          classification: outcome === 'PASS' ? ('pass' as const) : ('unexpected-fail' as const),
        })),
      });
    }
  } finally {
    await store.close();
  }
}

// `zfslab baseline show|accept|expire` on a SQLite store holding a debian12 history.
describe('zfslab baseline', () => {
  let world: TestWorld;
  const scratch = mkdtempSync(join(tmpdir(), 'zfslab-baseline-'));
  const storeUrl = `sqlite:${join(scratch, 'results.db')}`;
  const cli = (...args: string[]) => runCli(args, world.env);

  beforeAll(async () => {
    world = createWorld('baseline', { ZFSLAB_STORE_URL: storeUrl });
    await seed(
      storeUrl,
      [1, 2, 3, 4].map((day) => ({
        id: `r${day}`,
        startedAt: `2026-05-0${day}T03:00:00Z`,
        version: '2.1.11-1+deb12u1',
        outcomes: { always_fails: 'FAIL', flips: day % 2 === 0 ? 'FAIL' : 'PASS', hangs: 'KILLED', fine: 'PASS' },
      })),
    );
  });
  afterAll(() => {
    world?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('shows the failures not yet accepted, with their history, against the upstream seed of the series', async () => {
    const run = await cli('baseline', 'show', FLAVOR, '--json');
    expect(run.code, run.stderr).toBe(0);
    const view = JSON.parse(run.stdout);
    expect(view).toMatchObject({ flavorId: FLAVOR, series: '2.1', seed: { tag: 'zfs-2.1.16' }, accepted: [], expireAfterRuns: 10 });
    expect(view.candidates.map((c: { testId: string; suggested: string; outcome: string }) => [c.testId, c.suggested, c.outcome])).toEqual([
      ['functional/cli_root/always_fails', 'known', 'FAIL'],
      ['functional/cli_root/hangs', 'known', 'KILLED'],
      ['functional/cli_root/flips', 'maybe', 'FAIL'],
    ]);
    expect(view.candidates[2].history).toMatchObject({ observedRuns: 4, failures: 2, lastPass: 'r3', failingSince: 'r4' });
    const text = await cli('baseline', 'show', FLAVOR);
    expect(text.stdout).toContain('debian12 under OpenZFS 2.1: upstream zts-report (zfs-2.1.16)');
    expect(text.stdout).toMatch(/NOT ACCEPTED\s+FAILED/);
    expect(text.stdout).toContain('zfslab baseline accept debian12 <test> --series 2.1');
  });

  it('accepts what history shows failing, refuses what it does not, and names what is wrong', async () => {
    const accepted = await cli(
      'baseline',
      'accept',
      FLAVOR,
      'cli_root/always_fails',
      'cli_root/hangs',
      '--reason',
      'https://github.com/openzfs/zfs/issues/7633',
      '--by',
      'ci',
      '--json',
    );
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(
      JSON.parse(accepted.stdout).accepted.map((e: { testId: string; outcome: string; list: string; acceptedBy: string }) => [
        e.testId,
        e.outcome,
        e.list,
        e.acceptedBy,
      ]),
    ).toEqual([
      ['functional/cli_root/always_fails', 'FAIL', 'known', 'ci'],
      ['functional/cli_root/hangs', 'KILLED', 'known', 'ci'],
    ]);
    const shown = JSON.parse((await cli('baseline', 'show', FLAVOR, '--json')).stdout);
    expect(shown.accepted.map((e: { testId: string }) => e.testId)).toEqual(['functional/cli_root/always_fails', 'functional/cli_root/hangs']);
    expect(shown.candidates.map((c: { testId: string }) => c.testId)).toEqual(['functional/cli_root/flips']);
    expect((await cli('baseline', 'show')).stdout).toMatch(/debian12\s+2\.1\s+functional\/cli_root\/always_fails\s+FAIL\s+known/);

    const never = await cli('baseline', 'accept', FLAVOR, 'cli_root/fine', '--reason', 'x');
    expect(never.code).toBe(2);
    expect(never.stderr).toContain('functional/cli_root/fine did not fail on debian12 under OpenZFS 2.1');
    const noReason = await cli('baseline', 'accept', FLAVOR, 'cli_root/flips');
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('--reason');
    const noFlavor = await cli('baseline', 'accept', 'no-such-flavor', 'cli_root/flips', '--reason', 'x');
    expect(noFlavor.code).toBe(2);
    expect(noFlavor.stderr).toContain('unknown flavor "no-such-flavor"');
    const badSeries = await cli('baseline', 'show', FLAVOR, '--series', 'two');
    expect(badSeries.code).toBe(2);
    expect(badSeries.stderr).toContain('an OpenZFS series such as 2.3');
  });

  it('expires named entries, and entries whose test stopped failing for --after runs', async () => {
    const named = await cli('baseline', 'expire', FLAVOR, 'cli_root/hangs', '--why', 'fixed in 2.1.17');
    expect(named.code, named.stderr).toBe(0);
    expect(named.stdout).toContain('expired functional/cli_root/hangs on debian12 under OpenZFS 2.1: fixed in 2.1.17');
    const again = await cli('baseline', 'expire', FLAVOR, 'cli_root/hangs');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('no active entry for functional/cli_root/hangs');

    // One run after the acceptance where always_fails passed: with --after 1 it drops out, not before.
    expect((await cli('baseline', 'expire', '--after', '1')).stdout).toContain('nothing expired');
    await seed(storeUrl, [
      { id: 'r5', startedAt: new Date(Date.now() + 60_000).toISOString(), version: '2.1.11-1+deb12u1', outcomes: { always_fails: 'PASS' } },
    ]);
    const due = await cli('baseline', 'expire', '--after', '1');
    expect(due.code, due.stderr).toBe(0);
    expect(due.stdout).toContain('expired functional/cli_root/always_fails on debian12 under OpenZFS 2.1: not seen failing in 1 run(s)');
    const shown = JSON.parse((await cli('baseline', 'show', FLAVOR, '--expired', '--json')).stdout);
    expect(shown.accepted.map((e: { testId: string; expiredAt?: string }) => [e.testId, Boolean(e.expiredAt)])).toEqual([
      ['functional/cli_root/always_fails', true],
      ['functional/cli_root/hangs', true],
    ]);
  });
});
