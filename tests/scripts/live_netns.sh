#!/usr/bin/env bash
# live_netns.sh PROBE MAKE_DEMO_PCAP SHARED_DIR - live capture on a span port.
#
# Builds its own network: two network namespaces joined by a veth pair (MTU
# 9000, IPv6 off so the kernel sends nothing of its own, no addresses).
# tcpreplay plays captures into veth-a in namespace A; the probe captures on
# veth-b in namespace B, as on a switch's span port.  Everything stays in the
# namespaces and is removed at the end.  Checks:
#
#  1. live = file: for the demo capture and ten Ethernet captures of SHARED_DIR
#     (TLS, DNS, QUIC, IPv6 with 3.6 KB frames, VLAN, VXLAN, a SYN scan of
#     60-byte frames, FTP, Teams; none cut by a snaplen), the probe's flows from
#     reading the file (-r) and from capturing its replay (5000 packets/s) are
#     the same flows with the same packet and byte counts.  Timeouts are
#     effectively off (replay changes the timing); the live run is stopped with
#     SIGTERM once it has read every frame sent, its capture summary must show
#     no kernel drops (else the comparison means nothing) and exactly the
#     frames tcpreplay sent.  The live runs use --snaplen 65535: with the
#     default 1536, IPv6 packets longer than the snaplen are skipped as
#     "truncated IPv6 packet" (NFStream's documented quirk, README), IPv4 ones
#     are metered, so http_ipv6.pcap's 2.7-3.6 KB frames would differ.
#  2. wall-clock idle expiry: with --idle-timeout 3 and no traffic after a
#     burst, every flow reaches the CSV 3..5 s after its last packet while the
#     probe keeps running (nothing left to flush at SIGTERM).
#  3. SIGTERM during a replay: exit 0 and "stopping: flushing"; the IPFIX/TCP
#     collector (tcp_sink.py, in namespace B on 127.0.0.1) got every flow: as
#     many flow records as CSV rows and as the summary's "N exported", the same
#     flowIds and packet counts, flowEndReason 4 for the flows cut short, and
#     the CSV's packets add up to the packets metered.
#  3b. SIGTERM with 150,000 flows cached (far more than the 8,192-slot export
#     ring): a SYN flood from make_flood_pcap (every frame a new flow) is
#     replayed at top speed, the probe is stopped once it has read every frame,
#     and the IPFIX/TCP collector must get every flow, as check 3 verifies
#     (records = CSV rows = summary, packets = packets metered), with none
#     "dropped (export queue full)" and at least 100,000 flushed at the stop.
#  1t-3t. checks 1 (four captures), 2 and 3 again with --threads 2.
#  4. --user nobody: the running probe's real/effective/saved/fs uid and gid
#     are 65534 and root's groups are gone, the CSV it opened as root (in a
#     directory nobody cannot write) gets the demo's flows; once in the
#     foreground and once as a daemon (-D --pidfile).
#
# Exit 77 (skipped) when not root, without tcpreplay, or when network
# namespaces cannot be made.  Without SHARED_DIR the checks that need its
# captures fail with a message saying so; the demo-only checks still run.
# KEEP_TMP=1 in the environment keeps the work directory (probe stderr, CSVs).
set -uo pipefail
probe=${1:?usage: live_netns.sh PROBE MAKE_DEMO_PCAP SHARED_DIR}
make_demo=${2:?usage: live_netns.sh PROBE MAKE_DEMO_PCAP SHARED_DIR}
make_flood=$(dirname "$make_demo")/make_flood_pcap	# built beside it
shared=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
helper=$here/live_netns_check.py
t_start=$(date +%s.%N)

