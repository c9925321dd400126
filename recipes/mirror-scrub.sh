#!/bin/bash
# A mirror really masks a damaged side: write data, corrupt one side of the mirror, scrub, and
# expect the scrub to repair it with no data errors. It must be a mirror (a striped pool has no
# second copy to repair from), and "errors: No known data errors" is the healthy line of
# `zpool status -v`, not a failure.
# Runs as root in a fresh clone; DISKS lists the clone's spare virtio disks.
set -euo pipefail
read -r -a disks <<<"${DISKS:?DISKS must name at least two disks}"
(( ${#disks[@]} >= 2 )) || { echo "need two disks, got ${#disks[@]}"; exit 2; }
pool=labmirror
zpool create -f "$pool" mirror "${disks[0]}" "${disks[1]}"
trap 'zpool destroy -f "$pool" 2>/dev/null || true' EXIT
dd if=/dev/urandom of="/$pool/data" bs=1M count=64 status=none
sum_before=$(sha256sum "/$pool/data" | cut -d' ' -f1)
zpool export "$pool"
# Overwrite a span of one side in the middle of the device (past the front labels).
dd if=/dev/zero of="${disks[1]}" bs=1M seek=100 count=200 conv=notrunc status=none
zpool import "$pool"
zpool scrub -w "$pool"
zpool status -v "$pool"
sum_after=$(sha256sum "/$pool/data" | cut -d' ' -f1)
[[ "$sum_before" == "$sum_after" ]] || { echo "data changed: $sum_before != $sum_after"; exit 1; }
zpool status -v "$pool" | grep -q 'errors: No known data errors' || { echo "pool reports data errors"; exit 1; }
echo "mirror repaired the damaged side; data intact"
