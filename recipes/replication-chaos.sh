#!/bin/bash
# Replication chaos: `zfs send | zfs receive -s` over TCP between two network namespaces joined by a
# veth pair with `tc netem` delay and loss on it (a real lossy link, not a pipe on lo), the
# connection cut mid-stream, then `zfs send -t <receive_resume_token>` finishing the transfer:
#   - the first send must be seen to fail (its exit status is taken from PIPESTATUS with errexit
#     off around the pipeline, so `set -e` neither hides the failure nor aborts before the check);
#   - the receiver must hold a resume token; the resumed transfer must succeed;
#   - the received snapshot must have the sender's guid and every file the same sha256.
# While the transfer runs, `ss -tin` in the sending namespace is sampled every second (cwnd, rtt,
# retransmits, bytes acked) with the qdisc's drop counter; the timeline is printed at the end.
# Twin (replication-chaos-twin.sh, or TWIN=1): the partial receive is aborted (`zfs receive -A`)
# instead of resumed, so there is no token and the recipe must FAIL.
# Needs: root, two spare disks in DISKS, iproute2 with tc and the sch_netem module, python3 (the TCP
# ends), the zfs module.
set -euo pipefail
twin=0
[[ $(basename "$0") == *twin* || ${TWIN:-0} == 1 ]] && twin=1
fail() { echo "FAIL: $*"; exit 1; }
read -r -a disks <<<"${DISKS:?DISKS must name at least two disks}"
(( ${#disks[@]} >= 2 )) || { echo "need two disks, got ${#disks[@]}"; exit 2; }
src=labsend dst=labrecv port=9777 addr=10.77.0.2 size_mib=48
work=$(mktemp -d)
cleanup() {
  kill "${sampler:-}" 2>/dev/null || true
  ip netns pids nsend 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns pids nrecv 2>/dev/null | xargs -r kill -9 2>/dev/null || true
  ip netns del nsend 2>/dev/null || true
  ip netns del nrecv 2>/dev/null || true
  zpool destroy -f "$src" 2>/dev/null || true
  zpool destroy -f "$dst" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
modprobe sch_netem
ip netns add nsend && ip netns add nrecv
ip link add vsend type veth peer name vrecv
ip link set vsend netns nsend && ip link set vrecv netns nrecv
ip -n nsend addr add 10.77.0.1/24 dev vsend && ip -n nrecv addr add $addr/24 dev vrecv
for ns in nsend nrecv; do ip -n $ns link set lo up; done
ip -n nsend link set vsend up && ip -n nrecv link set vrecv up
netem="delay 20ms 5ms loss 1%"
ip netns exec nsend tc qdisc add dev vsend root netem $netem
ip netns exec nrecv tc qdisc add dev vrecv root netem delay 20ms 5ms

# The TCP ends: the listener copies one connection to stdout and keeps a byte count in a file.
cat >"$work/listen.py" <<'PY'
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1); c, _ = s.accept(); n = 0
while True:
    b = c.recv(1 << 16)
    if not b: break
    sys.stdout.buffer.write(b); n += len(b)
    open(sys.argv[3], "w").write(str(n))
sys.stdout.buffer.flush()
PY
cat >"$work/send.py" <<'PY'
import socket, sys, time
for _ in range(100):
    try: c = socket.create_connection((sys.argv[1], int(sys.argv[2]))); break
    except OSError: time.sleep(0.1)
else: sys.exit("cannot connect")
while True:
    b = sys.stdin.buffer.read(1 << 16)
    if not b: break
    c.sendall(b)
c.shutdown(socket.SHUT_WR); c.recv(1)
PY
receive() { ip netns exec nrecv python3 "$work/listen.py" $addr $port "$work/received" | zfs receive -s "$dst/copy"; }
send_to() { ip netns exec nsend python3 "$work/send.py" $addr $port; }

zpool create -f -O compression=off "$src" "${disks[0]}"
zpool create -f "$dst" "${disks[1]}"
zfs create "$src/data"
dd if=/dev/urandom of="/$src/data/a" bs=1M count=$size_mib status=none
dd if=/dev/urandom of="/$src/data/b" bs=1M count=4 status=none
(cd "/$src/data" && sha256sum a b) >"$work/sums"
zfs snapshot "$src/data@s1"
total=$(zfs send -nP "$src/data@s1" | awk '$1 == "size" { print $2 }')
echo "stream of $total bytes over veth with netem '$netem'"

( while true; do
    echo "t=$(date +%s) $(ip netns exec nsend tc -s qdisc show dev vsend | grep -o 'dropped [0-9]*')"
    ip netns exec nsend ss -tinH dst $addr | tr -s ' \t' ' '
    sleep 1
  done >"$work/ss-timeline.txt" 2>&1 ) &
sampler=$!

echo "== first transfer, cut at a third"
echo 0 >"$work/received"
set +e
receive & recv_pid=$!
zfs send "$src/data@s1" | send_to & send_pid=$!
set -e
for _ in $(seq 1 600); do
  (( $(cat "$work/received") * 3 >= total )) && break
  sleep 0.2
done
echo "cutting the link at $(cat "$work/received") bytes received"
ip netns exec nsend tc qdisc change dev vsend root netem loss 100%
ip netns pids nsend | xargs -r kill -9
ip netns pids nrecv | xargs -r kill -9
set +e
wait $send_pid; send_rc=$?
wait $recv_pid; recv_rc=$?
set -e
echo "first send exit $send_rc, receive exit $recv_rc"
(( send_rc != 0 )) || fail "the cut send reported success"
(( recv_rc != 0 )) || fail "the cut receive reported success"

(( twin )) && zfs receive -A "$dst/copy"
token=$(zfs get -H -o value receive_resume_token "$dst/copy" 2>/dev/null || echo -)
[[ -n $token && $token != - ]] || fail "no resume token on $dst/copy after the cut"
echo "== resumed transfer from token ${token:0:24}…"
ip netns exec nsend tc qdisc change dev vsend root netem $netem
echo 0 >"$work/received"
set +e
receive & recv_pid=$!
zfs send -t "$token" | send_to
send_status=("${PIPESTATUS[@]}")
wait $recv_pid; recv_rc=$?
set -e
echo "resumed send exit ${send_status[*]}, receive exit $recv_rc"
[[ ${send_status[*]} == "0 0" ]] || fail "the resumed send failed"
(( recv_rc == 0 )) || fail "the resumed receive failed"
kill $sampler 2>/dev/null || true

[[ $(zfs get -H -o value guid "$src/data@s1") == $(zfs get -H -o value guid "$dst/copy@s1") ]] || fail "snapshot guids differ"
zfs mount "$dst/copy" 2>/dev/null || true
(cd "$(zfs get -H -o value mountpoint "$dst/copy")" && sha256sum -c --quiet "$work/sums") || fail "received files differ"
echo "== TCP timeline (ss -tin in the sending namespace, one sample a second)"
cat "$work/ss-timeline.txt"
echo "PASS: cut at a third, resumed from the token, identical snapshot and files"
