import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { parseQdiscDrops, parseSsTin, parseTick, summariseTcp, tickDelta } from '../../../core/network/tcp-stats.js';
import { createProbeMetrics, recordTcpDelta } from '../../../lib/probe-metrics.js';
import { projectRoot } from '../../../lib/paths.js';

// Real output (test/fixtures/ss/README.md).
const fixture = (name: string) => readFileSync(join(projectRoot, 'test/fixtures/ss', name), 'utf8');

describe('ss -tin', () => {
  it('reads every socket with its info line, with or without the header', () => {
    const all = parseSsTin(fixture('loopback-all-H.txt'));
    expect(all).toHaveLength(48);
    expect(all.every((s) => s.state === 'ESTAB' && /:\d+$/.test(s.local) && /:\d+$/.test(s.peer))).toBe(true);
    const [sender, receiver] = parseSsTin(fixture('loopback-flow-header.txt'));
    expect(sender).toMatchObject({
      netns: '',
      local: '127.0.0.1:47018',
      peer: '127.0.0.1:35765',
      rttMs: 0.969,
      rttVarMs: 1.722,
      cwnd: 16,
      bytesSent: 1611221910,
      bytesRetrans: 471199,
      bytesAcked: 1610415864,
      retransTotal: 10,
      deliveryRateBps: 16225876104,
    });
    expect(receiver).toMatchObject({ local: '127.0.0.1:35765', bytesReceived: 1610750711, cwnd: 10 });
    expect(receiver!.bytesAcked).toBeUndefined();
  });

  it('sums qdisc drops', () => {
    expect(parseQdiscDrops(fixture('tc-qdisc-host.txt'))).toBe(0);
    expect(parseQdiscDrops(' Sent 1 bytes 1 pkt (dropped 7, overlimits 0 requeues 0)\n Sent 1 bytes 1 pkt (dropped 5, overlimits 0 requeues 0)')).toBe(12);
  });

  it('summarises a flow over a timeline: what moved between the first and last sight, retransmits, RTT and cwnd', () => {
    const at = (text: string, atMs: number) => parseTick(`### ss zl-a\n${text}### tc zl-a\n${fixture('tc-qdisc-noqueue.txt')}### ss -\n### tc -\n`, atMs);
    const timeline = [at(fixture('netns-flow-t1-H.txt'), 0), at(fixture('netns-flow-t2-H.txt'), 1000)];
    expect(timeline[0]!.flows[0]).toMatchObject({ netns: 'zl-a', local: '10.77.0.1:39410', peer: '10.77.0.2:7777' });
    const summary = summariseTcp(timeline);
    expect(summary).toMatchObject({ ticks: 2, qdiscDrops: 0 });
    expect(summary.flows).toEqual([
      {
        netns: 'zl-a',
        local: '10.77.0.1:39410',
        peer: '10.77.0.2:7777',
        samples: 2,
        seconds: 1,
        bytesAcked: 1638829049 - 836638633,
        bytesReceived: 0,
        throughputBps: (1638829049 - 836638633) * 8,
        bytesRetrans: 3009216 - 1022560,
        retransSegments: 2079 - 707,
        rttMsP50: 0.586,
        rttMsMax: 0.945,
        cwndMin: 462,
        cwndMax: 680,
      },
    ]);
  });

  it("leaves the sampler's own SSH session out", () => {
    const ssh = 'ESTAB 0 0 10.0.2.15:22 10.0.2.2:51234\n\t cubic rtt:1.2/0.3 cwnd:10 bytes_acked:100 bytes_received:50\n';
    expect(summariseTcp([parseTick(`### ss -\n${ssh}### tc -\n`, 0)]).flows).toEqual([]);
  });
});

describe('the delta between two samples, for the exporter', () => {
  const at = (text: string, atMs: number, drops = '') =>
    parseTick(`### ss zl-a\n${text}### tc zl-a\n${drops || fixture('tc-qdisc-noqueue.txt')}### ss -\n### tc -\n`, atMs);

  it('a flow seen in both counts what moved, a first sight its totals, a flow gone nothing; drops as they grew', () => {
    const t1 = at(fixture('netns-flow-t1-H.txt'), 0);
    const t2 = at(fixture('netns-flow-t2-H.txt'), 1000, ' Sent 1 bytes 1 pkt (dropped 7, overlimits 0 requeues 0)');
    expect(tickDelta(undefined, t1)).toMatchObject({ bytes: 836638633, retransmits: 707, qdiscDrops: 0 });
    const d = tickDelta(t1, t2);
    expect(d).toMatchObject({ bytes: 1638829049 - 836638633, retransmits: 2079 - 707, qdiscDrops: 7 });
    // The RTT is the flow's now (0.586 ms at the second sample), not its largest ever.
    expect(d.rttSecondsMax).toBeCloseTo(0.000586, 9);
    expect(tickDelta(t2, { atMs: 2000, flows: [], qdiscDrops: 7 })).toEqual({ bytes: 0, retransmits: 0, qdiscDrops: 0 });
  });

  it('feeds the zfs_replication_* series', async () => {
    const registry = new Registry();
    const metrics = createProbeMetrics(registry);
    recordTcpDelta(metrics, { flavor: 'debian13', host: 'lab' }, { bytes: 4096, retransmits: 3, qdiscDrops: 2, rttSecondsMax: 0.039 });
    const text = await registry.metrics();
    expect(text).toContain('zfs_replication_tcp_bytes_total{flavor="debian13",host="lab"} 4096');
    expect(text).toContain('zfs_replication_tcp_retransmits_total{flavor="debian13",host="lab"} 3');
    expect(text).toContain('zfs_replication_qdisc_drops_total{flavor="debian13",host="lab"} 2');
    expect(text).toContain('zfs_replication_tcp_rtt_seconds{flavor="debian13",host="lab"} 0.039');
  });
});
