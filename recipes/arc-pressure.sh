#!/bin/bash
# ARC pressure: the ARC caches what was read, gives memory back when the system needs it, and
# fills again afterwards, without I/O errors or hangs. Sizes come from this VM's RAM and the
# ARC's own c_max, never from fixed GiB:
#   - a file of min(c_max / 2, MemTotal / 4) is written, the ARC dropped (export/import), the file
#     read twice; the second read's hit ratio, from the deltas of `hits` and `misses` in
#     /proc/spl/kstat/zfs/arcstats (the kstat arcstat's `hit%` is computed from), must be >= 90%;
#   - a process then takes MemAvailable plus half the ARC's size (touching every page: the ARC is
#     not counted as available, so only its shrinking can feed this); the ARC `size` must fall
#     below 75% of what it was, within 120 s;
#   - the memory is freed, the file read again (under a timeout: a hang fails) with its sha256,
#     and the ARC must have grown again.
# Twin (arc-pressure-twin.sh, or TWIN=1): the dataset caches metadata only (primarycache=metadata),
# so the hit ratio must FAIL.
# Needs: root, spare disks in DISKS holding the file, python3 (for the memory squeeze), the zfs module.
set -euo pipefail
twin=0
[[ $(basename "$0") == *twin* || ${TWIN:-0} == 1 ]] && twin=1
fail() { echo "FAIL: $*"; exit 1; }
read -r -a disks <<<"${DISKS:?DISKS must name a disk}"
kstat=/proc/spl/kstat/zfs/arcstats
arc() { awk -v k="$1" '$1 == k { print $3 }' "$kstat"; }
meminfo() { awk -v k="$1:" '$1 == k { print $2 * 1024 }' /proc/meminfo; }
pool=labarc
zpool create -f -O compression=off -O primarycache=$( ((twin)) && echo metadata || echo all) "$pool" "${disks[@]}"
trap 'kill "${squeeze:-}" 2>/dev/null || true; zpool destroy -f "$pool" 2>/dev/null || true' EXIT
c_max=$(arc c_max) total=$(meminfo MemTotal)
size_mib=$(( (c_max / 2 < total / 4 ? c_max / 2 : total / 4) / 1048576 ))
echo "RAM $((total / 1048576)) MiB, ARC c_max $((c_max / 1048576)) MiB: file of $size_mib MiB"
dd if=/dev/urandom of="/$pool/file" bs=1M count="$size_mib" status=none
want=$(sha256sum "/$pool/file" | cut -d' ' -f1)
zpool export "$pool" && zpool import "$pool"
timeout 300 cat "/$pool/file" >/dev/null
h0=$(arc hits) m0=$(arc misses)
timeout 300 cat "/$pool/file" >/dev/null
h1=$(arc hits) m1=$(arc misses)
hits=$(( h1 - h0 )) misses=$(( m1 - m0 ))
pct=$(( 100 * hits / (hits + misses > 0 ? hits + misses : 1) ))
arcstat -f time,read,hit%,miss%,size,c 1 1 2>/dev/null || true
echo "second read: $hits hits, $misses misses ($pct%)"
(( pct >= 90 )) || fail "second read hit ratio $pct% < 90%"

before=$(arc size)
squeeze_bytes=$(( $(meminfo MemAvailable) + before / 2 ))
python3 -c '
import mmap, sys, time
n = int(sys.argv[1]); m = mmap.mmap(-1, n)
for i in range(0, n, 4096): m[i] = 1
print("holding", n >> 20, "MiB", flush=True); time.sleep(600)' "$squeeze_bytes" &
squeeze=$!
low=$before
for _ in $(seq 1 120); do
  low=$(arc size)
  (( low * 100 < before * 75 )) && break
  sleep 1
done
echo "ARC size $((before / 1048576)) MiB before the squeeze, $((low / 1048576)) MiB under it"
(( low * 100 < before * 75 )) || fail "the ARC did not shrink under memory pressure"
kill "$squeeze"; wait "$squeeze" 2>/dev/null || true
got=$(timeout 300 sha256sum "/$pool/file" | cut -d' ' -f1) || fail "re-read failed or hung"
[[ $got == "$want" ]] || fail "file changed: $want != $got"
after=$(arc size)
echo "ARC size $((after / 1048576)) MiB after re-reading"
(( after > low )) || fail "the ARC did not grow again"
zpool status -x "$pool" | grep -q healthy || { zpool status -v "$pool"; fail "pool not healthy"; }
echo "PASS: hit ratio $pct%, ARC $((before >> 20)) -> $((low >> 20)) -> $((after >> 20)) MiB"