skip() { echo "live_netns: $*: skipped"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "network namespaces and live capture need root"
for tool in ip tcpreplay timeout pgrep python3; do
	command -v "$tool" >/dev/null 2>&1 ||
		skip "$tool not installed (bash tests/scripts/setup.sh installs it)"
done
[ -x "$probe" ] || { echo "FAIL: probe $probe not executable"; exit 1; }

tmp=$(mktemp -d /tmp/live_netns.XXXXXX)
chmod 700 "$tmp"	# root only: user nobody can neither write to nor enter it
nsA=spA$$ nsB=spB$$
cleanup() {
	local p ns left
	# Our background jobs (jobs -p: children not yet reaped, so no pid reuse)
	# and whatever still runs in our own namespaces (the daemon of check 4):
	# our processes, ended by their ids.
	left=$(jobs -p)
	for ns in "$nsA" "$nsB"; do
		left+=" $(ip netns pids "$ns" 2>/dev/null)"
	done
	if [ -n "${left// /}" ]; then
		for p in $left; do kill -TERM "$p" 2>/dev/null; done
		sleep 0.3
		for p in $left; do kill -KILL "$p" 2>/dev/null; done
	fi
	wait 2>/dev/null
	ip netns del "$nsA" 2>/dev/null
	ip netns del "$nsB" 2>/dev/null
	[ -n "${KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

pass=0 fail=0
# Checks 1t-3t repeat some checks with several meters: threads holds the
# probe's extra options then (every probe run), tag names them.
threads=()
tag=
ok() { pass=$((pass + 1)); echo "ok   $*$tag"; }
bad() { fail=$((fail + 1)); echo "FAIL $*$tag"; }

# ---- the network ----------------------------------------------------------
ip netns add "$nsA" 2>"$tmp/ns.err" ||
	skip "cannot create a network namespace: $(cat "$tmp/ns.err")"
ip netns add "$nsB" 2>"$tmp/ns.err" ||
	skip "cannot create a network namespace: $(cat "$tmp/ns.err")"
for ns in "$nsA" "$nsB"; do
	# No IPv6 before any link is up: no DAD, router or MLD frames of the
	# kernel's own for the probe to see.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 2>>"$tmp/ns.err" ||
		skip "cannot disable IPv6 in a namespace: $(cat "$tmp/ns.err")"
done
# Made directly inside the namespaces: no name clash in the root namespace.
if ! ip link add veth-a netns "$nsA" mtu 9000 type veth \
	peer name veth-b netns "$nsB" mtu 9000 2>"$tmp/ns.err" ||
	! ip -n "$nsA" link set veth-a up 2>>"$tmp/ns.err" ||
	! ip -n "$nsB" link set veth-b up 2>>"$tmp/ns.err" ||
	! ip -n "$nsB" link set lo up 2>>"$tmp/ns.err"; then
	skip "cannot set up the veth pair: $(cat "$tmp/ns.err")"
fi
for ns in "$nsA" "$nsB"; do
	for t in $(seq 50); do	# carrier on both ends
		ip -n "$ns" -o link show up 2>/dev/null | grep -q 'veth-.*LOWER_UP' &&
			break
		sleep 0.1
	done
done

# ---- helpers ----------------------------------------------------------------
# probe_start NAME OPTIONS...: the probe on veth-b in namespace B, stderr to
# $tmp/NAME.err; returns once it has printed its first status line (it is then
# in its capture loop).  Sets wrap_pid (the `timeout` around it, whose exit
# status is the probe's) and probe_pid.
probe_start() {
	local name=$1 i
	shift
	ip netns exec "$nsB" timeout -s TERM 90 "$probe" -i veth-b \
		--stats-interval 1 "${threads[@]}" "$@" >"$tmp/$name.out" \
		2>"$tmp/$name.err" &
	wrap_pid=$!
	probe_pid=
	for i in $(seq 100); do
		[ -z "$probe_pid" ] && probe_pid=$(pgrep -P "$wrap_pid" | head -1)
		grep -q '^streamprobe: status:' "$tmp/$name.err" && break
		kill -0 "$wrap_pid" 2>/dev/null || break
		sleep 0.05
	done
	if ! grep -q '^streamprobe: status:' "$tmp/$name.err" || [ -z "$probe_pid" ]; then
		kill -TERM "$wrap_pid" 2>/dev/null
		wait "$wrap_pid" 2>/dev/null
		msg="probe did not start capturing within 5 s: $(head -c 400 "$tmp/$name.err")"
		return 1
	fi
	return 0
}

# probe_stop: SIGTERM to the probe, wait for it; sets probe_rc (its exit status).
probe_stop() {
	kill -TERM "${probe_pid:-$wrap_pid}" 2>/dev/null
	wait "$wrap_pid"
	probe_rc=$?
}

# replay PCAP TCPREPLAY-OPTIONS...: plays PCAP into veth-a; sets sent (frames
# sent) and returns 1 (with a message) when tcpreplay failed or some frame
# could not be sent.
replay() {
	local pcap=$1 failed
	shift
	ip netns exec "$nsA" timeout 60 tcpreplay -i veth-a "$@" "$pcap" \
		>"$tmp/replay.out" 2>&1 || {
		msg="tcpreplay failed: $(tail -c 300 "$tmp/replay.out")"
		return 1
	}
	sent=$(sed -n 's/^[[:space:]]*Successful packets:[[:space:]]*\([0-9]*\).*/\1/p' "$tmp/replay.out")
	failed=$(sed -n 's/^[[:space:]]*Failed packets:[[:space:]]*\([0-9]*\).*/\1/p' "$tmp/replay.out")
	if [ -z "$sent" ] || [ "${failed:-0}" -ne 0 ]; then
		msg="tcpreplay sent ${sent:-?} frames, ${failed:-?} failed: $(tail -c 300 "$tmp/replay.out")"
		return 1
	fi
	return 0
}

# wait_read NAME N: until a status line says N packets were read (5 s at most).
wait_read() {
	local name=$1 want=$2 i got
	for i in $(seq 50); do
		got=$(sed -n 's/^streamprobe: status: packets \([0-9]*\) read.*/\1/p' \
			"$tmp/$name.err" | tail -1)
		[ "${got:-0}" -ge "$want" ] && return 0
		sleep 0.1
	done
	return 1
}

# capture_stats NAME: sets cap_recv, cap_kdrop, cap_ifdrop from the summary.
capture_stats() {
	local line
	line=$(grep '^streamprobe: capture: ' "$tmp/$1.err" | tail -1)
	cap_recv=$(sed -n 's/.*capture: \([0-9]*\) received.*/\1/p' <<<"$line")
	cap_kdrop=$(sed -n 's/.* \([0-9]*\) dropped by kernel.*/\1/p' <<<"$line")
	cap_ifdrop=$(sed -n 's/.* \([0-9]*\) dropped by interface.*/\1/p' <<<"$line")
}

# The timeouts of the live = file runs: ten years, the most the probe takes.
notimeouts=(--idle-timeout 315360000 --active-timeout 315360000)

# live_vs_file NAME PCAP: check 1 for one capture.
live_vs_file() {
	local name=$1 pcap=$2 out n
	if ! timeout 60 "$probe" -r "$pcap" "${threads[@]}" "${notimeouts[@]}" \
		--csv "$tmp/$name.file.csv" 2>"$tmp/$name.file.err"; then
		bad "live=file $name: reading the file failed: $(tail -c 300 "$tmp/$name.file.err")"
		return
	fi
	if ! probe_start "$name.live" "${notimeouts[@]}" --snaplen 65535 \
		--csv "$tmp/$name.live.csv"; then
		bad "live=file $name: $msg"
		return
	fi
	if ! replay "$pcap" --pps 5000; then
		probe_stop
		bad "live=file $name: $msg"
		return
	fi
	wait_read "$name.live" "$sent"
	probe_stop
	if [ "$probe_rc" -ne 0 ]; then
		bad "live=file $name: live probe exit $probe_rc after SIGTERM: $(tail -c 300 "$tmp/$name.live.err")"
		return
	fi
	capture_stats "$name.live"
	if [ -z "$cap_recv" ]; then
		bad "live=file $name: no \"capture: N received\" summary: $(tail -c 300 "$tmp/$name.live.err")"
		return
	fi
	if [ "$cap_kdrop" != 0 ] || [ "$cap_ifdrop" != 0 ]; then
		bad "live=file $name: the kernel dropped $cap_kdrop frames (interface $cap_ifdrop) of $sent: the live capture is incomplete, the comparison is not meaningful"
		return
	fi
	if [ "$cap_recv" -ne "$sent" ]; then
		bad "live=file $name: tcpreplay sent $sent frames, the probe's capture received $cap_recv"
		return
	fi
	if n=$(python3 "$helper" compare "$tmp/$name.file.csv" "$tmp/$name.live.csv"); then
		ok "live=file $name: $n flows, $sent frames, counts identical"
	else
		bad "live=file $name: live flows differ from the file's"
		echo "$n"
	fi
}

# ---- 1. live = file -------------------------------------------------------------
if ! timeout 30 "$make_demo" "$tmp/demo.pcap" >/dev/null 2>"$tmp/demo.err"; then
	bad "cannot make the demo capture: $(cat "$tmp/demo.err")"
	echo "$pass passed, $fail failed"
	exit 1
fi
demo_flows=$(python3 "$helper" count <(timeout 30 "$probe" -r "$tmp/demo.pcap" 2>/dev/null)) ||
	demo_flows=0
[ "$demo_flows" -gt 0 ] 2>/dev/null || { bad "the demo capture gives no flows from the file"; demo_flows=0; }
live_vs_file demo "$tmp/demo.pcap"

# Ethernet (DLT 1), frames complete (caplen = wire length), at most 3633 bytes
# (the MTU is 9000), spans under ten years; varied protocols.
shared_caps=(
	443-firefox.pcap	# TLS 1.2, one long flow, 667 frames
	1kxun.pcap		# HTTP, DNS, UDP, some IPv6; 1439 frames
	dns-tunnel-iodine.pcap	# DNS, 438 frames
	http_ipv6.pcap		# IPv6 TCP and UDP, frames up to 3633 bytes
	mongodb.pcap		# 802.1Q VLAN, TCP
	vxlan.pcap		# VLAN + VXLAN tunnel (tunnel_id)
	quic_t51.pcap		# QUIC (UDP), 642 frames
	synscan.pcap		# 2011 frames of 60 bytes, many short flows
	ftp.pcap		# FTP control and data, 1192 frames
	teams.pcap		# TCP + UDP, 2817 frames
)
pcaps=
if [ -z "$shared" ] || [ ! -d "$shared/pcaps" ]; then
	bad "shared data not found: '${shared:-<no SHARED_DIR argument>}/pcaps' is missing; the live = file comparison of ${#shared_caps[@]} shared captures and the SIGTERM check need it"
else
	pcaps=$shared/pcaps
	for c in "${shared_caps[@]}"; do
		if [ -f "$pcaps/$c" ]; then
			live_vs_file "${c%.pcap}" "$pcaps/$c"
		else
			bad "live=file ${c%.pcap}: $pcaps/$c is missing"
		fi
	done
fi

# ---- 2. wall-clock idle expiry ------------------------------------------------
check_idle() {
	local out
	rm -f "$tmp/idle.polling"
	if ! probe_start idle --idle-timeout 3 --csv "$tmp/idle.csv"; then
		bad "idle expiry: $msg"
		return
	fi
	# The poller notes when each row appears; the replay starts once it polls.
	python3 "$helper" idle "$tmp/idle.csv" "$demo_flows" 3000 5000 12 \
		"$tmp/idle.polling" >"$tmp/idle.check" &
	local poller=$!
	for t in $(seq 50); do [ -e "$tmp/idle.polling" ] && break; sleep 0.05; done
	if ! replay "$tmp/demo.pcap" --topspeed; then
		kill "$poller" 2>/dev/null
		probe_stop
		bad "idle expiry: $msg"
		return
	fi
	wait "$poller"
	local prc=$?
	local running=yes
	kill -0 "$probe_pid" 2>/dev/null || running=no
	probe_stop
	if [ "$prc" -ne 0 ]; then
		bad "idle expiry: flows not exported 3..5 s after their last packet (idle timeout 3 s):"
		cat "$tmp/idle.check"
	elif [ "$running" != yes ]; then
		bad "idle expiry: the probe was no longer running when the flows appeared: $(tail -c 300 "$tmp/idle.err")"
	elif [ "$probe_rc" -ne 0 ]; then
		bad "idle expiry: probe exit $probe_rc after SIGTERM: $(tail -c 300 "$tmp/idle.err")"
	elif ! grep -qE "^streamprobe: flows: $demo_flows exported, $demo_flows idle, 0 active, 0 at end" "$tmp/idle.err"; then
		bad "idle expiry: expected all $demo_flows flows idle-expired before SIGTERM, summary: $(grep '^streamprobe: flows:' "$tmp/idle.err")"
	else
		ok "idle expiry: $(cat "$tmp/idle.check")"
	fi
}
check_idle

# ---- 3. SIGTERM in the middle of a replay ------------------------------------
check_sigterm() {
	local out port rc cap=$pcaps/synscan.pcap
	if [ -z "$pcaps" ] || [ ! -f "$cap" ]; then
		bad "sigterm: needs ${pcaps:-SHARED_DIR/pcaps}/synscan.pcap (shared data missing)"
		return
	fi
	if ! command -v ipfixDump >/dev/null 2>&1; then
		bad "sigterm: ipfixDump not installed (libfixbuf-tools; bash tests/scripts/setup.sh)"
		return
	fi
	rm -rf "$tmp/sink" "$tmp/sink.port"
	mkdir -p "$tmp/sink"
	ip netns exec "$nsB" timeout 90 python3 "$here/tcp_sink.py" --dir "$tmp/sink" \
		--port-file "$tmp/sink.port" --quiet 2>"$tmp/sink.err" &
	local sink=$!
	for t in $(seq 100); do [ -s "$tmp/sink.port" ] && break; sleep 0.05; done
	if ! port=$(cat "$tmp/sink.port" 2>/dev/null) || [ -z "$port" ]; then
		bad "sigterm: tcp_sink.py did not start: $(cat "$tmp/sink.err")"
		return
	fi
	if ! probe_start sigterm --export "ipfix+tcp://127.0.0.1:$port" \
		--csv "$tmp/sigterm.csv"; then
		bad "sigterm: $msg"
		return
	fi
	# 2011 frames at 350/s: about 5.7 s; the probe is stopped after 3 s.
	ip netns exec "$nsA" timeout 60 tcpreplay -i veth-a --pps 350 "$cap" \
		>"$tmp/replay3.out" 2>&1 &
	local rp=$!
	sleep 3
	local replaying=yes
	kill -0 "$rp" 2>/dev/null || replaying=no
	probe_stop
	rc=$probe_rc
	kill -TERM "$rp" 2>/dev/null
	wait "$rp" 2>/dev/null
	kill -TERM "$sink" 2>/dev/null
	wait "$sink"
	local sink_rc=$?
	local streams=("$tmp"/sink/conn-*.ipfix)
	if [ "$rc" -ne 0 ]; then
		bad "sigterm: probe exit $rc after SIGTERM, expected 0: $(tail -c 400 "$tmp/sigterm.err")"
	elif ! grep -q '^streamprobe: stopping: flushing [0-9]* flows' "$tmp/sigterm.err"; then
		bad "sigterm: no \"stopping: flushing N flows\" on stderr: $(tail -c 400 "$tmp/sigterm.err")"
	elif [ "$replaying" != yes ]; then
		bad "sigterm: the replay had ended before SIGTERM (not a mid-replay stop)"
	elif [ "$sink_rc" -ne 0 ]; then
		bad "sigterm: tcp_sink.py exit $sink_rc: $(cat "$tmp/sink.err")"
	elif [ "${#streams[@]}" -ne 1 ] || [ ! -f "${streams[0]}" ]; then
		bad "sigterm: expected one TCP connection at the collector, found: $(ls "$tmp/sink")"
	elif out=$(python3 "$helper" ipfix "${streams[0]}" "$tmp/sigterm.csv" "$tmp/sigterm.err"); then
		ok "sigterm: mid-replay stop after $(sed -n 's/^streamprobe: packets: \([0-9]*\) read.*/\1/p' "$tmp/sigterm.err") frames, exit 0, collector got $out = CSV = summary"
	else
		bad "sigterm: flows lost or inconsistent at shutdown:"
		echo "$out"
	fi
}
check_sigterm

# ---- 3b. SIGTERM with more flows cached than the export ring holds ---------
check_sigterm_many() {
	local flows=150000 port sink sink_rc out flushed dropped streams
	if ! timeout 60 "$make_flood" "$tmp/flood.pcap" "$flows" 2>"$tmp/flood.err"; then
		bad "sigterm many: make_flood_pcap failed: $(cat "$tmp/flood.err")"
		return
	fi
	mkdir -p "$tmp/sink2"
	ip netns exec "$nsB" timeout 120 python3 "$here/tcp_sink.py" --dir "$tmp/sink2" \
		--port-file "$tmp/sink2.port" --quiet 2>"$tmp/sink2.err" &
	sink=$!
	for t in $(seq 100); do [ -s "$tmp/sink2.port" ] && break; sleep 0.05; done
	if ! port=$(cat "$tmp/sink2.port" 2>/dev/null) || [ -z "$port" ]; then
		bad "sigterm many: tcp_sink.py did not start: $(cat "$tmp/sink2.err")"
		return
	fi
	# A 64 MB kernel buffer takes the whole flood; DPI off keeps it short.
	if ! probe_start many --n-dissections 0 --buffer-size 67108864 \
		--export "ipfix+tcp://127.0.0.1:$port" --csv "$tmp/many.csv"; then
		bad "sigterm many: $msg"
		return
	fi
	if ! replay "$tmp/flood.pcap" --topspeed; then
		probe_stop
		bad "sigterm many: $msg"
		return
	fi
	wait_read many "$sent" || sleep 2
	probe_stop
	kill -TERM "$sink" 2>/dev/null
	wait "$sink"
	sink_rc=$?
	streams=("$tmp"/sink2/conn-*.ipfix)
	flushed=$(sed -n 's/^streamprobe: stopping: flushing \([0-9]*\) flows.*/\1/p' "$tmp/many.err")
	dropped=$(sed -n 's/.* \([0-9]*\) dropped (export queue full).*/\1/p' "$tmp/many.err" | tail -1)
	if [ "$probe_rc" -ne 0 ]; then
		bad "sigterm many: probe exit $probe_rc after SIGTERM: $(tail -c 400 "$tmp/many.err")"
	elif [ "${flushed:-0}" -lt 100000 ]; then
		bad "sigterm many: expected 100000+ flows cached at SIGTERM, stderr says \"${flushed:-nothing}\" ($sent frames sent)"
	elif [ "${dropped:-x}" != 0 ]; then
		bad "sigterm many: ${dropped:-?} flows dropped (export queue full): $(grep '^streamprobe: flows:' "$tmp/many.err")"
	elif [ "$sink_rc" -ne 0 ]; then
		bad "sigterm many: tcp_sink.py exit $sink_rc: $(cat "$tmp/sink2.err")"
	elif [ "${#streams[@]}" -ne 1 ] || [ ! -f "${streams[0]}" ]; then
		bad "sigterm many: expected one TCP connection at the collector, found: $(ls "$tmp/sink2")"
	elif out=$(python3 "$helper" ipfix "${streams[0]}" "$tmp/many.csv" "$tmp/many.err"); then
		ok "sigterm many: $flushed flows cached at SIGTERM, collector got $out = CSV = summary, none dropped"
	else
		bad "sigterm many: flows lost or inconsistent at shutdown:"
		echo "$out"
	fi
}
check_sigterm_many

# ---- 1t-3t. several meters (--threads 2) ------------------------------------
# The reader thread hashes each packet to one of two meter threads: live =
# file (the demo and three shared captures), wall-clock idle expiry on the
# meter threads, and a SIGTERM mid-replay that must flush both meters' flows
# to the collector, checked as above.
threads=(--threads 2)
tag=" (--threads 2)"
live_vs_file demo "$tmp/demo.pcap"
if [ -n "$pcaps" ]; then
	for c in 1kxun.pcap vxlan.pcap teams.pcap; do
		live_vs_file "${c%.pcap}" "$pcaps/$c"
	done
fi
check_idle
check_sigterm
threads=()
tag=

# ---- 5. kernel drops reported ---------------------------------------------------
# The probe is frozen (SIGSTOP) with a small kernel buffer while frames arrive,
# so the kernel must drop most of them.  Its drop counter then shows in the
# status line, in the summary, and in the IPFIX statistics record:
# ignoredPacketTotalCount = packets skipped by decode + kernel + interface
# drops (RFC 7011 4.2, observed but not metered).
check_drops() {
	local cap=$tmp/demo.pcap dump last want
	if ! probe_start drops --buffer-size 65536 --n-dissections 0 \
		--export "ipfix+file://$tmp/drops.ipfix" --csv /dev/null; then
		bad "drops: $msg"
		return
	fi
	kill -STOP "$probe_pid"
	msg=
	replay "$cap" --topspeed --loop 200
	local rrc=$? rmsg=$msg
	kill -CONT "$probe_pid"
	sleep 2.2	# two status lines after the thaw
	probe_stop
	capture_stats drops
	last=$(grep '^streamprobe: status:' "$tmp/drops.err" | tail -1)
	dump=$(timeout 60 ipfixDump --in "$tmp/drops.ipfix" --rfc5610 2>&1)
	got=$(sed -n 's/.*ignoredPacketTotalCount *: *\([0-9]*\).*/\1/p' <<<"$dump" | tail -1)
	skipped=$(sed -n 's/^streamprobe: packets: [0-9]* read, [0-9]* metered, \([0-9]*\) skipped.*/\1/p' "$tmp/drops.err")
	want=$(( ${skipped:-0} + ${cap_kdrop:-0} + ${cap_ifdrop:-0} ))
	if [ "$rrc" -ne 0 ]; then
		bad "drops: $rmsg"
	elif [ "$probe_rc" -ne 0 ]; then
		bad "drops: probe exit $probe_rc: $(tail -c 300 "$tmp/drops.err")"
	elif [ "${cap_kdrop:-0}" -le 0 ]; then
		bad "drops: the kernel dropped nothing while the probe was frozen ($sent frames sent)"
	elif ! grep -q "dropped ${cap_kdrop} by kernel" <<<"$last"; then
		bad "drops: last status line does not show the $cap_kdrop kernel drops: $last"
	elif [ "${got:-x}" != "$want" ]; then
		bad "drops: IPFIX ignoredPacketTotalCount ${got:-missing}, expected $skipped skipped + $cap_kdrop + $cap_ifdrop dropped = $want"
	else
		ok "drops: $cap_kdrop of $sent frames dropped by the kernel while frozen: in the status line, the summary and ignoredPacketTotalCount ($want)"
	fi
}
check_drops

# ---- 4. --user nobody ---------------------------------------------------------
# ids_ok PID: real, effective, saved and fs uid and gid are nobody's, and no
# supplementary group of root's is left.  Prints the problem.
nobody_uid=$(id -u nobody 2>/dev/null)
nobody_gid=$(id -g nobody 2>/dev/null)
ids_ok() {
	local st=/proc/$1/status uid gid groups
	uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "$st" 2>/dev/null)
	gid=$(awk '/^Gid:/ {print $2, $3, $4, $5}' "$st" 2>/dev/null)
	groups=$(awk '/^Groups:/ {$1 = ""; print}' "$st" 2>/dev/null)
	if [ "$uid" != "$nobody_uid $nobody_uid $nobody_uid $nobody_uid" ] ||
		[ "$gid" != "$nobody_gid $nobody_gid $nobody_gid $nobody_gid" ]; then
		echo "pid $1: Uid: $uid, Gid: $gid; expected $nobody_uid and $nobody_gid"
		return 1
	fi
	for g in $groups; do
		if [ "$g" != "$nobody_gid" ]; then
			echo "pid $1 kept supplementary group $g (Groups:$groups)"
			return 1
		fi
	done
	return 0
}

check_user() {
	local out
	if ! probe_start user --user nobody "${notimeouts[@]}" \
		--csv "$tmp/user.csv"; then
		bad "user nobody: $msg"
		return
	fi
	local idmsg
	idmsg=$(ids_ok "$probe_pid")
	local idrc=$?
	if ! replay "$tmp/demo.pcap" --pps 5000; then
		probe_stop
		bad "user nobody: $msg"
		return
	fi
	wait_read user "$sent"
	probe_stop
	if [ "$idrc" -ne 0 ]; then
		bad "user nobody: $idmsg"
	elif [ "$probe_rc" -ne 0 ]; then
		bad "user nobody: probe exit $probe_rc after SIGTERM: $(tail -c 300 "$tmp/user.err")"
	elif ! out=$(python3 "$helper" compare "$tmp/demo.file.csv" "$tmp/user.csv"); then
		bad "user nobody: the CSV does not hold the demo's flows:"
		echo "$out"
	else
		ok "user nobody: uid/gid $nobody_uid/$nobody_gid, no root groups, $out demo flows in the CSV opened as root, exit 0"
	fi
}

check_daemon() {
	local out rc pid t
	ip netns exec "$nsB" timeout 30 "$probe" -i veth-b -D --pidfile "$tmp/daemon.pid" \
		--user nobody "${notimeouts[@]}" --csv "$tmp/daemon.csv" \
		>"$tmp/daemon.out" 2>"$tmp/daemon.err"
	rc=$?
	pid=$(cat "$tmp/daemon.pid" 2>/dev/null)
	if [ "$rc" -ne 0 ]; then
		bad "daemon: -D returned $rc, expected 0 once the daemon is ready: $(head -c 300 "$tmp/daemon.err")"
		[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
		return
	fi
	if ! [ "$pid" -gt 1 ] 2>/dev/null || [ ! -d "/proc/$pid" ]; then
		bad "daemon: no running process for the pid file's '$pid'"
		return
	fi
	local idmsg idrc
	idmsg=$(ids_ok "$pid")
	idrc=$?
	replay "$tmp/demo.pcap" --pps 5000
	local rrc=$?
	sleep 0.5	# the probe wakes every 100 ms; its stderr is syslog
	kill -TERM "$pid"
	for t in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
	if [ -d "/proc/$pid" ]; then
		bad "daemon: pid $pid still running 10 s after SIGTERM"
		kill -KILL "$pid" 2>/dev/null
	elif [ "$idrc" -ne 0 ]; then
		bad "daemon: $idmsg"
	elif [ "$rrc" -ne 0 ]; then
		bad "daemon: $msg"
	elif ! out=$(python3 "$helper" compare "$tmp/demo.file.csv" "$tmp/daemon.csv"); then
		bad "daemon: the CSV does not hold the demo's flows:"
		echo "$out"
	else
		ok "daemon: -D returned 0, pid $pid from the pid file runs as $nobody_uid/$nobody_gid, $out demo flows in the CSV, gone after SIGTERM"
	fi
}
if [ -z "$nobody_uid" ] || [ -z "$nobody_gid" ]; then
	bad "user nobody: no user nobody on this system"
else
	check_user
	check_daemon
fi

echo "live_netns: $(awk -v s="$t_start" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}') s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
