#!/bin/bash
# Encryption round-trip: data written to an encrypted dataset is out of reach once its key is
# unloaded, and back, bit for bit, once it is reloaded; a raw send (`zfs send -w`) carries only
# ciphertext, and what it lands on another pool stays locked without the key.
#   - after unmount + `zfs unload-key` the dataset still exists and still holds the data
#     (referenced >= what was written), its keystatus is `unavailable`, `zfs mount` and a
#     non-raw `zfs send` are refused: checked on the dataset, not on a path that is simply gone;
#   - reload + mount: every file has its sha256 again;
#   - the raw stream does not contain a plaintext marker the non-raw stream does contain; the
#     received copy on a second pool is encrypted, `unavailable`, refuses to mount, and opens with
#     the same key and the same sha256.
# Twin (encryption-roundtrip-twin.sh, or TWIN=1): the key unload is skipped, so the "locked"
# checks must FAIL.
# Needs: root, two spare disks in DISKS, the zfs module.
set -euo pipefail
twin=0
[[ $(basename "$0") == *twin* || ${TWIN:-0} == 1 ]] && twin=1
fail() { echo "FAIL: $*"; exit 1; }
read -r -a disks <<<"${DISKS:?DISKS must name at least two disks}"
(( ${#disks[@]} >= 2 )) || { echo "need two disks, got ${#disks[@]}"; exit 2; }
src=labcrypt dst=labcrypt2
work=$(mktemp -d)
trap 'zpool destroy -f "$src" 2>/dev/null || true; zpool destroy -f "$dst" 2>/dev/null || true; rm -rf "$work"' EXIT
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/key"
zpool create -f -O compression=off "$src" "${disks[0]}"
zpool create -f "$dst" "${disks[1]}"
zfs create -o encryption=on -o keyformat=passphrase -o keylocation="file://$work/key" "$src/secret"
marker="zfslab-plaintext-marker-$RANDOM$RANDOM"
dd if=/dev/urandom of="/$src/secret/random" bs=1M count=32 status=none
yes "$marker" | head -c 4M >"/$src/secret/text"
(cd "/$src/secret" && sha256sum random text) >"$work/sums"
zfs snapshot "$src/secret@s1"
written=$(du -sb "/$src/secret" | cut -f1)

zfs unmount "$src/secret"
(( twin )) || zfs unload-key "$src/secret"
zfs list "$src/secret" >/dev/null || fail "the dataset vanished"
status=$(zfs get -H -o value keystatus "$src/secret")
[[ $status == unavailable ]] || fail "keystatus is '$status' after unload-key, want unavailable"
ref=$(zfs get -Hp -o value referenced "$src/secret")
(( ref >= written )) || fail "referenced $ref < $written written: the data is not there to protect"
if zfs mount "$src/secret" 2>/dev/null; then fail "mounted without its key"; fi
if zfs send "$src/secret@s1" >/dev/null 2>&1; then fail "a non-raw send worked without the key"; fi
echo "locked: keystatus $status, referenced $ref bytes, mount and send refused"

zfs load-key "$src/secret"
zfs mount "$src/secret"
(cd "/$src/secret" && sha256sum -c --quiet "$work/sums") || fail "checksums differ after reload"

zfs send "$src/secret@s1" | grep -c -a "$marker" >"$work/plain-hits" || true
zfs send -w "$src/secret@s1" >"$work/raw.stream"
raw_hits=$(grep -c -a "$marker" "$work/raw.stream" || true)
(( $(cat "$work/plain-hits") > 0 )) || fail "the marker is not in the non-raw stream either: the check proves nothing"
(( raw_hits == 0 )) || fail "the raw stream contains plaintext ($raw_hits hits)"
zfs receive "$dst/copy" <"$work/raw.stream"
[[ $(zfs get -H -o value encryption "$dst/copy") != off ]] || fail "the received copy is not encrypted"
[[ $(zfs get -H -o value keystatus "$dst/copy") == unavailable ]] || fail "the received copy is not locked"
if zfs mount "$dst/copy" 2>/dev/null; then fail "the received copy mounted without its key"; fi
zfs load-key -L "file://$work/key" "$dst/copy"
zfs mount "$dst/copy"
(cd "/$dst/copy" && sha256sum -c --quiet "$work/sums") || fail "the received copy differs"
echo "PASS: locked without the key, intact with it; raw send carried ciphertext only"
