import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../../lib/paths.js';

export const fixtureDir = join(projectRoot, 'test', 'fixtures', 'fingerprint');

export function fixture(...parts: string[]): string {
  return readFileSync(join(fixtureDir, ...parts), 'utf8');
}
