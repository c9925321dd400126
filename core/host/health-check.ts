/**
 * What a health check runs in a clone of one of the host's goldens: ZFS as a test would use it —
 * a file-backed pool created, written, scrubbed, found healthy and destroyed. A clone that does not
 * boot, or a guest whose ZFS does not work, fails the host.
 */
export const CLONE_SMOKE_SCRIPT = `set -eu
modprobe zfs 2>/dev/null || true
truncate -s 256M /var/tmp/zfslab-smoke.img
zpool create -f zfslab-smoke /var/tmp/zfslab-smoke.img
dd if=/dev/urandom of=/zfslab-smoke/data bs=1M count=16 status=none
sync
zpool scrub -w zfslab-smoke
zpool status -x zfslab-smoke | grep -q 'is healthy'
zpool destroy zfslab-smoke
rm -f /var/tmp/zfslab-smoke.img
echo zfslab-smoke-ok
`;

/** One line for the health record: which parts of the check ran and how they ended. */
export function healthCheckWhy(parts: readonly { name: string; passed: boolean; detail: string }[]): string {
  const failed = parts.filter((p) => !p.passed);
  if (failed.length === 0) return `health check passed: ${parts.map((p) => p.name).join(', ')}`;
  return `health check failed: ${failed.map((p) => `${p.name} (${p.detail})`).join('; ')}`;
}
