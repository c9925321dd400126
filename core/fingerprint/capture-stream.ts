import { CAPTURE_STRLEN, decodeCaptureRecord } from './bpftrace-capture.js';
import { parseBpftraceJsonLine } from './bpftrace-output.js';
import { CaptureMetaSchema, type CaptureMeta } from './capture-script.js';
import type { CaptureEvent } from './events.js';
import { TetragonDecoder } from './tetragon-events.js';

/**
 * Decodes the capture script's output line by line: `zfslab` records (start/end/attach_failed),
 * bpftrace records and Tetragon events, in one stream. Used live during a capture and to replay a
 * saved raw capture file, so both give the same fingerprint.
 */
export class CaptureStreamDecoder {
  private tetragon: TetragonDecoder | undefined;
  private readonly metas: CaptureMeta[] = [];

  /** `onStart` hears the workload's launch directory before any event of the capture is decoded. */
  constructor(private readonly onStart?: (cwd: string) => void) {}

  /** The workload's launch directory, from the start record. */
  get cwd(): string | undefined {
    const start = this.start;
    return start ? Buffer.from(start.cwd_b64, 'base64').toString('utf8') : undefined;
  }

  /** Follow mode: the tracer is attached and the workload may start. */
  get ready(): boolean {
    return this.metas.some((m) => m.event === 'ready');
  }

  get plan(): Extract<CaptureMeta, { event: 'plan' }> | undefined {
    return this.metas.find((m): m is Extract<CaptureMeta, { event: 'plan' }> => m.event === 'plan');
  }

  get start(): Extract<CaptureMeta, { event: 'start' }> | undefined {
    return this.metas.find((m): m is Extract<CaptureMeta, { event: 'start' }> => m.event === 'start');
  }

  get end(): Extract<CaptureMeta, { event: 'end' }> | undefined {
    return this.metas.find((m): m is Extract<CaptureMeta, { event: 'end' }> => m.event === 'end');
  }

  get attachFailure(): Extract<CaptureMeta, { event: 'attach_failed' }> | undefined {
    return this.metas.find((m): m is Extract<CaptureMeta, { event: 'attach_failed' }> => m.event === 'attach_failed');
  }

  line(text: string): CaptureEvent[] {
    if (text.trim() === '') return [];
    // Tetragon events are objects keyed by the event kind; everything else carries "type".
    if (text.startsWith('{"process_') || !/^\{\s*"type"/.test(text)) return this.tetragonDecoder().decodeLine(text);
    if (text.startsWith('{"type":"zfslab"')) {
      const meta = CaptureMetaSchema.parse((JSON.parse(text) as { data: unknown }).data);
      this.metas.push(meta);
      if (meta.event === 'start' && meta.launcher_pid > 0) {
        this.tetragon = new TetragonDecoder({ rootPid: meta.launcher_pid });
        this.onStart?.(this.cwd as string);
      }
      return [];
    }
    const record = parseBpftraceJsonLine(text);
    if (record?.type === 'printf' && (record.text.startsWith('root\t') || record.text.startsWith('root-exit\t'))) this.noteRoot(record.text);
    return record ? decodeCaptureRecord(record, { arch: 'x86_64', strlen: CAPTURE_STRLEN }) : [];
  }

  /** In follow mode: the root task found by its exec path, and when (kernel ns) it started and exited. */
  followedRoot: { tid: number; startNs: number; exitNs?: number } | undefined;

  private noteRoot(text: string): void {
    const fields = text.trim().split('\t');
    if (fields[0] === 'root') {
      this.followedRoot = { tid: Number(fields[1]), startNs: Number(fields[2]) };
      this.tetragon = new TetragonDecoder({ rootPid: Number(fields[1]) });
    } else if (this.followedRoot) this.followedRoot.exitNs = Number(fields[1]);
  }

  private tetragonDecoder(): TetragonDecoder {
    // Tetragon lines come after the start record; without one (a bare Tetragon log) nothing is filtered.
    return (this.tetragon ??= new TetragonDecoder());
  }
}
