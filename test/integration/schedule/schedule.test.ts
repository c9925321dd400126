import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../../lib/store/open.js';
import { storeUrlOf } from '../../../lib/config.js';
import { makeCounterSuite } from '../../support/counter-suite.js';
import { connectTestClient, runCli, useWorld } from '../../support/stack.js';

// `zfslab schedule …` on the real Temporal dev server (it runs Schedules; a time-skipping test server
// does not), with real coordinator and host workers running each firing as an ordinary native run.
describe('zfslab schedule', () => {
  const setup = useWorld('schedule');
  const scratch = mkdtempSync(join(tmpdir(), 'zfslab-schedule-'));
  const ids = { pass: `pass-${process.pid}`, fail: `fail-${process.pid}` };
  let client: Client;

  beforeAll(async () => {
    client = await connectTestClient();
  });
  afterAll(async () => {
    for (const id of Object.values(ids))
      await client.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined);
    await client.connection.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runCli(['schedule', ...args], setup.world.env);
  const describeJson = async (id: string) => {
    const run = await cli('describe', id, '--json');
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as {
      paused: boolean;
      note?: string;
      timing: string;
      overlap: string;
      counts: { taken: number; skippedOverlap: number; running: number };
      recent: { workflowId: string; status: string }[];
    };
  };
  /** Waits until `done` holds for the schedule's description (firings start asynchronously). */
  const waitFor = async (id: string, done: (d: Awaited<ReturnType<typeof describeJson>>) => boolean, timeoutMs = 180_000) => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const d = await describeJson(id);
      if (done(d)) return d;
      if (Date.now() > until) throw new Error(`schedule ${id} did not get there: ${JSON.stringify(d)}`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  };

  it('refuses bad input with the flag named, and creates nothing', async () => {
    const suite = makeCounterSuite(join(scratch, 'bad'), { groups: 1, perGroup: 1, sleepSeconds: 0 });
    const bad = await cli('create', 'bad-one', 'native', '--runfile', suite.runfile, '--every', 'daily');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--every: "daily" is not a duration');
    const both = await cli('create', 'bad-one', 'native', '--runfile', suite.runfile, '--every', '1h', '--cron', '0 2 * * *');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('exactly one of --every and --cron');
    const noSelection = await cli('create', 'bad-one', 'native', '--every', '1h');
    expect(noSelection.code).toBe(2);
    expect(noSelection.stderr).toContain('nothing selected');
    const missing = await cli('describe', 'bad-one');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no schedule bad-one');
  });

  it('create, list, trigger (overlap SKIP), backfill, pause, unpause, delete', async () => {
    const suite = makeCounterSuite(join(scratch, 'pass'), { groups: 1, perGroup: 2, sleepSeconds: 4 });
    const created = await cli('create', ids.pass, 'native', '--runfile', suite.runfile, '--every', '1h', '--paused', '--note', 'nightly-ish', '--json');
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({
      id: ids.pass,
      timing: 'every 1h',
      paused: true,
      overlap: 'skip',
      note: 'nightly-ish',
      pauseOnFailure: false,
    });

    const again = await cli('create', ids.pass, 'native', '--runfile', suite.runfile, '--every', '1h');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists already');

    const listed = await cli('list', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as { id: string }[]).map((s) => s.id)).toContain(ids.pass);

    // Two triggers back to back: the second finds the first still running and is skipped (SKIP).
    expect((await cli('trigger', ids.pass)).code).toBe(0);
    await waitFor(ids.pass, (d) => d.counts.running === 1);
    expect((await cli('trigger', ids.pass)).code).toBe(0);
    const first = await waitFor(ids.pass, (d) => d.counts.running === 0 && d.recent.length === 1 && d.recent[0]!.status !== 'RUNNING');
    expect(first.recent[0]!.status).toBe('COMPLETED');
    expect(first.counts.skippedOverlap).toBe(1);

    // The firing is an ordinary run: in the store, passed, and found in the UI by its schedule.
    const result = await client.workflow.getHandle(first.recent[0]!.workflowId).result();
    const runId = (result as { runId: string }).runId;
    const store = await openStore(storeUrlOf(setup.world.loaded));
    try {
      expect((await store.getRun(runId))?.status).toBe('passed');
    } finally {
      await store.close();
    }
    const found: string[] = [];
    for (let i = 0; i < 50 && found.length === 0; i++) {
      for await (const wf of client.workflow.list({ query: `ZfslabSchedule = '${ids.pass}' AND ZfslabKind = 'zts-run'` })) found.push(wf.workflowId);
      if (found.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(found).toEqual([`zts-run-${runId}`]);

    // A backfill over two past hours starts the two firings the schedule would have started, one after the other.
    const end = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000);
    const start = new Date(end.getTime() - 2 * 3_600_000 + 1_000);
    const backfill = await cli('backfill', ids.pass, '--start', start.toISOString(), '--end', end.toISOString());
    expect(backfill.code, backfill.stderr).toBe(0);
    const filled = await waitFor(ids.pass, (d) => d.recent.length === 3 && d.counts.running === 0 && d.recent.every((r) => r.status !== 'RUNNING'), 300_000);
    expect(filled.recent.map((r) => r.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);

    expect((await cli('unpause', ids.pass, '--note', 'go')).code).toBe(0);
    expect((await describeJson(ids.pass)).paused).toBe(false);
    expect((await cli('pause', ids.pass)).code).toBe(0);
    expect((await describeJson(ids.pass)).paused).toBe(true);

    expect((await cli('delete', ids.pass)).code).toBe(0);
    expect((await cli('describe', ids.pass)).code).toBe(2);
  });

  it('--pause-on-failure: a firing whose run fails pauses the schedule', async () => {
    const suite = makeCounterSuite(join(scratch, 'fail'), { groups: 1, perGroup: 2, sleepSeconds: 0, failing: ['a01_pos'] });
    const created = await cli('create', ids.fail, 'native', '--runfile', suite.runfile, '--cron', '0 3 * * 0', '--pause-on-failure');
    expect(created.code, created.stderr).toBe(0);
    expect((await describeJson(ids.fail)).paused).toBe(false);
    expect((await cli('trigger', ids.fail)).code).toBe(0);
    const paused = await waitFor(ids.fail, (d) => d.paused);
    expect(paused.recent[0]!.status).toBe('FAILED');
    expect(paused.timing).toBe('cron 0 3 * * 0');
  });
});
