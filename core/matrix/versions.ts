/**
 * Version handling for the diagnosis: OpenZFS versions as distros spell them (`2.3.2-1~bpo12+1`,
 * `zfs-2.4.1`, `2.2.9-1.el9`, `2.3`) and kernel series (`6.12.x`, `5.14.0-570.el9.x86_64` → `5.14`).
 */

export type VersionTriple = readonly [number, number, number];

/** The first `major.minor[.patch]` in the text; a missing patch counts as 0. Undefined when there is none. */
export function parseOpenzfsVersion(text: string): VersionTriple | undefined {
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) return undefined;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

export function compareVersions(a: VersionTriple, b: VersionTriple): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** `major.minor` of a kernel release string; undefined when there is none. */
export function kernelSeries(kernel: string): string | undefined {
  const match = /(\d+)\.(\d+)/.exec(kernel);
  return match ? `${match[1]}.${match[2]}` : undefined;
}
