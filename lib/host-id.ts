import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveHostId, type LoadedConfig } from './config.js';

/**
 * The host id is stable across restarts: config (or ZFSLAB_HOST_ID) wins; otherwise the id derived
 * from the hostname the first time is kept in the state dir, so a later rename of the machine does
 * not orphan its task queue, goldens or history.
 */
export function resolveHostId(loaded: LoadedConfig): string {
  if (loaded.config.host.id) return loaded.config.host.id;
  const file = join(loaded.paths.stateDir, 'host-id');
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept) return kept;
  }
  const id = deriveHostId();
  mkdirSync(loaded.paths.stateDir, { recursive: true });
  writeFileSync(file, id + '\n');
  return id;
}
