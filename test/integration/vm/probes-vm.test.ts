import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestRunJsonSchema } from '../../../apps/cli/commands/test-run/json.js';
import { parsePreflight, planProbes } from '../../../core/probes/plan.js';
import { parseKstatStream, parseStamped, parseZioStream } from '../../../core/probes/stream.js';
import { PROM_PANEL_QUERIES } from '../../../dashboards/queries/prometheus.js';
import { storeUrlOf } from '../../../lib/config.js';
import { openStore } from '../../../lib/store/open.js';
import { ProbeStore } from '../../../lib/store/probes.js';
import { freePort } from '../../support/ports.js';
import { createWorld, runCli, startWorker, testArtifacts, type RunningWorker, type TestWorld } from '../../support/stack.js';
import { startPrometheus, type StartedPrometheus } from '../../setup/prometheus.js';

/**
 * Issue 15 §1 on real qemu: `zfslab test debian13 --run <a test that writes and scrubs>` with the
 * probes on (the CLI's default). The guest's zio latencies (bpftrace on the real module) and kstats
 * reach the results store per script, the host worker's exporter as zfs_* series that a real
 * Prometheus scrapes during the run, S3 as raw streams, and the HTML report as a heatmap.
 * ZFSLAB_SLOW=1 only (a TCG clone). ZFSLAB_PROBE_FIXTURES=<dir> keeps the raw streams there.
 */
const TEST = 'functional/scrub_mirror/scrub_mirror_001_pos';
const PROBE_FAMILIES = [
  'zfs_zio_latency_seconds',
  'zfs_txg_sync_seconds',
  'zfs_arc_hits_total',
  'zfs_arc_misses_total',
  'zfs_arc_list_size_bytes',
  'zfs_arc_evicted_bytes_total',
];

