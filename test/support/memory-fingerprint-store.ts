import type { FingerprintArtifactStore } from '../../activities/fingerprint/runs.js';

/** The fingerprint activities' artifact store in memory: what they upload, by key. */
export function memoryStore(): FingerprintArtifactStore & { objects: Map<string, Buffer> } {
  const objects = new Map<string, Buffer>();
  return {
    objects,
    upload: async (key, body) => {
      objects.set(key, Buffer.from(body));
      return `s3://zfslab-artifacts/${key}`;
    },
    download: async (key) => objects.get(key),
  };
}
