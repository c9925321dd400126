import { z } from 'zod';

/**
 * Per-flow TCP statistics as the kernel reports them through `ss -tin` (iproute2), and qdisc drops
 * from `tc -s qdisc`: the network half of a replication test, on any guest (Hubble stays the path
 * where Cilium runs). Parsed from the real output (test/fixtures/ss/); no I/O here.
 */

export const TcpSampleSchema = z.object({
  /** Network namespace the socket lives in ('' for the root namespace). */
  netns: z.string(),
  state: z.string(),
  local: z.string(),
  peer: z.string(),
  rttMs: z.number().optional(),
  rttVarMs: z.number().optional(),
  cwnd: z.number().int().optional(),
  bytesSent: z.number().optional(),
  bytesAcked: z.number().optional(),
  bytesReceived: z.number().optional(),
  bytesRetrans: z.number().optional(),
  /** Segments retransmitted in total (`retrans:<now>/<total>`). */
  retransTotal: z.number().int().optional(),
  deliveryRateBps: z.number().optional(),
});
export type TcpSample = z.infer<typeof TcpSampleSchema>;

/** One socket per two lines: `STATE RECVQ SENDQ LOCAL PEER [PROCESS]`, then its indented info line. */
export function parseSsTin(text: string, netns = ''): TcpSample[] {
  const samples: TcpSample[] = [];
  let current: TcpSample | undefined;
  for (const line of text.split('\n')) {
    if (line.trim() === '' || /^State\s+Recv-Q/.test(line)) continue;
    if (/^\s/.test(line)) {
      if (current) Object.assign(current, infoOf(line));
      continue;
    }
    const [state, , , local, peer] = line.trim().split(/\s+/);
    if (!state || !local || !peer) continue;
    current = { netns, state, local, peer };
    samples.push(current);
  }
  return samples;
}

function infoOf(line: string): Partial<TcpSample> {
  const info: Partial<TcpSample> = {};
  const num = (key: string): number | undefined => {
    const m = new RegExp(`(?:^|\\s)${key}:(\\d+(?:\\.\\d+)?)`).exec(line);
    return m ? Number(m[1]) : undefined;
  };
  const rtt = /(?:^|\s)rtt:(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)/.exec(line);
  if (rtt) {
    info.rttMs = Number(rtt[1]);
    info.rttVarMs = Number(rtt[2]);
  }
  const set = <K extends keyof TcpSample>(k: K, v: TcpSample[K] | undefined) => {
    if (v !== undefined) info[k] = v;
  };
  set('cwnd', num('cwnd'));
  set('bytesSent', num('bytes_sent'));
  set('bytesAcked', num('bytes_acked'));
  set('bytesReceived', num('bytes_received'));
  set('bytesRetrans', num('bytes_retrans'));
  const retrans = /(?:^|\s)retrans:\d+\/(\d+)/.exec(line);
  if (retrans) info.retransTotal = Number(retrans[1]);
  const rate = /(?:^|\s)delivery_rate (\d+(?:\.\d+)?)bps/.exec(line);
  if (rate) info.deliveryRateBps = Number(rate[1]);
  return info;
}

