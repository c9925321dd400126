import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RecipeMatrixOutput } from '../../../workflows/recipe-run.js';
import { projectRoot } from '../../../lib/paths.js';
import { freePort } from '../../support/ports.js';
import { runCli, testArtifacts, useWorld } from '../../support/stack.js';

/**
 * The shipped replication-chaos recipe in a real debian13 clone, through the real CLI and workers:
 * `zfs send | zfs receive` over TCP between two namespaces of the guest with netem delay and loss,
 * cut and resumed. While it runs zfslab samples every namespace's TCP flows in the guest; the result
 * carries the flow's summary and the timeline is in MinIO. ZFSLAB_SLOW=1 only (a TCG boot).
 */
describe.skipIf(process.env.ZFSLAB_SLOW !== '1')('the replication-chaos recipe in a VM clone, with its network timeline', () => {
  let metricsPort = 0;
  const setup = useWorld('vm-recipe-net', {
    env: async () => {
      metricsPort = await freePort();
      return { ZFSLAB_METRICS_HOST_PORT: String(metricsPort) };
    },
  });

  it('passes, and the sampled timeline shows the transfer between the namespaces with its retransmits', async () => {
    const run = await runCli(['test', 'debian13', '--recipe', join(projectRoot, 'recipes/replication-chaos.sh'), '--json'], setup.world.env, {
      timeoutMs: 1_500_000,
    });
    const json = JSON.parse(run.stdout) as RecipeMatrixOutput;
    const result = json.results[0]!;
    process.stderr.write(`recipe-network-vm: ${result.outcome} in ${result.durationSeconds} s; ${JSON.stringify(result.network?.flows[0])}\n`);
    expect(run.code, `${run.stderr.slice(-2000)}\n${result?.outputTail}`).toBe(0);
    expect(result.outcome).toBe('PASS');
    const network = result.network!;
    expect(network.ticks).toBeGreaterThan(3);
    const transfer = network.flows.find((f) => f.netns === 'nsend' && f.peer.endsWith(':9777'));
    expect(transfer, JSON.stringify(network.flows.slice(0, 5))).toBeDefined();
    expect(transfer!.bytesAcked).toBeGreaterThan(1_000_000);
    // netem drops 1% and delays 20 ms each way: the sender retransmits, and its RTT shows the delay.
    expect(transfer!.retransSegments).toBeGreaterThan(0);
    expect(transfer!.rttMsP50).toBeGreaterThan(20);
    // The host worker exported the flows as they were sampled: the dashboard's replication series.
    const exported = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name}\\{flavor="debian13"[^}]*\\} (\\S+)$`, 'm').exec(exported)?.[1] ?? 0);
    process.stderr.write(
      `recipe-network-vm: exported ${value('zfs_replication_tcp_bytes_total')} bytes, ${value('zfs_replication_tcp_retransmits_total')} retransmits, rtt ${value('zfs_replication_tcp_rtt_seconds')} s\n`,
    );
    expect(value('zfs_replication_tcp_bytes_total')).toBeGreaterThan(1_000_000);
    expect(value('zfs_replication_tcp_retransmits_total')).toBeGreaterThan(0);
    const artifacts = testArtifacts(setup.world);
    try {
      const timeline = (await artifacts.getText(`runs/${json.runId}/debian13/recipe/tcp-timeline.ndjson`))!.trim().split('\n');
      expect(timeline.length).toBe(network.ticks);
    } finally {
      artifacts.destroy();
    }
  }, 1_800_000);
});
