import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../../lib/paths.js';
import { parseRunfile } from '../../../core/runfile/parse.js';
import type { RunfileDocument } from '../../../core/runfile/document.js';
import type { RunfileCatalog } from '../../../core/runfile/select.js';

/** Upstream tags copied under test/fixtures/runfiles (see its README). */
export const TAGS = ['zfs-2.1.11', 'zfs-2.2.0', 'zfs-2.2.9', 'zfs-2.3.2', 'zfs-2.3.9', 'zfs-2.4.4'] as const;
export type Tag = (typeof TAGS)[number];
export const RUNFILE_NAMES = ['sanity', 'common', 'linux'] as const;

export const fixturePath = (...parts: string[]): string => join(projectRoot, 'test', 'fixtures', ...parts);

export function runfileText(tag: string, name: string): string {
  return readFileSync(fixturePath('runfiles', tag, `${name}.run`), 'utf8');
}

export function runfileDoc(tag: string, name: string): RunfileDocument {
  return parseRunfile(runfileText(tag, name), `${name}.run`);
}

export function catalogOf(tag: string): RunfileCatalog {
  return { sanity: runfileDoc(tag, 'sanity'), common: runfileDoc(tag, 'common'), linux: runfileDoc(tag, 'linux') };
}

export function durationTableText(): string {
  return readFileSync(fixturePath('durations', 'zts-durations-2023-03-ubuntu22.tsv'), 'utf8');
}

/** What Python's configparser made of the same files (test/fixtures/runfiles/reference/configparser-dump.py). */
export interface ConfigparserDump {
  defaults: Record<string, string>;
  sections: { section: string; own: Record<string, string>; tests?: string[]; tags?: string[] }[];
}

export function configparserDump(file: string): ConfigparserDump {
  return JSON.parse(readFileSync(fixturePath('runfiles', file), 'utf8')) as ConfigparserDump;
}
