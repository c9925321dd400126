import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PROM_PANEL_QUERIES } from '../../../dashboards/queries/prometheus.js';
import { projectRoot } from '../../../lib/paths.js';
import { makeCounterSuite } from '../../support/counter-suite.js';
import { freePort } from '../../support/ports.js';
import { createWorld, runCli, startWorker } from '../../support/stack.js';
import type { RunningWorker, TestWorld } from '../../support/stack.js';
import { startPrometheus } from '../../setup/prometheus.js';
import type { StartedPrometheus } from '../../setup/prometheus.js';

const RULES = join(projectRoot, 'dashboards/alerts/zfslab.rules.yml');

/** A panel's PromQL as Grafana sends it: its own variables filled in with "all". */
function asGrafanaSendsIt(expr: string): string {
  return expr.replaceAll('$__rate_interval', '1m').replaceAll('$flavor', '.*').replaceAll('$zio_type', '.*');
}

// Every PromQL expression of the dashboards, evaluated by a real Prometheus (Debian's) that scrapes
// the real coordinator and host workers while a real native run goes through them.
describe('the dashboards’ PromQL on a real Prometheus scraping the workers during a run', () => {
  let world: TestWorld;
  const workers: RunningWorker[] = [];
  let prometheus: StartedPrometheus;
  const scratch = mkdtempSync(join(tmpdir(), 'zfslab-prom-'));

  beforeAll(async () => {
    const [coordinatorPort, hostPort] = [await freePort(), await freePort()];
    world = createWorld('prom', { ZFSLAB_METRICS_COORDINATOR_PORT: String(coordinatorPort), ZFSLAB_METRICS_HOST_PORT: String(hostPort) });
    workers.push(await startWorker('coordinator', world.env), await startWorker('host', world.env));
    prometheus = await startPrometheus({ 'zfslab-coordinator': [`127.0.0.1:${coordinatorPort}`], 'zfslab-hosts': [`127.0.0.1:${hostPort}`] }, [RULES]);
    const suite = makeCounterSuite(join(scratch, 'suite'), { groups: 2, perGroup: 3, sleepSeconds: 0.2, failing: ['a02_pos'] });
    const run = await runCli(['test', 'native', '--runfile', suite.runfile], world.env);
    expect(run.code, run.stderr).toBe(1);
    // Two scrapes after the run's last metric, so rate() and increase() have two samples.
    await sleep(3_000);
  });

  afterAll(async () => {
    await prometheus?.stop();
    await Promise.all(workers.map((w) => w.stop()));
    world?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('scrapes both workers', async () => {
    const up = await prometheus.query('up');
    expect(new Map(up.map((s) => [s.metric.job, s.value[1]]))).toEqual(
      new Map([
        ['zfslab-coordinator', '1'],
        ['zfslab-hosts', '1'],
      ]),
    );
  });

  it('every zfslab_ family a panel reads is one the workers export', async () => {
    const names = await prometheus.get('/api/v1/label/__name__/values', z.object({ status: z.literal('success'), data: z.array(z.string()) }));
    const exported = new Set(names.data);
    for (const query of PROM_PANEL_QUERIES) {
      for (const family of query.families.filter((f) => f.startsWith('zfslab_'))) {
        const served = exported.has(family) || exported.has(`${family}_bucket`);
        expect(served, `${query.panel}: ${family} is not exported`).toBe(true);
      }
    }
  });

  it.each(PROM_PANEL_QUERIES.map((q) => [q.panel, q] as const))('%s: valid PromQL, and series once its families are exported', async (_panel, query) => {
    const result = await prometheus.query(asGrafanaSendsIt(query.expr));
    if (query.families.every((f) => f.startsWith('zfslab_'))) {
      expect(result.length, query.expr).toBeGreaterThan(0);
      expect(JSON.stringify(result)).not.toMatch(/"run_id"|"test_id"/);
    }
  });

  it('sees the failing test in the results the coordinator exported', async () => {
    const failed = await prometheus.query('sum(zfslab_test_results_total{outcome="FAIL"})');
    expect(Number(failed[0]?.value[1])).toBe(1);
    const runs = await prometheus.query('sum by (outcome) (zfslab_runs_total)');
    expect(runs.map((s) => [s.metric.outcome, s.value[1]])).toEqual([['failed', '1']]);
  });

  it('loads the alert rules, and none fires on a healthy stack', async () => {
    const rules = await prometheus.get(
      '/api/v1/rules',
      z.object({
        data: z.object({
          groups: z.array(z.object({ name: z.string(), rules: z.array(z.object({ name: z.string(), health: z.string(), state: z.string().optional() })) })),
        }),
      }),
    );
    const group = rules.data.groups.find((g) => g.name === 'zfslab');
    expect(group?.rules.map((r) => r.name).sort()).toEqual(['ZfslabArtifactUploadsFailing', 'ZfslabRunsEndingInInfraErrors', 'ZfslabWorkerDown']);
    for (const rule of group!.rules) {
      expect(rule.health, rule.name).toBe('ok');
      expect(rule.state, rule.name).toBe('inactive');
    }
  });
});

describe('the alert rules', () => {
  it('pass promtool check rules, and promtool test rules fires each where it should', () => {
    expect(execFileSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' })).toMatch(/SUCCESS: 3 rules found/);
    expect(execFileSync('promtool', ['test', 'rules', join(projectRoot, 'dashboards/alerts/zfslab.rules.test.yml')], { encoding: 'utf8' })).toMatch(/SUCCESS/);
  });
});