describe.skipIf(process.env.ZFSLAB_SLOW !== '1')('in-guest probes during a real VM run (debian13)', () => {
  let world: TestWorld;
  const workers: RunningWorker[] = [];
  let prometheus: StartedPrometheus;
  const scratch = mkdtempSync(join(tmpdir(), 'zfslab-probes-vm-'));

  beforeAll(async () => {
    const [coordinatorPort, hostPort] = [await freePort(), await freePort()];
    world = createWorld('vm-probes', { ZFSLAB_METRICS_COORDINATOR_PORT: String(coordinatorPort), ZFSLAB_METRICS_HOST_PORT: String(hostPort) });
    workers.push(await startWorker('coordinator', world.env), await startWorker('host', world.env));
    prometheus = await startPrometheus({ 'zfslab-coordinator': [`127.0.0.1:${coordinatorPort}`], 'zfslab-hosts': [`127.0.0.1:${hostPort}`] });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await Promise.all(workers.map((w) => w.stop()));
    world?.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('records zio latency, txg sync and ARC per script in the store, S3, Prometheus and the HTML report', async () => {
    const started = performance.now();
    const run = await runCli(['test', 'debian13', '--run', TEST, '--json'], world.env, { timeoutMs: 1_800_000 });
    process.stderr.write(`probes-vm: zfslab test debian13 --run ${TEST}: ${Math.round((performance.now() - started) / 1000)} s wall\n`);
    expect(run.code, `${run.stderr}\n--- host worker ---\n${workers[1]?.output().slice(-6000)}`).toBe(0);
    const json = TestRunJsonSchema.parse(JSON.parse(run.stdout));
    expect(json.totals.counts.PASS).toBe(1);

    // The store: per script, zio latencies by type, the pool's txg syncs, the ARC.
    const store = await openStore(storeUrlOf(world.loaded));
    let probes;
    try {
      probes = await new ProbeStore(store.db).forRun(json.runId);
    } finally {
      await store.close();
    }
    const of = (probe: string) => probes.filter((p) => p.testId === TEST && p.probe === probe);
    process.stderr.write(
      `probes-vm: ${probes.length} rows; ${TEST}: ${of('zio')
        .map((p) => `${p.series} n=${p.count} p50=${p.p50Seconds?.toExponential(2)} p99=${p.p99Seconds?.toExponential(2)}`)
        .join('; ')}; txg ${of('txg')
        .map((p) => `${p.series} n=${p.count} p95=${p.p95Seconds}`)
        .join('; ')}\n`,
    );
    const zio = new Map(of('zio').map((p) => [p.series, p]));
    expect(zio.get('write')?.count ?? 0).toBeGreaterThan(0);
    expect(zio.get('write')!.p50Seconds!).toBeGreaterThan(0);
    // The test scrubs its mirror: reads at scrub priority are told apart from the others.
    expect(zio.get('scrub')?.count ?? 0).toBeGreaterThan(0);
    expect(of('txg').length).toBeGreaterThan(0);
    expect(of('txg')[0]!.count).toBeGreaterThan(0);
    const [arc] = of('arc');
    expect(arc?.count ?? 0).toBeGreaterThan(0);
    // The group's setup and cleanup are scripts too, with their own rows.
    expect(new Set(probes.map((p) => p.testId)).size).toBeGreaterThan(1);

    // S3: the raw streams, parsed back to the records the summaries came from.
    const artifacts = testArtifacts(world);
    const { artifacts: keys } = JSON.parse((await runCli(['show', json.runId, '--json'], world.env)).stdout) as {
      artifacts: { name: string; s3Key: string }[];
    };
    const raw = keys.filter((k) => k.name.startsWith('probes-chunk-'));
    expect(raw.map((k) => k.s3Key.replace(/.*-(preflight|kstat|zio)\.txt\.gz$/, '$1')).sort()).toEqual(['kstat', 'preflight', 'zio']);
    for (const k of raw) {
      const body = await artifacts.getBytes(k.s3Key);
      const lines = parseStamped(gunzipSync(body!).toString('utf8'));
      const stream = /-(preflight|kstat|zio)\.txt\.gz$/.exec(k.s3Key)![1]!;
      if (stream === 'zio') expect(parseZioStream(lines).length).toBeGreaterThan(0);
      else if (stream === 'kstat') expect(parseKstatStream(lines).length).toBeGreaterThan(0);
      else expect(planProbes(['zio', 'kstat'], parsePreflight(lines.map((l) => l.text).join('\n'))).zio).toBeDefined();
      if (process.env.ZFSLAB_PROBE_FIXTURES) {
        mkdirSync(process.env.ZFSLAB_PROBE_FIXTURES, { recursive: true });
        const name = stream === 'preflight' ? 'preflight-debian13.txt' : `${stream}-stream-debian13.txt`;
        // The preflight fixture is the guest's output as it printed it; the streams keep their stamps.
        writeFileSync(join(process.env.ZFSLAB_PROBE_FIXTURES, name), stream === 'preflight' ? lines.map((l) => `${l.text}\n`).join('') : gunzipSync(body!));
      }
    }

    // Prometheus scraped the host worker while the run went on: the probe families have series,
    // and the dashboards' panels over them return data.
    await sleep(6_000);
    for (const family of PROBE_FAMILIES) {
      const series = await prometheus.query(`${family.endsWith('_seconds') ? `${family}_count` : family}{flavor="debian13"}`);
      expect(series.length, family).toBeGreaterThan(0);
    }
    for (const q of PROM_PANEL_QUERIES.filter((p) =>
      p.families.some((f) => ['zfs_zio_latency_seconds', 'zfs_txg_sync_seconds', 'zfs_arc_list_size_bytes'].includes(f)),
    )) {
      const expr = q.expr.replaceAll('$__rate_interval', '10m').replaceAll('$flavor', '.*').replaceAll('$zio_type', '.*');
      expect((await prometheus.query(expr)).length, q.panel).toBeGreaterThan(0);
    }

    // The HTML report draws the heatmap of the test from the store.
    const html = join(scratch, 'report.html');
    const report = await runCli(['report', json.runId, '--html', html, '--heatmap-test', TEST], world.env);
    expect(report.code, report.stderr).toBe(0);
    const text = readFileSync(html, 'utf8');
    expect(text).toContain('<div id="heatmap" class="chart">');
    expect(text).not.toContain('heatmap-missing');
  }, 2_400_000);
});
