import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { GoldenBootSchema, GoldenManifestSchema, GoldenSshSchema, type GoldenManifest } from '../../core/vm/manifest.js';

/** What a clone needs from a golden: where it is, how it boots, how it is reached. Serialisable. */
export const GoldenRefSchema = z.object({
  name: z.string(),
  dir: z.string(),
  boot: GoldenBootSchema,
  ssh: GoldenSshSchema,
});
export type GoldenRef = z.infer<typeof GoldenRefSchema>;

export function goldenRefFromManifest(dir: string, manifest: GoldenManifest): GoldenRef {
  return { name: manifest.name, dir, boot: manifest.boot, ssh: manifest.ssh };
}

export function loadGoldenManifest(dir: string): GoldenManifest {
  return GoldenManifestSchema.parse(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
}

export function loadGoldenRef(dir: string): GoldenRef {
  return goldenRefFromManifest(dir, loadGoldenManifest(dir));
}
