#!/usr/bin/env bash
# service_test.sh PROBE MAKE_DEMO_PCAP - the probe as a service (root: live
# capture on lo, traffic to 127.0.0.1 only, filtered to the test's UDP port).
#
#  - -D: the parent exits 0 once the daemon is ready; a start-up error (an
#    unknown interface) is printed by the parent and is its exit status 2.
#  - the pid file holds the daemon's pid, is locked (a second daemon on it is
#    refused) and is removed at exit.
#  - SIGHUP: CSV, JSON and IPFIX files renamed away are reopened by name; the
#    new CSV starts with its header, the new IPFIX file with its templates
#    (ipfixDump decodes it alone).
#  - SIGUSR1 logs the counters; --stats-interval logs status lines.
#  - in the background every message goes to syslog (facility daemon).
#  - Wall-clock active timeout: a flow that keeps sending is cut every
#    --active-timeout seconds while it runs (expiration_id 1); with no packet
#    after that, the last piece ends by idle timeout on the wall clock.
#  - 20000 flows idle at once on a quiet link: all exported, none dropped.
#  - SIGINT: every flow flushed, exit 0; SIGTERM with the TCP collector down:
#    exit 0 after the bounded drain (at most 5 s), the records counted dropped.
set -uo pipefail
probe=${1:?usage: service_test.sh PROBE MAKE_DEMO_PCAP}
if [ "$(id -u)" -ne 0 ]; then
	echo "live capture needs root: skipped"
	exit 77
fi
tmp=$(mktemp -d)
port=$((20000 + RANDOM % 15000))
pass=0 fail=0
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	[ -s "$tmp/d.pid" ] && kill "$(cat "$tmp/d.pid")" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

