import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNamedKstat, parseSplSlabAllocBytes, parseTxgs } from '../../../core/probes/kstat.js';
import { projectRoot } from '../../../lib/paths.js';

const fixture = (name: string): string => readFileSync(join(projectRoot, 'test/fixtures/probes', name), 'utf8');

describe('SPL kstats as a debian13 guest prints them (OpenZFS 2.3.9)', () => {
  it('arcstats: name type data rows, signed ones too', () => {
    const arc = parseNamedKstat(fixture('arcstats-debian13.txt'));
    expect(arc.get('hits')).toBe(13393);
    expect(arc.get('misses')).toBe(1122);
    expect(arc.get('mru_size')).toBe(2255360);
    expect(arc.get('memory_available_bytes')).toBe(2615917952);
    // The kstat header line and the column titles are not rows.
    expect(arc.has('name')).toBe(false);
    expect(arc.size).toBeGreaterThan(100);
  });

  it('txgs: every recent txg, the open one last, sync time in ns', () => {
    const rows = parseTxgs(fixture('txgs-debian13.txt'));
    expect(rows[0]).toEqual({ txg: 80, birth: 301966567435, state: 'C', nwrittenBytes: 1094656, writes: 84, syncNs: 151985244 });
    expect(rows.at(-1)).toMatchObject({ txg: 95, state: 'O', syncNs: 0 });
    expect(rows.filter((r) => r.state === 'C').length).toBe(rows.length - 1);
  });

  it('slab: the alloc column summed over the SPL caches', () => {
    const bytes = parseSplSlabAllocBytes(fixture('slab-debian13.txt'));
    expect(bytes).toBeGreaterThan(1_000_000);
    expect(parseSplSlabAllocBytes('no table here')).toBeUndefined();
  });

  it('a txgs file without its header yields nothing (a pool exported mid-read)', () => {
    expect(parseTxgs('')).toEqual([]);
  });
});