/** `dropped N` per qdisc of `tc -s qdisc`, summed. */
export function parseQdiscDrops(text: string): number {
  let drops = 0;
  for (const m of text.matchAll(/\(dropped (\d+),/g)) drops += Number(m[1]);
  return drops;
}

/** A sample of every flow at one moment. */
export interface TcpTick {
  /** ms since the sampler started. */
  atMs: number;
  flows: TcpSample[];
  qdiscDrops: number;
}

export const FlowSummarySchema = z.strictObject({
  netns: z.string(),
  local: z.string(),
  peer: z.string(),
  samples: z.number().int().nonnegative(),
  seconds: z.number().nonnegative(),
  /** Bytes this end got acknowledged (sent) or received over the window. */
  bytesAcked: z.number().nonnegative(),
  bytesReceived: z.number().nonnegative(),
  /** (acked + received) × 8 / seconds: bits per second, as ss prints rates. */
  throughputBps: z.number().nonnegative(),
  bytesRetrans: z.number().nonnegative(),
  retransSegments: z.number().nonnegative(),
  rttMsP50: z.number().optional(),
  rttMsMax: z.number().optional(),
  cwndMin: z.number().optional(),
  cwndMax: z.number().optional(),
});
export type FlowSummary = z.infer<typeof FlowSummarySchema>;

export const NetworkSummarySchema = z.strictObject({
  ticks: z.number().int().nonnegative(),
  /** Busiest first. */
  flows: z.array(FlowSummarySchema),
  /** Qdisc drops over the window (all namespaces). */
  qdiscDrops: z.number().nonnegative(),
});
export type NetworkSummary = z.infer<typeof NetworkSummarySchema>;

/** The ports a sampler leaves out: its own SSH session is not the workload's traffic. */
const IGNORED_PORTS = new Set(['22']);

/** Per flow over the timeline: what moved, retransmits, RTT and cwnd ranges; the SSH session left out. */
export function summariseTcp(timeline: readonly TcpTick[]): NetworkSummary {
  const perFlow = new Map<string, { first: TcpSample; last: TcpSample; firstAt: number; lastAt: number; rtts: number[]; cwnds: number[]; samples: number }>();
  for (const tick of timeline) {
    for (const s of tick.flows) {
      if (IGNORED_PORTS.has(portOf(s.local)) || IGNORED_PORTS.has(portOf(s.peer))) continue;
      const key = `${s.netns} ${s.local} ${s.peer}`;
      const seen = perFlow.get(key) ?? { first: s, last: s, firstAt: tick.atMs, lastAt: tick.atMs, rtts: [], cwnds: [], samples: 0 };
      seen.last = s;
      seen.lastAt = tick.atMs;
      seen.samples++;
      if (s.rttMs !== undefined) seen.rtts.push(s.rttMs);
      if (s.cwnd !== undefined) seen.cwnds.push(s.cwnd);
      perFlow.set(key, seen);
    }
  }
  const flows: FlowSummary[] = [...perFlow.values()].map((f) => {
    // A flow seen once counts its totals so far; seen again, what moved between first and last sight.
    const delta = (k: 'bytesAcked' | 'bytesReceived' | 'bytesRetrans' | 'retransTotal') =>
      f.samples > 1 ? Math.max(0, (f.last[k] ?? 0) - (f.first[k] ?? 0)) : (f.last[k] ?? 0);
    const seconds = (f.lastAt - f.firstAt) / 1000;
    const acked = delta('bytesAcked');
    const received = delta('bytesReceived');
    const sorted = [...f.rtts].sort((a, b) => a - b);
    return {
      netns: f.first.netns,
      local: f.first.local,
      peer: f.first.peer,
      samples: f.samples,
      seconds,
      bytesAcked: acked,
      bytesReceived: received,
      throughputBps: seconds > 0 ? ((acked + received) * 8) / seconds : 0,
      bytesRetrans: delta('bytesRetrans'),
      retransSegments: delta('retransTotal'),
      ...(sorted.length ? { rttMsP50: sorted[Math.floor((sorted.length - 1) / 2)]!, rttMsMax: sorted[sorted.length - 1]! } : {}),
      ...(f.cwnds.length ? { cwndMin: Math.min(...f.cwnds), cwndMax: Math.max(...f.cwnds) } : {}),
    };
  });
  flows.sort((a, b) => b.bytesAcked + b.bytesReceived - (a.bytesAcked + a.bytesReceived));
  const drops = timeline.length > 1 ? Math.max(0, timeline[timeline.length - 1]!.qdiscDrops - timeline[0]!.qdiscDrops) : (timeline[0]?.qdiscDrops ?? 0);
  return { ticks: timeline.length, flows, qdiscDrops: drops };
}

/** What moved between two ticks, for a live counter: bytes, retransmitted segments and qdisc drops. */
export interface TickDelta {
  /** Bytes acknowledged plus bytes received, over every flow (each end of a flow in the guest counts its side). */
  bytes: number;
  retransmits: number;
  qdiscDrops: number;
  /** The largest smoothed RTT among the flows now, seconds. */
  rttSecondsMax?: number;
}

/**
 * The delta from `previous` to `current`: a flow seen in both counts what moved between them, a new
 * flow its totals so far (it started since), a flow gone counts nothing more. The first tick counts
 * every flow's totals (the sampler starts with the workload).
 */
export function tickDelta(previous: TcpTick | undefined, current: TcpTick): TickDelta {
  const key = (s: TcpSample) => `${s.netns} ${s.local} ${s.peer}`;
  const before = new Map((previous?.flows ?? []).map((s) => [key(s), s]));
  let bytes = 0;
  let retransmits = 0;
  let rtt: number | undefined;
  for (const s of current.flows) {
    if (IGNORED_PORTS.has(portOf(s.local)) || IGNORED_PORTS.has(portOf(s.peer))) continue;
    const was = before.get(key(s));
    const moved = (k: 'bytesAcked' | 'bytesReceived' | 'retransTotal') => Math.max(0, (s[k] ?? 0) - (was?.[k] ?? 0));
    bytes += moved('bytesAcked') + moved('bytesReceived');
    retransmits += moved('retransTotal');
    if (s.rttMs !== undefined) rtt = Math.max(rtt ?? 0, s.rttMs / 1000);
  }
  const qdiscDrops = Math.max(0, current.qdiscDrops - (previous?.qdiscDrops ?? 0));
  return { bytes, retransmits, qdiscDrops, ...(rtt !== undefined ? { rttSecondsMax: rtt } : {}) };
}

function portOf(address: string): string {
  return address.slice(address.lastIndexOf(':') + 1);
}

/**
 * The shell one sampler tick runs (as root): every namespace's sockets and qdiscs, each section
 * marked so parseTick can tell them apart. The root namespace is `-`.
 */
export const SAMPLE_SCRIPT = [
  'for ns in - $(ip netns list 2>/dev/null | cut -d" " -f1); do',
  '  if [ "$ns" = - ]; then run=""; else run="ip netns exec $ns"; fi',
  '  echo "### ss $ns"; $run ss -tinH 2>/dev/null',
  '  echo "### tc $ns"; $run tc -s qdisc show 2>/dev/null',
  'done',
].join('\n');

/** One tick's output of SAMPLE_SCRIPT. */
export function parseTick(output: string, atMs: number): TcpTick {
  const flows: TcpSample[] = [];
  let drops = 0;
  const parts = output.split(/^### (ss|tc) (\S+)$/m);
  // split with two groups: [before, kind, ns, body, kind, ns, body, …]
  for (let i = 1; i + 2 < parts.length + 1; i += 3) {
    const kind = parts[i];
    const ns = parts[i + 1] === '-' ? '' : (parts[i + 1] ?? '');
    const body = parts[i + 2] ?? '';
    if (kind === 'ss') flows.push(...parseSsTin(body, ns));
    else if (kind === 'tc') drops += parseQdiscDrops(body);
  }
  return { atMs, flows, qdiscDrops: drops };
}
