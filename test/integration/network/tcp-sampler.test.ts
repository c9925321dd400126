import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { startTcpSampler } from '../../../activities/vm/tcp-sampler.js';
import { summariseTcp } from '../../../core/network/tcp-stats.js';
import { localExecutor } from '../../../lib/exec/local.js';
import { createLogger } from '../../../lib/log.js';

// Two real network namespaces joined by a veth pair, a real TCP flow from one to the other, and the
// sampler reading every namespace's sockets with the real ss/tc, as the recipe path does in a guest.
const suffix = String(process.pid % 100000);
const [A, B] = [`zfslab-ta${suffix}`, `zfslab-tb${suffix}`];
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
const node = (ns: string, code: string): ChildProcess => spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: 'ignore' });

describe.skipIf(process.getuid?.() !== 0)('the TCP sampler on a real flow between two namespaces', () => {
  const children: ChildProcess[] = [];
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    for (const ns of [A, B]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // already gone
      }
    }
  });

  it('samples the flow in its namespace: bytes moved, throughput, RTT and cwnd over the window', async () => {
    ip('netns', 'add', A);
    ip('netns', 'add', B);
    ip('link', 'add', `va${suffix}`, 'type', 'veth', 'peer', 'name', `vb${suffix}`);
    ip('link', 'set', `va${suffix}`, 'netns', A);
    ip('link', 'set', `vb${suffix}`, 'netns', B);
    ip('-n', A, 'addr', 'add', '10.78.0.1/24', 'dev', `va${suffix}`);
    ip('-n', B, 'addr', 'add', '10.78.0.2/24', 'dev', `vb${suffix}`);
    for (const [ns, dev] of [
      [A, `va${suffix}`],
      [B, `vb${suffix}`],
    ] as const) {
      ip('-n', ns, 'link', 'set', dev, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
    children.push(node(B, "require('net').createServer((s) => s.resume()).listen(7788, '10.78.0.2')"));
    await new Promise((r) => setTimeout(r, 500));
    children.push(
      node(
        A,
        "const c = require('net').connect(7788, '10.78.0.2', () => { const b = Buffer.alloc(65536, 7); const p = () => { while (c.write(b)) {} }; c.on('drain', p); p(); });",
      ),
    );
    const sampler = startTcpSampler(localExecutor, { intervalMs: 500, sudo: false, log: createLogger('tcp-sampler-test', 'warn') });
    await new Promise((r) => setTimeout(r, 3_000));
    const timeline = await sampler.stop();
    const summary = summariseTcp(timeline);
    const flow = summary.flows.find((f) => f.netns === A && f.peer === '10.78.0.2:7788');
    expect(flow, JSON.stringify(summary.flows.slice(0, 5))).toBeDefined();
    expect(flow!.samples).toBeGreaterThanOrEqual(3);
    expect(flow!.bytesAcked).toBeGreaterThan(1_000_000);
    expect(flow!.throughputBps).toBeGreaterThan(1_000_000);
    expect(flow!.rttMsP50).toBeGreaterThan(0);
    expect(flow!.cwndMax).toBeGreaterThan(0);
    // The receiving end, in the other namespace, is sampled too.
    expect(summary.flows.find((f) => f.netns === B && f.local === '10.78.0.2:7788')?.bytesReceived).toBeGreaterThan(1_000_000);
  }, 60_000);
});
