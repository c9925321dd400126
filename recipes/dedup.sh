#!/bin/bash
# Dedup: blocks that really are duplicates are stored once. One 4 MiB chunk of random data is
# written into 16 files (64 MiB logical, record-aligned so every 128 KiB block repeats), and
#   - the pool's dedupratio property is 16x within 10%;
#   - the DDT holds about one entry per unique block (32, within 50%), read from the
#     "DDT entries N" line of `zpool status -D`, which OpenZFS 2.0 through 2.4 print alike
#     (the histogram below it changed with fast dedup in 2.3, so it is not parsed).
# Twin (dedup-twin.sh, or TWIN=1): each file gets its own random data, so the ratio must FAIL.
# Needs: root, one spare disk in DISKS, the zfs module.
set -euo pipefail
twin=0
[[ $(basename "$0") == *twin* || ${TWIN:-0} == 1 ]] && twin=1
fail() { echo "FAIL: $*"; exit 1; }
read -r -a disks <<<"${DISKS:?DISKS must name a disk}"
pool=labdedup copies=16 chunk_mib=4 record_kib=128
zpool create -f -O dedup=on -O compression=off -O recordsize=${record_kib}k "$pool" "${disks[0]}"
trap 'zpool destroy -f "$pool" 2>/dev/null || true; rm -f /tmp/labdedup-chunk' EXIT
dd if=/dev/urandom of=/tmp/labdedup-chunk bs=1M count=$chunk_mib status=none
for i in $(seq 1 $copies); do
  if (( twin )); then dd if=/dev/urandom of="/$pool/copy$i" bs=1M count=$chunk_mib status=none
  else cp /tmp/labdedup-chunk "/$pool/copy$i"; fi
done
zpool sync "$pool"
zpool status -D "$pool"
ratio=$(zpool get -H -o value dedupratio "$pool")
ratio=${ratio%x}
entries=$(zpool status -D "$pool" | sed -n 's/.*DDT entries \([0-9][0-9]*\).*/\1/p' | head -n1)
[[ -n $entries ]] || fail "no 'DDT entries' line in zpool status -D"
unique=$(( chunk_mib * 1024 / record_kib ))
echo "dedupratio ${ratio}x (want ${copies}x), DDT entries $entries (want about $unique)"
awk -v r="$ratio" -v w="$copies" 'BEGIN { exit !(r >= w * 0.9 && r <= w * 1.1) }' || fail "dedupratio ${ratio}x is not ${copies}x within 10%"
(( entries * 2 >= unique * 1 && entries <= unique * 3 / 2 )) || fail "DDT has $entries entries for $unique unique blocks"
echo "PASS: ${copies} copies stored once (ratio ${ratio}x, $entries DDT entries)"
