#!/bin/bash
# Pool corruption: a mirror keeps a file readable through faults injected with zinject(8), the
# faults are counted, and a scrub repairs real on-disk damage.
#   1. device fault: `zinject -d <side> -e io -T read` on one side (a device fault takes io, nxio
#      and, from 2.2, corrupt; checksum is a data fault); the file still reads with its original
#      sha256, and that side's READ count in `zpool status -p` and the ereport.fs.zfs.io events in
#      `zpool events` both grow;
#   2. data fault: `zinject -t data -e io` on a second file; data faults hit the logical block,
#      above the mirror, so the read must fail and `zpool status -v` must name the file; once the
#      handler is cleared it reads again (nothing on disk was damaged);
#   3. on-disk damage: one side is overwritten (labels kept) while exported; `zpool scrub -w`
#      must report repaired bytes and the file must keep its sha256.
# Twin (run as pool-corruption-twin.sh, or TWIN=1): the faults hit BOTH sides, so there is no good
# copy left and the recipe must FAIL.
# Needs: root, two spare disks of at least 512 MiB in DISKS, the zfs module.
set -euo pipefail
twin=0
[[ $(basename "$0") == *twin* || ${TWIN:-0} == 1 ]] && twin=1
fail() { echo "FAIL: $*"; exit 1; }
read -r -a disks <<<"${DISKS:?DISKS must name at least two disks}"
(( ${#disks[@]} >= 2 )) || { echo "need two disks, got ${#disks[@]}"; exit 2; }
pool=labcorrupt
bad=${disks[1]}
zpool create -f -O compression=off "$pool" mirror "${disks[0]}" "${disks[1]}"
trap 'zinject -c all >/dev/null 2>&1 || true; zpool destroy -f "$pool" 2>/dev/null || true' EXIT
zpool events -c >/dev/null
dd if=/dev/urandom of="/$pool/data" bs=1M count=64 status=none
want=$(sha256sum "/$pool/data" | cut -d' ' -f1)
dd if=/dev/urandom of="/$pool/small" bs=128k count=8 status=none
# Export and import so the reads below come from the disks, not the ARC.
zpool export "$pool" && zpool import "$pool"

echo "== 1. device fault: io errors on every read from $bad"
zinject -d "$bad" -e io -T read -f 100 "$pool"
(( twin )) && zinject -d "${disks[0]}" -e io -T read -f 100 "$pool"
got=$(sha256sum "/$pool/data" 2>&1 | cut -d' ' -f1) || true
zinject -c all >/dev/null
[[ "$got" == "$want" ]] || fail "file did not read back intact under a one-sided device fault ($got)"
reads=$(zpool status -p "$pool" | awk -v d="$(basename "$bad")" '$1 == d { print $3 }')
events=$(zpool events "$pool" | grep -c 'ereport.fs.zfs.io' || true)
echo "READ errors on $(basename "$bad"): $reads; io ereports: $events"
(( reads > 0 )) || fail "zpool status counted no read errors on $bad"
(( events > 0 )) || fail "zpool events shows no ereport.fs.zfs.io"

echo "== 2. data fault: io errors on the blocks of one file"
zinject -t data -e io -f 100 "/$pool/small"
if cat "/$pool/small" >/dev/null 2>&1; then fail "a data fault was injected but the file read without error"; fi
zinject -c all >/dev/null
zpool status -v "$pool" | grep -q "/$pool/small" || fail "zpool status -v does not list /$pool/small among the data errors"
cat "/$pool/small" >/dev/null || fail "the file does not read after the data fault was cleared"

echo "== 3. on-disk damage on one side, repaired by scrub"
# The read errors of step 1 start a resilver of that side; the pool is busy until it ends.
zpool wait "$pool" || true
zpool export "$pool"
damage() {
  local size_mib
  size_mib=$(( $(blockdev --getsize64 "$1") / 1048576 ))
  # Past the two front labels (512 KiB) and short of the two back ones.
  dd if=/dev/zero of="$1" bs=1M seek=4 count=$(( size_mib - 8 )) conv=notrunc status=none
}
damage "$bad"
(( twin )) && damage "${disks[0]}"
zpool import "$pool" || fail "pool does not import after the damage"
# A resilver may resume at import, and a deferred one start after it; a scrub asked for meanwhile
# is refused ("currently resilvering"), so wait and ask again.
for _ in $(seq 1 30); do
  zpool wait -t resilver "$pool"
  zpool scrub -w "$pool" && break
  sleep 2
done
zpool status -v "$pool"
scan=$(zpool status "$pool" | grep 'scan:')
[[ "$scan" =~ repaired\ ([0-9.]+[A-Z]?) ]] || fail "no scrub line: $scan"
[[ ${BASH_REMATCH[1]} != 0 && ${BASH_REMATCH[1]} != 0B ]] || fail "scrub repaired nothing: $scan"
got=$(sha256sum "/$pool/data" 2>&1 | cut -d' ' -f1) || true
[[ "$got" == "$want" ]] || fail "data changed after scrub: $want != $got"
echo "PASS: file intact under device faults, data fault seen and listed, scrub repaired ${BASH_REMATCH[1]}"
