import { z } from 'zod';
import type { HistBucket } from './events.js';

/**
 * bpftrace `-f json` output: one object per line, `{"type": …, "data": …}`. The types this code reads
 * (checked against bpftrace v0.17.0 output captured on the lab host, test/fixtures/fingerprint/bpftrace):
 *   attached_probes  {"probes": N}
 *   printf           "text" (the formatted string, newline included)
 *   map              {"@name": {key: value, …}} or {"@name": value}
 *   hist             {"@name": [bucket…]} or {"@name": {key: [bucket…]}}; bucket {"min","max","count"}
 *   lost_events      {"events": N}
 * Blank lines occur between records and are skipped. Other types are returned as `other`.
 */
export type BpftraceRecord =
  | { type: 'attached_probes'; probes: number }
  | { type: 'printf'; text: string }
  | { type: 'map'; name: string; values: Map<string, number> }
  | { type: 'hist'; name: string; histograms: Map<string | undefined, HistBucket[]> }
  | { type: 'lost_events'; events: number }
  | { type: 'other'; rawType: string };

// Diagnostics carry no `data` (bpftrace 0.23: `{"type": "helper_error", "msg": …, "helper": …}`).
const EnvelopeSchema = z.object({ type: z.string(), data: z.unknown().optional() });
const BucketSchema = z.object({ min: z.number().optional(), max: z.number().optional(), count: z.number().int().nonnegative() });
const BucketsSchema = z.array(BucketSchema);

export class BpftraceOutputError extends Error {
  override name = 'BpftraceOutputError';
  constructor(
    message: string,
    readonly line: string,
  ) {
    super(`${message}: ${line.length > 200 ? line.slice(0, 197) + '...' : line}`);
  }
}

/** Parses one line of `bpftrace -f json`; undefined for a blank line. Throws BpftraceOutputError on malformed input. */
export function parseBpftraceJsonLine(line: string): BpftraceRecord | undefined {
  const trimmed = line.trim();
  if (trimmed === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    throw new BpftraceOutputError('not JSON', line);
  }
  const envelope = EnvelopeSchema.safeParse(json);
  if (!envelope.success) throw new BpftraceOutputError('not a bpftrace record', line);
  const { type, data } = envelope.data;
  switch (type) {
    case 'attached_probes': {
      const probes = z.object({ probes: z.number().int() }).safeParse(data);
      if (!probes.success) throw new BpftraceOutputError('bad attached_probes', line);
      return { type, probes: probes.data.probes };
    }
    case 'printf':
      if (typeof data !== 'string') throw new BpftraceOutputError('bad printf', line);
      return { type, text: data };
    case 'lost_events': {
      const lost = z.object({ events: z.number().int() }).safeParse(data);
      if (!lost.success) throw new BpftraceOutputError('bad lost_events', line);
      return { type, events: lost.data.events };
    }
    case 'map': {
      const [name, value] = singleEntry(data, line);
      const values = new Map<string, number>();
      if (typeof value === 'number') values.set('', value);
      else if (typeof value === 'object' && value !== null) {
        for (const [key, v] of Object.entries(value)) {
          if (typeof v !== 'number') throw new BpftraceOutputError(`map ${name} holds a non-number`, line);
          values.set(key, v);
        }
      } else throw new BpftraceOutputError(`bad map ${name}`, line);
      return { type, name, values };
    }
    case 'hist': {
      const [name, value] = singleEntry(data, line);
      const histograms = new Map<string | undefined, HistBucket[]>();
      const unkeyed = BucketsSchema.safeParse(value);
      if (unkeyed.success) histograms.set(undefined, unkeyed.data.map(cleanBucket));
      else if (typeof value === 'object' && value !== null) {
        for (const [key, buckets] of Object.entries(value)) {
          const parsed = BucketsSchema.safeParse(buckets);
          if (!parsed.success) throw new BpftraceOutputError(`bad hist ${name}[${key}]`, line);
          histograms.set(key, parsed.data.map(cleanBucket));
        }
      } else throw new BpftraceOutputError(`bad hist ${name}`, line);
      return { type, name, histograms };
    }
    default:
      return { type: 'other', rawType: type };
  }
}

function singleEntry(data: unknown, line: string): [string, unknown] {
  if (typeof data !== 'object' || data === null) throw new BpftraceOutputError('record without a map', line);
  const entries = Object.entries(data);
  if (entries.length !== 1) throw new BpftraceOutputError('record with more than one map', line);
  return entries[0] as [string, unknown];
}

function cleanBucket(b: z.infer<typeof BucketSchema>): HistBucket {
  const out: HistBucket = { count: b.count };
  if (b.min !== undefined) out.min = b.min;
  if (b.max !== undefined) out.max = b.max;
  return out;
}
