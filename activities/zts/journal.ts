import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { TestResultSchema } from '../../core/results/types.js';
import type { TestResult } from '../../core/results/types.js';

/**
 * A chunk's checkpoint on the host: one JSON line per finished script, appended synchronously as
 * each result line arrives, so it survives a `kill -9` of the worker (the page cache keeps it) even
 * when the matching heartbeat never reached the server. See core/test-run/checkpoint.ts.
 */
export class ChunkJournal {
  private written = 0;

  constructor(readonly path: string) {}

  /** What the journal holds; a torn last line (the worker died mid-write) is ignored. */
  read(): TestResult[] {
    if (!existsSync(this.path)) return [];
    const results: TestResult[] = [];
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        const parsed = TestResultSchema.safeParse(JSON.parse(line));
        if (parsed.success) results.push(parsed.data);
      } catch {
        break;
      }
    }
    return results;
  }

  /** Starts this attempt's journal from the resume point (replacing the file atomically). */
  reset(results: readonly TestResult[]): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, results.map((r) => JSON.stringify(r) + '\n').join(''));
    renameSync(tmp, this.path);
    this.written = results.length;
  }

  /** Appends what `finished` holds beyond what was written. */
  sync(finished: readonly TestResult[]): void {
    if (finished.length <= this.written) return;
    appendFileSync(
      this.path,
      finished
        .slice(this.written)
        .map((r) => JSON.stringify(r) + '\n')
        .join(''),
    );
    this.written = finished.length;
  }
}
