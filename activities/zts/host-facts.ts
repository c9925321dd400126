import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import type { FlavorMeta } from '../../core/matrix/matrix.js';

/** The native target's flavor facts: this host's OS release and running kernel, and its suite's OpenZFS. */
export function nativeFlavorMeta(flavorId: string, openzfsVersion: string, osReleasePath = '/etc/os-release'): FlavorMeta {
  let text = '';
  try {
    text = readFileSync(osReleasePath, 'utf8');
  } catch {
    // not every system has it; the facts below say unknown
  }
  const field = (name: string): string | undefined => new RegExp(`^${name}="?([^"\\n]*)"?`, 'm').exec(text)?.[1]?.trim() || undefined;
  return {
    id: flavorId,
    os: field('ID') ?? 'unknown',
    release: field('VERSION_ID') ?? field('VERSION_CODENAME') ?? 'unknown',
    kernel: release(),
    openzfsVersion,
  };
}