# send N DELAY: N datagrams to the test port, DELAY seconds apart.
send() {
	python3 - "$port" "$1" "$2" <<'PY'
import socket, sys, time
port, n, delay = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    s.sendto(b"service test %d" % i, ("127.0.0.1", port))
    time.sleep(delay)
PY
}
# wait_for FILE PATTERN SECONDS
wait_for() {
	local i
	for ((i = 0; i < $3 * 10; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
rows() { [ -f "$1" ] && echo $(($(wc -l <"$1") - 1)) || echo 0; }

# ---- daemon start-up -------------------------------------------------------
timeout 20 "$probe" -D -i nosuchif0 --csv "$tmp/x.csv" 2>"$tmp/bad.err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q "unknown interface nosuchif0" "$tmp/bad.err"; then ok; else
	bad "daemon-bad-interface: exit $rc, stderr: $(head -c 300 "$tmp/bad.err")"; fi

timeout 20 "$probe" -D -i lo --bpf "udp port $port" --pidfile "$tmp/d.pid" \
	--idle-timeout 1 --csv "$tmp/d.csv" --json "$tmp/d.json" \
	--export "ipfix+file://$tmp/d.ipfix" 2>"$tmp/d.err"
rc=$?
dpid=$(cat "$tmp/d.pid" 2>/dev/null)
if [ "$rc" -eq 0 ] && [ -n "$dpid" ] && [ -d "/proc/$dpid" ] &&
	grep -q streamprobe "/proc/$dpid/cmdline" && [ ! -s "$tmp/d.err" ]; then ok; else
	bad "daemon-start: exit $rc, pid '$dpid', stderr: $(head -c 300 "$tmp/d.err")"; fi
if [ -n "$dpid" ] && [ "$(readlink "/proc/$dpid/cwd")" = / ] &&
	[ "$(awk '{print $6}' "/proc/$dpid/stat")" = "$dpid" ]; then ok; else
	bad "daemon-detached: not in its own session with cwd /"; fi

timeout 20 "$probe" -D -i lo --pidfile "$tmp/d.pid" --csv "$tmp/y.csv" 2>"$tmp/second.err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q "already runs (pid $dpid)" "$tmp/second.err"; then ok; else
	bad "pidfile-lock: second daemon exit $rc: $(head -c 300 "$tmp/second.err")"; fi

# ---- SIGHUP: reopen by name -------------------------------------------------
send 3 0.05
if wait_for "$tmp/d.csv" "$port" 5; then ok; else bad "daemon-flows: no flow in the CSV"; fi
sleep 1.2	# the IPFIX file is written as messages fill or go idle
mv "$tmp/d.csv" "$tmp/d.csv.1"
mv "$tmp/d.json" "$tmp/d.json.1"
mv "$tmp/d.ipfix" "$tmp/d.ipfix.1"
kill -HUP "$dpid"
sleep 0.5
port_before=$port
send 2 0.05
if wait_for "$tmp/d.csv" "$port" 5 && [ "$(head -1 "$tmp/d.csv" | cut -d, -f1-2)" = "id,expiration_id" ] &&
	[ "$(rows "$tmp/d.csv")" -ge 1 ] && [ "$(rows "$tmp/d.csv.1")" -ge 1 ]; then ok; else
	bad "sighup-csv: new file $(head -c 200 "$tmp/d.csv" 2>&1)"; fi
if [ -s "$tmp/d.json" ] && [ -s "$tmp/d.json.1" ] && python3 -c '
import json, sys
for f in sys.argv[1:]:
    [json.loads(l) for l in open(f)]' "$tmp/d.json" "$tmp/d.json.1"; then ok; else
	bad "sighup-json: both files must hold JSON lines"; fi

kill -TERM "$dpid"
for ((i = 0; i < 100; i++)); do [ -d "/proc/$dpid" ] || break; sleep 0.1; done
if [ ! -d "/proc/$dpid" ] && [ ! -e "$tmp/d.pid" ]; then ok; else
	bad "daemon-stop: still running or pid file left"; fi
for f in "$tmp/d.ipfix.1" "$tmp/d.ipfix"; do
	out=$(timeout 60 ipfixDump --in "$f" --rfc5610 2>&1)
	if [ $? -eq 0 ] && grep -q "template record" <<<"$out" &&
		grep -q "sourceTransportPort" <<<"$out" && grep -qE "destinationTransportPort *: *$port_before" <<<"$out"; then ok; else
		bad "sighup-ipfix: $f does not decode alone with its flows: $(tail -c 300 <<<"$out")"; fi
done

# ---- syslog in the background ----------------------------------------------
# In a private mount namespace with its own /dev (a tmpfs holding /dev/null and
# a /dev/log socket this test listens on), so nothing of the host's logging is
# touched: the daemon's messages must arrive there as facility daemon (<30> is
# daemon.info), and nothing on the terminal.
cat >"$tmp/syslog_ns.sh" <<'NS'
set -u
probe=$1 dir=$2 port=$3
mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 || exit 3
python3 - "$dir/syslog.txt" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open(sys.argv[1] + ".ready", "w").close()
with open(sys.argv[1], "a") as out:
    while True:
        out.write(s.recv(65536).decode("utf-8", "replace") + "\n")
        out.flush()
PY
listener=$!
for i in $(seq 50); do [ -e "$dir/syslog.txt.ready" ] && break; sleep 0.1; done
"$probe" -D -i lo --bpf "udp port $port" --pidfile "$dir/s.pid" \
	--csv "$dir/s.csv" --stats-interval 1 >"$dir/s.out" 2>&1
echo "$?" >"$dir/s.rc"
sleep 1.5
kill -USR1 "$(cat "$dir/s.pid")"
sleep 0.5
kill -TERM "$(cat "$dir/s.pid")"
for i in $(seq 50); do [ -e "$dir/s.pid" ] || break; sleep 0.1; done
kill "$listener"
NS
mkdir -p "$tmp/sl"
if timeout 30 unshare -m --propagation private bash "$tmp/syslog_ns.sh" "$probe" "$tmp/sl" "$port" 2>"$tmp/sl.err"; then
	log="$tmp/sl/syslog.txt"
	if [ "$(cat "$tmp/sl/s.rc" 2>/dev/null)" = 0 ] && [ ! -s "$tmp/sl/s.out" ] &&
		grep -qE '^<30>.* streamprobe\[[0-9]+\]: started, pid' "$log" &&
		grep -qE '^<30>.*: status: packets' "$log" &&
		grep -qE '^<30>.*: counters: flows' "$log" &&
		grep -qE '^<30>.*: stopped, exit status 0' "$log"; then ok; else
		bad "syslog: daemon messages missing: $(head -c 600 "$log" 2>&1) $(cat "$tmp/sl/s.out" 2>/dev/null)"; fi
else
	echo "note: no private mount namespace here ($(head -c 200 "$tmp/sl.err")), syslog not checked"
fi

# ---- --immediate and --buffer-size: libpcap accepts them, capture works -----
"$probe" -i lo --bpf "udp port $port" --immediate --buffer-size 4194304 \
	--idle-timeout 1 --n-dissections 0 --csv "$tmp/imm.csv" 2>"$tmp/imm.err" &
ipid=$!
pids+=("$ipid")
sleep 1
send 3 0.05
if wait_for "$tmp/imm.csv" ",$port," 5; then ok; else
	bad "immediate: no flow within 5 s: $(tail -c 300 "$tmp/imm.err")"; fi
kill -TERM "$ipid"
wait "$ipid" || bad "immediate: exit status $?"

# ---- mass expiry on a quiet link ---------------------------------------------
# 20000 one-packet flows, then silence: they all end at the same idle timeout.
# The wall-clock pass hands the export thread no more than its queue holds and
# waits for it, so every flow is exported and none counted as dropped.
"$probe" -i lo --bpf "udp and dst portrange 40000-59999 and src port $port" \
	--idle-timeout 2 --n-dissections 0 --csv "$tmp/mass.csv" 2>"$tmp/mass.err" &
mpid=$!
pids+=("$mpid")
sleep 1
python3 - "$port" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
for dport in range(40000, 60000):  # no tunnel port (TZSP is 37008)
    s.sendto(b"x", ("127.0.0.1", dport))
PY
for ((i = 0; i < 100; i++)); do [ "$(rows "$tmp/mass.csv")" -ge 20000 ] && break; sleep 0.1; done
kill -TERM "$mpid"
wait "$mpid"
rc=$?
if [ "$rc" -eq 0 ] && [ "$(rows "$tmp/mass.csv")" -eq 20000 ] &&
	grep -q "flows: 20000 exported, 20000 idle, 0 active, 0 at end, 0 evicted (table full), 0 dropped (export queue full)" "$tmp/mass.err"; then ok; else
	bad "mass-expiry: exit $rc, $(rows "$tmp/mass.csv") rows: $(grep 'flows:' "$tmp/mass.err")"; fi

# ---- bounded drain: SIGTERM with the TCP collector down ---------------------
# The export queue cannot drain: the probe gives up after its 5 s bound, counts
# what it could not send, and still exits 0.
"$probe" -i lo --bpf "udp port $port" --idle-timeout 1 --n-dissections 0 \
	--export "ipfix+tcp://127.0.0.1:9" --csv "$tmp/down.csv" 2>"$tmp/down.err" &
dpid2=$!
pids+=("$dpid2")
sleep 1
send 3 0.05
sleep 2
t0=$(date +%s%N)
kill -TERM "$dpid2"
wait "$dpid2"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$rc" -eq 0 ] && [ "$ms" -le 8000 ] &&
	grep -qE 'ipfix\+tcp://127.0.0.1:9: [0-9]+ flows; 0 records in 0 messages \(0 bytes\) sent, [1-9][0-9]* records dropped' "$tmp/down.err"; then ok; else
	bad "drain-bounded: exit $rc after $ms ms: $(tail -c 400 "$tmp/down.err")"; fi

# ---- foreground: status lines, SIGUSR1, wall-clock active timeout, SIGINT ----
"$probe" -i lo --bpf "udp port $port" --idle-timeout 2 --active-timeout 2 \
	--stats-interval 1 --n-dissections 0 --csv "$tmp/f.csv" 2>"$tmp/f.err" &
fpid=$!
pids+=("$fpid")
wait_for "$tmp/f.err" "status: packets" 5 || bad "status-line: none within 5 s"
send 25 0.2	# 5 s of traffic, one flow
rows_running=$(rows "$tmp/f.csv")
kill -USR1 "$fpid"
if wait_for "$tmp/f.err" "counters: flows [0-9]+ created" 3 &&
	grep -q "counters: packets [0-9]* metered" "$tmp/f.err"; then ok; else
	bad "sigusr1: no counters logged: $(tail -c 300 "$tmp/f.err")"; fi
sleep 3.5	# idle timeout 2 s + 1 s flush + margin, no traffic
rows_idle=$(rows "$tmp/f.csv")
kill -INT "$fpid"
wait "$fpid"
rc=$?
if [ "$rc" -eq 0 ] && grep -q "stopping: flushing" "$tmp/f.err"; then ok; else
	bad "sigint: exit $rc: $(tail -c 300 "$tmp/f.err")"; fi
if [ "$(grep -c "status: packets" "$tmp/f.err")" -ge 4 ]; then ok; else
	bad "status-lines: expected one a second: $(grep -c "status: packets" "$tmp/f.err")"; fi
# 25 packets over ~5 s cut every 2 s of the wall clock: pieces exported while
# traffic still ran, all out before SIGINT, 25 packets in all.
if python3 - "$tmp/f.csv" "$rows_running" "$rows_idle" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
running, idle = int(sys.argv[2]), int(sys.argv[3])
active = [r for r in rows if r["expiration_id"] == "1"]
assert sum(int(r["bidirectional_packets"]) for r in rows) == 25, rows
assert len(active) >= 2, "pieces cut by active timeout: %d" % len(active)
assert running >= 2, "exported while running: %d" % running
assert idle == len(rows), "after the idle wait %d of %d" % (idle, len(rows))
# Every piece but the last runs while traffic does: cut ~2 s after its start.
# The last stops getting packets; its active timeout (2 s after its first
# packet) comes before its idle timeout (2 s after its last), so it is
# expiration_id 1 as well.
rows.sort(key=lambda r: int(r["bidirectional_first_seen_ms"]))
for r in rows:
    d = int(r["bidirectional_duration_ms"])
    assert r["expiration_id"] == "1", r
    assert d <= 2000, "piece of %d ms" % d
    assert r is rows[-1] or d >= 1600, "early cut: %d ms" % d
PY
then ok; else bad "wallclock-active: see above"; fi

echo "service: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
