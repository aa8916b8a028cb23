#!/usr/bin/env bash
# live_lo_test.sh PROBE - live capture on the loopback interface.
#
# Starts the probe on lo with a snaplen, without promiscuous mode and with a
# BPF filter for one UDP port, exchanges 5 request/reply datagram pairs with
# a local echo server (traffic stays on 127.0.0.1), stops the probe with
# SIGTERM and expects exactly one flow of 5 + 5 packets, sized by the kernel:
# each frame is 14 (Ethernet) + 20 (IPv4) + 8 (UDP) + payload bytes.
set -uo pipefail
probe=${1:?usage: live_lo_test.sh PROBE}
if [ "$(id -u)" -ne 0 ]; then
	echo "live capture needs root: skipped"
	exit 77
fi
tmp=$(mktemp -d)
port=$((40000 + RANDOM % 20000))
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

"$probe" -i lo --snaplen 128 --no-promisc --bpf "udp port $port" \
	--csv "$tmp/live.csv" 2>"$tmp/err" &
pid=$!
# Send only once the capture is open: a packet socket of the probe's in
# /proc/net/packet (a fixed sleep raced a slow start on a loaded machine),
# then a moment for the filter and the ring.
for _ in $(seq 100); do
	inodes=$(find /proc/$pid/fd -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n')
	[ -n "$inodes" ] && awk 'NR > 1 { print $NF }' /proc/net/packet | grep -qxF "$inodes" && break
	sleep 0.1
done
sleep 0.5
python3 - "$port" <<'EOF'
import socket, sys, threading
port = int(sys.argv[1])
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind(("127.0.0.1", port))
def echo():
    for _ in range(5):
        data, peer = srv.recvfrom(2048)
        srv.sendto(data.upper(), peer)
t = threading.Thread(target=echo)
t.start()
cli = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
cli.settimeout(5)
for i in range(5):
    cli.sendto(b"streamprobe live test %d" % i, ("127.0.0.1", port))
    cli.recvfrom(2048)
t.join()
EOF
sleep 0.5
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
if [ "$rc" -ne 0 ]; then
	echo "FAIL: probe exit $rc: $(cat "$tmp/err")"
	echo "0 passed, 1 failed"
	exit 1
fi
# "streamprobe live test N" is 23 bytes: 14 + 20 + 8 + 23 = 65 bytes a frame.
if python3 - "$tmp/live.csv" "$port" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), escapechar="\\"))
port = sys.argv[2]
assert len(rows) == 1, f"{len(rows)} flows"
r = rows[0]
assert r["dst_port"] == port and r["protocol"] == "17", r
assert (r["src2dst_packets"], r["dst2src_packets"]) == ("5", "5"), r
assert (r["src2dst_bytes"], r["dst2src_bytes"]) == ("325", "325"), r
assert r["src_ip"] == r["dst_ip"] == "127.0.0.1", r
EOF
then
	echo "1 passed, 0 failed"
else
	echo "FAIL: unexpected flows: $(cat "$tmp/live.csv")"
	echo "0 passed, 1 failed"
	exit 1
fi
